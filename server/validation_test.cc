#include "server/validation.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "google/rpc/error_details.pb.h"
#include "server/common/status.h"

namespace fivetran_gateway {
namespace {

TEST(ValidateIdTest, AcceptsFivetranIds) {
  EXPECT_TRUE(ValidateId("connection_id", "decent_dropsy").ok());
  EXPECT_TRUE(ValidateId("connection_id", "a1b2c3d4e5f60718293a4b5c6d7e8f90").ok());
  EXPECT_TRUE(ValidateId("connection_id", std::string(256, 'a')).ok());
}

TEST(ValidateIdTest, RejectsEverythingThatCouldChangeTheUrl) {
  for (const std::string& id : std::vector<std::string>{"",
                                                        "../users",
                                                        "..",
                                                        ".",
                                                        "a/b",
                                                        "a?b=1",
                                                        "a#b",
                                                        "a%2Fb",
                                                        "a b",
                                                        "a\tb",
                                                        "a\nb",
                                                        std::string("a\0b", 3),
                                                        "a\\b",
                                                        std::string(257, 'a'),
                                                        "a..b",
                                                        "\x7f",
                                                        "a\xc2\xa0"
                                                        "b",
                                                        "a\xe2\x80\xae"
                                                        "b",
                                                        "\xef\xbb\xbf"
                                                        "a",
                                                        "caf\xc3\xa9"}) {
    absl::Status s = ValidateId("connection_id", id);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << id;
    google::rpc::BadRequest bad;
    ASSERT_TRUE(bad.ParseFromString(std::string(*s.GetPayload(kBadRequestUrl))));
    EXPECT_EQ(bad.field_violations(0).field(), "connection_id");
  }
}

TEST(ValidateFilterTest, BoundsLength) {
  EXPECT_TRUE(ValidateFilter("schema", "ftp_ingest.orders").ok());
  EXPECT_TRUE(ValidateFilter("schema", std::string(1024, 's')).ok());
  EXPECT_EQ(ValidateFilter("schema", std::string(1025, 's')).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PageSizeTest, Aip158Rules) {
  EXPECT_EQ(*EffectivePageSize(0), 100);
  EXPECT_EQ(*EffectivePageSize(1), 1);
  EXPECT_EQ(*EffectivePageSize(1000), 1000);
  EXPECT_EQ(*EffectivePageSize(1001), 1000);
  EXPECT_EQ(*EffectivePageSize(2147483647), 1000);
  EXPECT_EQ(EffectivePageSize(-1).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PageTokenTest, RoundTripAndScope) {
  std::string token = EncodePageToken("eyJza2lwIjozfQ", "groups");
  ASSERT_FALSE(token.empty());
  EXPECT_EQ(*DecodePageToken(token, "groups"), "eyJza2lwIjozfQ");
  EXPECT_EQ(DecodePageToken(token, "users").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(EncodePageToken("", "groups"), "");
  EXPECT_EQ(*DecodePageToken("", "groups"), "");
}

TEST(PageTokenTest, LongUpstreamCursorsRoundTrip) {
  std::string cursor(3500, 'c');
  EXPECT_EQ(*DecodePageToken(EncodePageToken(cursor, "groups"), "groups"), cursor);
}

TEST(PageTokenTest, GarbageIsInvalidArgument) {
  for (const char* t : {"not a token", "cDE6eDp5", "%%%", "cDE6MTIzNDU2Nzg5MDEyMzQ1Njo="}) {
    EXPECT_EQ(DecodePageToken(t, "groups").status().code(), absl::StatusCode::kInvalidArgument)
        << t;
  }
}

TEST(PageTokenTest, SignedTokensRoundTripUnderTheSameKeyOnly) {
  const std::string key(32, 'k');
  std::string token = EncodePageToken("eyJza2lwIjozfQ", "groups", key);
  EXPECT_EQ(*DecodePageToken(token, "groups", key), "eyJza2lwIjozfQ");
  // Another replica with the same key accepts it; any other key does not.
  EXPECT_EQ(DecodePageToken(token, "groups", std::string(32, 'x')).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodePageToken(token, "users", key).status().code(),
            absl::StatusCode::kInvalidArgument);
  // An unsigned token is refused once tokens are signed.
  EXPECT_EQ(
      DecodePageToken(EncodePageToken("eyJza2lwIjozfQ", "groups"), "groups", key).status().code(),
      absl::StatusCode::kInvalidArgument);
}

TEST(PageTokenTest, AlteringASignedTokenIsRefused) {
  const std::string key(32, 'k');
  std::string raw;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(EncodePageToken("cursor-1", "groups", key), &raw));
  for (size_t i = 0; i < raw.size(); ++i) {
    std::string changed = raw;
    changed[i] ^= 0x01;
    absl::StatusOr<std::string> decoded =
        DecodePageToken(absl::WebSafeBase64Escape(changed), "groups", key);
    ASSERT_FALSE(decoded.ok()) << "byte " << i;
    EXPECT_EQ(ErrorReasonOf(decoded.status()), "INVALID_PAGE_TOKEN");
  }
  // A cursor of one's own choosing, appended to a valid token.
  EXPECT_FALSE(DecodePageToken(absl::WebSafeBase64Escape(raw + "x"), "groups", key).ok());
}

}  // namespace
}  // namespace fivetran_gateway
