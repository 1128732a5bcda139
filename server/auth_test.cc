#include "server/auth.h"

#include <gtest/gtest.h>

#include <cctype>
#include <string>

#include "google/rpc/error_details.pb.h"
#include "server/common/status.h"

namespace fivetran_gateway {
namespace {

constexpr char kReadToken[] = "read-token-0123456789";
constexpr char kWriteToken[] = "write-token-0123456789";
constexpr char kHashedToken[] = "hashed-token-0123456789";

TokenStore Store() {
  std::string text = std::string("# tokens\n\nread ") + kReadToken + "\n  write\t" + kWriteToken +
                     "  \nwrite sha256:" + Sha256Hex(kHashedToken) + "\n";
  absl::StatusOr<TokenStore> store = TokenStore::Parse(text);
  EXPECT_TRUE(store.ok()) << store.status();
  return *store;
}

std::string ReasonOf(const absl::Status& s) {
  google::rpc::ErrorInfo info;
  auto payload = s.GetPayload(kErrorInfoUrl);
  if (!payload.has_value() || !info.ParseFromString(std::string(*payload))) return "";
  return info.reason();
}

TEST(Sha256Test, KnownVector) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(TokenStoreTest, FindsScopes) {
  TokenStore store = Store();
  EXPECT_EQ(store.size(), 3u);
  EXPECT_EQ(store.Find(kReadToken), Scope::kRead);
  EXPECT_EQ(store.Find(kWriteToken), Scope::kWrite);
  EXPECT_EQ(store.Find(kHashedToken), Scope::kWrite);
  EXPECT_EQ(store.Find("read-token-012345678"), std::nullopt);
  EXPECT_EQ(store.Find(""), std::nullopt);
}

TEST(TokenStoreTest, RejectsBadLinesWithoutEchoingTokens) {
  for (const char* text :
       {"admin some-long-token-value\n", "read\n", "read a-token-value-long-enough extra\n",
        "read short\n", "read sha256:abcd\n", "read sha256:" /* no hex */,
        "read dup-token-0123456789\nwrite dup-token-0123456789\n"}) {
    absl::StatusOr<TokenStore> store = TokenStore::Parse(text);
    EXPECT_FALSE(store.ok()) << text;
    EXPECT_EQ(store.status().message().find("token-"), absl::string_view::npos) << store.status();
  }
}

// Issue 11 #9: a line that looks like a digest but is not exactly
// `sha256:` + 64 hex digits used to load as a literal token (the real token
// was refused and the digest text itself accepted). It stops the start-up,
// naming the line and never the text.
TEST(TokenStoreTest, ADigestLookalikeIsRefusedNotTakenAsALiteralToken) {
  const std::string hex = Sha256Hex(kHashedToken);
  std::string upper_hex = hex;
  for (char& c : upper_hex) c = static_cast<char>(std::toupper(c));
  for (const std::string& value :
       {"SHA256:" + hex, "Sha256:" + hex, "sha256=" + hex, "sha-256:" + hex, "SHA-256:" + hex,
        "sha256:" + hex + "0", "sha256:" + hex.substr(1), "sha256:" + hex.substr(0, 63) + "g",
        "sha256::" + hex, "sha512:" + hex + hex, "sha1:" + hex.substr(0, 40),
        "md5:" + hex.substr(0, 32)}) {
    absl::StatusOr<TokenStore> store = TokenStore::Parse("# c\nwrite " + value + "\n");
    ASSERT_FALSE(store.ok()) << value;
    EXPECT_EQ(store.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(store.status().message().find("line 2"), absl::string_view::npos) << store.status();
    EXPECT_NE(store.status().message().find("sha256:"), absl::string_view::npos) << store.status();
    EXPECT_EQ(store.status().message().find(hex.substr(0, 16)), absl::string_view::npos)
        << store.status();
  }
  // The documented form, with lowercase or uppercase hex digits.
  for (const std::string& value : {"sha256:" + hex, "sha256:" + upper_hex}) {
    absl::StatusOr<TokenStore> store = TokenStore::Parse("write " + value + "\n");
    ASSERT_TRUE(store.ok()) << value << " " << store.status();
    EXPECT_EQ(store->Find(kHashedToken), Scope::kWrite);
    EXPECT_EQ(store->Find(value), std::nullopt);
  }
}

TEST(TokenStoreTest, ALiteralTokenIsAtLeastSixteenPrintableAsciiCharacters) {
  EXPECT_FALSE(TokenStore::Parse("read 0123456789abcde\n").ok());  // 15
  EXPECT_TRUE(TokenStore::Parse("read 0123456789abcdef\n").ok());  // 16
  // Bytes that no gRPC metadata value can carry: such a token could never
  // be presented, so it is a mistake in the file.
  absl::StatusOr<TokenStore> utf8 = TokenStore::Parse("read 0123456789abcdef\xc3\xa9\n");
  ASSERT_FALSE(utf8.ok());
  EXPECT_NE(utf8.status().message().find("line 1"), absl::string_view::npos);
  EXPECT_FALSE(TokenStore::Parse("read 0123456789abcdef\x01\n").ok());
}

// A UTF-8 byte order mark (Windows editors write one) is skipped: the first
// line is read as written.
TEST(TokenStoreTest, AUtf8ByteOrderMarkIsSkipped) {
  absl::StatusOr<TokenStore> store = TokenStore::Parse(
      std::string("\xef\xbb\xbfread ") + kReadToken + "\r\nwrite " + kWriteToken + "\r\n");
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(store->Find(kReadToken), Scope::kRead);
  EXPECT_EQ(store->Find(kWriteToken), Scope::kWrite);
  // Anywhere else it is an error.
  EXPECT_FALSE(TokenStore::Parse(std::string("read ") + kReadToken + "\n\xef\xbb\xbfwrite " +
                                 kWriteToken + "\n")
                   .ok());
}

TEST(BearerTokenTest, Parses) {
  EXPECT_EQ(BearerToken("Bearer abc"), "abc");
  EXPECT_EQ(BearerToken("bearer   abc "), "abc");
  EXPECT_EQ(BearerToken("Basic abc"), std::nullopt);
  EXPECT_EQ(BearerToken("Bearer "), std::nullopt);
  EXPECT_EQ(BearerToken("abc"), std::nullopt);
}

TEST(AuthorizeTest, CodesAndReasons) {
  TokenStore store = Store();
  std::string read = std::string("Bearer ") + kReadToken;
  std::string write = std::string("Bearer ") + kWriteToken;
  const RequiredAccess get = RequiredScope(v1::GetConnectionRequest());

  absl::Status missing = Authorize(store, std::nullopt, get);
  EXPECT_EQ(missing.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(ReasonOf(missing), "UNAUTHENTICATED");

  absl::Status wrong = Authorize(store, "Bearer nope-nope-nope-nope", get);
  EXPECT_EQ(wrong.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(wrong.message().find("nope"), absl::string_view::npos);

  EXPECT_EQ(Authorize(store, "Basic xyz", get).code(), absl::StatusCode::kUnauthenticated);

  v1::WatchConnectionSyncRequest watch;
  watch.set_connection_id("c");
  for (const RequiredAccess& a : {get, RequiredScope(v1::ListGroupsRequest()),
                                  RequiredScope(v1::ListGroupConnectionsRequest()),
                                  RequiredScope(v1::ListUsersRequest()), RequiredScope(watch)}) {
    EXPECT_EQ(a.scope, Scope::kRead) << a.action;
    EXPECT_TRUE(Authorize(store, read, a).ok()) << a.action;
    EXPECT_TRUE(Authorize(store, write, a).ok()) << a.action;
  }
}

// Issue 11 #6: the scope follows what the call does, not only its method. A
// watch that triggers (or forces) a sync sends POST .../sync, as
// SyncConnection does, so it needs `write`.
TEST(AuthorizeTest, ACallThatChangesSomethingNeedsWriteWhateverItsMethod) {
  TokenStore store = Store();
  std::string read = std::string("Bearer ") + kReadToken;
  std::string write = std::string("Bearer ") + kWriteToken;
  v1::WatchConnectionSyncRequest trigger;
  trigger.set_trigger(true);
  v1::WatchConnectionSyncRequest force;
  force.set_force(true);
  v1::WatchConnectionSyncRequest both = trigger;
  both.set_force(true);
  for (const RequiredAccess& a :
       {RequiredScope(v1::CreateConnectionRequest()),
        RequiredScope(v1::CreateFtpConnectionRequest()), RequiredScope(v1::SyncConnectionRequest()),
        RequiredScope(trigger), RequiredScope(force), RequiredScope(both)}) {
    EXPECT_EQ(a.scope, Scope::kWrite) << a.action;
    absl::Status denied = Authorize(store, read, a);
    EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied) << a.action;
    EXPECT_EQ(ReasonOf(denied), "PERMISSION_DENIED");
    EXPECT_NE(denied.message().find(a.action), absl::string_view::npos) << denied;
    EXPECT_EQ(denied.message().find(kReadToken), absl::string_view::npos);
    EXPECT_TRUE(Authorize(store, write, a).ok()) << a.action;
  }
  EXPECT_EQ(RequiredScope(trigger).action, "WatchConnectionSync with trigger");
}

TEST(LoopbackTest, Addresses) {
  for (const char* a : {"127.0.0.1:50051", "127.1.2.3:0", "localhost:1", "LocalHost:1",
                        "[::1]:50051", "unix:/tmp/sock", "[::ffff:127.0.0.1]:5"}) {
    EXPECT_TRUE(IsLoopbackListenAddress(a)) << a;
  }
  // Issue 11 #18: names under .localhost are not resolved by the check, and
  // a resolver may map them anywhere: only literal loopback addresses and
  // `localhost` itself count.
  for (const char* a :
       {"0.0.0.0:50051", "[::]:50051", ":50051", "10.0.0.5:1", "example.com:1", "[2001:db8::1]:1",
        "foo.localhost:1", "evil.example.localhost:1", "localhost.:1", "127.0.0.1.nip.io:1"}) {
    EXPECT_FALSE(IsLoopbackListenAddress(a)) << a;
  }
}

}  // namespace
}  // namespace fivetran_gateway
