#include "server/fivetran/errors.h"

#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "google/rpc/error_details.pb.h"
#include "nlohmann/json.hpp"

namespace fivetran_gateway::fivetran {
namespace {

google::rpc::ErrorInfo InfoOf(const absl::Status& s) {
  google::rpc::ErrorInfo info;
  auto payload = s.GetPayload(kErrorInfoUrl);
  EXPECT_TRUE(payload.has_value()) << s;
  if (payload) info.ParseFromString(std::string(*payload));
  return info;
}

HttpResponse Response(int status, std::string body, std::string type = "application/json") {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.content_type = std::move(type);
  return r;
}

const UpstreamOp kGet{"GET", "/v1/groups"};
const UpstreamOp kPost{"POST", "/v1/connections"};
const absl::Time kNow = absl::FromUnixSeconds(1790000000);

TEST(RetryAfterTest, DeltaSeconds) {
  EXPECT_EQ(ParseRetryAfter("1800", kNow), absl::Seconds(1800));
  EXPECT_EQ(ParseRetryAfter(" 0 ", kNow), absl::ZeroDuration());
}

TEST(RetryAfterTest, HttpDateForms) {
  absl::Time later = kNow + absl::Seconds(90);
  std::string imf = absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", later, absl::UTCTimeZone());
  EXPECT_EQ(ParseRetryAfter(imf, kNow), absl::Seconds(90));
  std::string rfc850 = absl::FormatTime("%A, %d-%b-%y %H:%M:%S GMT", later, absl::UTCTimeZone());
  EXPECT_EQ(ParseRetryAfter(rfc850, kNow), absl::Seconds(90));
  std::string asctime = absl::FormatTime("%a %b %e %H:%M:%S %Y", later, absl::UTCTimeZone());
  EXPECT_EQ(ParseRetryAfter(asctime, kNow), absl::Seconds(90));
}

TEST(RetryAfterTest, PastDateIsZeroAndGarbageIsNothing) {
  std::string past =
      absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", kNow - absl::Hours(1), absl::UTCTimeZone());
  EXPECT_EQ(ParseRetryAfter(past, kNow), absl::ZeroDuration());
  EXPECT_EQ(ParseRetryAfter("", kNow), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("soon", kNow), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("-5", kNow), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("99999999999999999999", kNow), std::nullopt);
  // absl::ParseTime's special words are not HTTP-dates (found by fuzzing).
  EXPECT_EQ(ParseRetryAfter("infinite-future", kNow), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("infinite-past", kNow), std::nullopt);
}

TEST(StatusFromHttpErrorTest, RateLimitCarriesRetryInfo) {  // Field report B2.
  HttpResponse r = Response(
      429,
      R"({"code":"TooManyRequests","message":"Max 20000 api calls allowed in one-hour rolling time period"})");
  r.retry_after = "1800";
  absl::Status s = StatusFromHttpError(r, kGet, kNow);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(s.message().find("Max 20000 api calls"), absl::string_view::npos);
  google::rpc::ErrorInfo info = InfoOf(s);
  EXPECT_EQ(info.reason(), "FIVETRAN_RATE_LIMITED");
  EXPECT_EQ(info.domain(), "fivetran-gateway");
  EXPECT_EQ(info.metadata().at("fivetran_code"), "TooManyRequests");
  EXPECT_EQ(info.metadata().at("http_status"), "429");
  google::rpc::RetryInfo retry;
  ASSERT_TRUE(retry.ParseFromString(std::string(*s.GetPayload(kRetryInfoUrl))));
  EXPECT_EQ(retry.retry_delay().seconds(), 1800);
}

TEST(StatusFromHttpErrorTest, CodeTable) {  // conventions.md, field reports B9, B10.
  struct Case {
    int http;
    absl::StatusCode code;
    const char* reason;
  } cases[] = {
      {400, absl::StatusCode::kInvalidArgument, "FIVETRAN_INVALID_INPUT"},
      {401, absl::StatusCode::kUnauthenticated, "FIVETRAN_AUTH_FAILED"},
      {403, absl::StatusCode::kPermissionDenied, "FIVETRAN_PERMISSION_DENIED"},
      {404, absl::StatusCode::kNotFound, "FIVETRAN_NOT_FOUND"},
      {405, absl::StatusCode::kInternal, "GATEWAY_BAD_REQUEST"},
      {406, absl::StatusCode::kInternal, "GATEWAY_BAD_REQUEST"},
      {415, absl::StatusCode::kInternal, "GATEWAY_BAD_REQUEST"},
      {409, absl::StatusCode::kFailedPrecondition, "FIVETRAN_CONFLICT"},
      {500, absl::StatusCode::kInternal, "FIVETRAN_SERVER_ERROR"},
      {502, absl::StatusCode::kUnavailable, "FIVETRAN_UNAVAILABLE"},
      {503, absl::StatusCode::kUnavailable, "FIVETRAN_UNAVAILABLE"},
      {504, absl::StatusCode::kUnavailable, "FIVETRAN_UNAVAILABLE"},
      // Issue 11 F: Gone is a resource that no longer exists; a request or
      // URI too large is the caller's input (ids, filters, config) grown too
      // big; 501 is a method Fivetran does not implement.
      {410, absl::StatusCode::kNotFound, "FIVETRAN_NOT_FOUND"},
      {413, absl::StatusCode::kInvalidArgument, "FIVETRAN_INVALID_INPUT"},
      {414, absl::StatusCode::kInvalidArgument, "FIVETRAN_INVALID_INPUT"},
      {501, absl::StatusCode::kUnimplemented, "GATEWAY_BAD_REQUEST"},
  };
  for (const Case& c : cases) {
    absl::Status s = StatusFromHttpError(
        Response(c.http, R"({"code":"Some_Code","message":"upstream says"})"), kGet, kNow);
    EXPECT_EQ(s.code(), c.code) << c.http;
    EXPECT_EQ(InfoOf(s).reason(), c.reason) << c.http;
    EXPECT_EQ(InfoOf(s).metadata().at("http_status"), std::to_string(c.http));
  }
}

TEST(StatusFromHttpErrorTest, NotFoundKeepsMessageAndDoesNotBlameCredentials) {  // B9.
  absl::Status s = StatusFromHttpError(
      Response(
          404,
          R"({"code":"NotFound_Connection","message":"Connection with id 'x' does not exist."})"),
      {"GET", "/v1/connections/x"}, kNow);
  EXPECT_EQ(s.message(), "Connection with id 'x' does not exist.");
  EXPECT_EQ(s.message().find("key"), absl::string_view::npos);
  EXPECT_EQ(InfoOf(s).metadata().at("fivetran_code"), "NotFound_Connection");
}

TEST(StatusFromHttpErrorTest, PermissionMessageKept) {  // B10.
  absl::Status s = StatusFromHttpError(
      Response(
          403,
          R"({"code":"Forbidden","message":"Access denied. Required permission: ACCOUNT_READ"})"),
      kGet, kNow);
  EXPECT_NE(s.message().find("Required permission: ACCOUNT_READ"), absl::string_view::npos);
}

TEST(StatusFromHttpErrorTest, HtmlBadGatewayIsUnavailableWithoutHtml) {
  absl::Status s = StatusFromHttpError(
      Response(502, "<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"), kGet, kNow);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(s.message().find("<html>"), absl::string_view::npos);
  EXPECT_NE(s.message().find("text/html"), absl::string_view::npos);
}

TEST(StatusFromHttpErrorTest, CredentialsAreScrubbed) {
  absl::Status s = StatusFromHttpError(
      Response(401, R"({"code":"AuthFailed","message":"bad key k3y for secret s3cr3t"})"), kGet,
      kNow, std::vector<std::string>{"k3y", "s3cr3t"});
  EXPECT_EQ(s.message().find("k3y"), absl::string_view::npos);
  EXPECT_EQ(s.message().find("s3cr3t"), absl::string_view::npos);
}

// Issue 11 A: a 401's message may quote the request, Authorization header
// included; it is never passed on. Fivetran's code still is.
TEST(StatusFromHttpErrorTest, UnauthenticatedNeverPassesFivetransMessageOn) {
  const std::string b64 = "ZDljNDUxMTM0OWRkNGI4NjoxZjZmMmQxNjEzNjU4ODhhMTk0MzE2MGNjZGI4ZDk2OA==";
  for (const std::string& message :
       {"Invalid credentials in header Authorization: Basic " + b64, std::string("x"),
        std::string("Something we have never seen")}) {
    absl::Status s = StatusFromHttpError(
        Response(401, nlohmann::json{{"code", "AuthFailed"}, {"message", message}}.dump()), kGet,
        kNow, std::vector<std::string>{"d9c4511349dd4b86", "1f6f2d161365888a1943160ccdb8d968"});
    EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
    EXPECT_EQ(s.message(), "Fivetran rejected the API key and secret (HTTP 401)");
    EXPECT_EQ(InfoOf(s).metadata().at("fivetran_code"), "AuthFailed");
  }
}

// Issue 11 B: the secret is searched for in Fivetran's raw text, before it
// is normalised or cut; every status that passes a message on, every echo
// shape, the message and the fivetran_code metadata.
TEST(StatusFromHttpErrorTest, SecretsAreScrubbedBeforeTheTextIsNormalisedOrCut) {
  const std::string spaced = "correct  horse-Secret";
  const std::string accented =
      "gr\xC3\xBC\xC3\x9F"
      "e-pw-7731";
  struct Row {
    std::string secret;
    std::string message;
    std::vector<std::string> leaks;  // None may survive.
  } rows[] = {
      {spaced, "bad password " + spaced, {spaced, "correct horse", "horse-Secret"}},
      {spaced, "bad password 'correct\thorse-Secret'", {"correct horse", "horse-Secret"}},
      {spaced, std::string(285, 'x') + " " + spaced, {"correct", "horse"}},
      {accented, "bad password " + accented, {"gr e-pw-7731", "pw-7731"}},
      {accented, "bad " + absl::Base64Escape(accented), {absl::Base64Escape(accented)}},
  };
  for (const Row& r : rows) {
    for (int http : {400, 403, 404, 409, 429, 500, 503}) {
      SCOPED_TRACE(absl::StrCat(http, " ", r.message));
      absl::Status s = StatusFromHttpError(
          Response(http, nlohmann::json{{"code", r.message}, {"message", r.message}}.dump()), kPost,
          kNow, std::vector<std::string>{r.secret});
      const std::string code = InfoOf(s).metadata().at("fivetran_code");
      for (const std::string& leak : r.leaks) {
        EXPECT_EQ(s.message().find(leak), absl::string_view::npos) << s.message();
        EXPECT_EQ(code.find(leak), std::string::npos) << code;
      }
      EXPECT_LE(s.message().size(), 400u);
    }
  }
}

TEST(StatusFromHttpErrorTest, PostServerErrorSaysOutcomeUnknown) {  // B23.
  absl::Status s = StatusFromHttpError(Response(503, ""), kPost, kNow);
  EXPECT_EQ(InfoOf(s).metadata().at("outcome"), "unknown");
  absl::Status get = StatusFromHttpError(Response(503, ""), kGet, kNow);
  EXPECT_EQ(InfoOf(get).metadata().count("outcome"), 0u);
}

TEST(StatusFromTransportErrorTest, Kinds) {
  EXPECT_EQ(StatusFromTransportError({TransportFailure::kDeadlineExceeded, "x"}, kGet).code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(StatusFromTransportError({TransportFailure::kCancelled, "x"}, kGet).code(),
            absl::StatusCode::kCancelled);
  absl::Status refused = StatusFromTransportError({TransportFailure::kNotSent, "refused"}, kPost);
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(InfoOf(refused).metadata().at("outcome"), "not_sent");
  absl::Status dropped = StatusFromTransportError({TransportFailure::kMaybeSent, "reset"}, kPost);
  EXPECT_EQ(InfoOf(dropped).metadata().at("outcome"), "unknown");
}

TEST(StatusFromTransportErrorTest, DeadlineBeforeSendingSaysNotSent) {
  // A POST whose deadline passed while it waited for a connection was never
  // sent: the caller may create again without checking first.
  absl::Status s = StatusFromTransportError(
      {TransportFailure::kDeadlineExceededNotSent, "deadline exceeded before the request was sent"},
      kPost);
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(InfoOf(s).reason(), "DEADLINE_EXCEEDED");
  EXPECT_EQ(InfoOf(s).metadata().at("outcome"), "not_sent");
  EXPECT_EQ(s.message(), "deadline exceeded before the request was sent");
  // A sent POST that ran out of time may have been applied.
  absl::Status sent =
      StatusFromTransportError({TransportFailure::kDeadlineExceeded, "deadline exceeded"}, kPost);
  EXPECT_EQ(InfoOf(sent).metadata().at("outcome"), "unknown");
}

TEST(SanitizeSnippetTest, KeepsPrintableAndBounds) {
  EXPECT_EQ(SanitizeSnippet("a\n\tb\x01  c"), "a b c");
  EXPECT_EQ(SanitizeSnippet(std::string(500, 'x'), 10), "xxxxxxxxxx...");
}

}  // namespace
}  // namespace fivetran_gateway::fivetran
