#include "server/fivetran/errors.h"

#include <gtest/gtest.h>

#include "google/rpc/error_details.pb.h"

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

TEST(SanitizeSnippetTest, KeepsPrintableAndBounds) {
  EXPECT_EQ(SanitizeSnippet("a\n\tb\x01  c"), "a b c");
  EXPECT_EQ(SanitizeSnippet(std::string(500, 'x'), 10), "xxxxxxxxxx...");
}

}  // namespace
}  // namespace fivetran_gateway::fivetran
