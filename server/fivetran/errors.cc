#include "server/fivetran/errors.h"

#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "google/rpc/error_details.pb.h"
#include "server/fivetran/mapping.h"

namespace fivetran_gateway::fivetran {
std::optional<absl::Duration> ParseRetryAfter(absl::string_view value, absl::Time now) {
  value = absl::StripAsciiWhitespace(value);
  if (value.empty()) return std::nullopt;
  int64_t seconds = 0;
  if (std::all_of(value.begin(), value.end(), [](char c) { return absl::ascii_isdigit(c); })) {
    if (value.size() > 10 || !absl::SimpleAtoi(value, &seconds)) return std::nullopt;
    return absl::Seconds(seconds);
  }
  // HTTP-date (RFC 9110 IMF-fixdate); the obsolete RFC 850 and asctime forms too.
  static constexpr const char* kFormats[] = {
      "%a, %d %b %Y %H:%M:%S GMT",
      "%A, %d-%b-%y %H:%M:%S GMT",
      "%a %b %e %H:%M:%S %Y",
  };
  for (const char* format : kFormats) {
    absl::Time t;
    std::string err;
    // absl::ParseTime also accepts the words "infinite-future" and
    // "infinite-past" whatever the format (found by fuzzing).
    if (absl::ParseTime(format, std::string(value), absl::UTCTimeZone(), &t, &err) &&
        t != absl::InfiniteFuture() && t != absl::InfinitePast()) {
      return std::max(absl::ZeroDuration(), t - now);
    }
  }
  return std::nullopt;
}

std::string SanitizeSnippet(absl::string_view text, size_t max) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

namespace {

// How one HTTP error status maps to the gateway's error (README "Errors"):
// a table, one case per status Fivetran is known to send.
struct HttpErrorClass {
  absl::StatusCode code = absl::StatusCode::kUnknown;
  std::string reason;
  std::string message;
  bool outcome_unknown = false;  // A mutating request may have been applied.
};

HttpErrorClass ClassifyHttpError(const HttpResponse& response, const UpstreamOp& op,
                                 const FivetranError& body, const std::string& upstream_message,
                                 bool body_is_json) {
  const int http = response.status;
  HttpErrorClass out;
  switch (http) {
    case 400:
    case 422:
      out.code = absl::StatusCode::kInvalidArgument;
      out.reason = "FIVETRAN_INVALID_INPUT";
      out.message = absl::StrCat("Fivetran rejected the request: ",
                                 upstream_message.empty() ? "invalid input" : upstream_message);
      break;
    case 401:
      out.code = absl::StatusCode::kUnauthenticated;
      out.reason = "FIVETRAN_AUTH_FAILED";
      // Never Fivetran's message: it may quote the request, its
      // Authorization header included. Its code stays in the metadata.
      out.message = "Fivetran rejected the API key and secret (HTTP 401)";
      break;
    case 403:
      out.code = absl::StatusCode::kPermissionDenied;
      out.reason = "FIVETRAN_PERMISSION_DENIED";
      out.message = absl::StrCat("Fivetran denied access: ",
                                 upstream_message.empty() ? "forbidden" : upstream_message);
      break;
    case 404:
    case 410:  // Gone: it existed and no longer does.
      out.code = absl::StatusCode::kNotFound;
      out.reason = "FIVETRAN_NOT_FOUND";
      out.message =
          upstream_message.empty() ? absl::StrCat("not found: ", op.path) : upstream_message;
      break;
    case 413:
    case 414:
      // Payload or URI too large: what made it large is the caller's input
      // (ids, filters, config), so the caller must change it.
      out.code = absl::StatusCode::kInvalidArgument;
      out.reason = "FIVETRAN_INVALID_INPUT";
      out.message =
          absl::StrCat("Fivetran refused the request as too large (HTTP ", http, ")",
                       upstream_message.empty() ? "" : absl::StrCat(": ", upstream_message));
      break;
    case 501:
      // Fivetran does not implement what the gateway asked for.
      out.code = absl::StatusCode::kUnimplemented;
      out.reason = "GATEWAY_BAD_REQUEST";
      out.message =
          absl::StrCat("Fivetran does not implement this request (HTTP 501)",
                       upstream_message.empty() ? "" : absl::StrCat(": ", upstream_message));
      break;
    case 405:
    case 406:
    case 415:
      out.code = absl::StatusCode::kInternal;
      out.reason = "GATEWAY_BAD_REQUEST";
      out.message =
          absl::StrCat("Fivetran refused the gateway's request as malformed (HTTP ", http,
                       "); this is a gateway bug",
                       upstream_message.empty() ? "" : absl::StrCat(": ", upstream_message));
      break;
    case 409:
      out.reason = "FIVETRAN_CONFLICT";
      out.code = absl::AsciiStrToLower(body.message).find("already exist") != std::string::npos ||
                         absl::StrContains(body.code, "AlreadyExists")
                     ? absl::StatusCode::kAlreadyExists
                     : absl::StatusCode::kFailedPrecondition;
      out.message = absl::StrCat("Fivetran reported a conflict: ",
                                 upstream_message.empty() ? "conflict" : upstream_message);
      break;
    case 429:
      out.code = absl::StatusCode::kResourceExhausted;
      out.reason = "FIVETRAN_RATE_LIMITED";
      out.message =
          absl::StrCat("Fivetran rate limit reached",
                       upstream_message.empty() ? "" : absl::StrCat(": ", upstream_message));
      break;
    case 500:
      out.code = absl::StatusCode::kInternal;
      out.reason = "FIVETRAN_SERVER_ERROR";
      out.outcome_unknown = op.mutating();
      out.message =
          absl::StrCat("Fivetran failed with HTTP 500",
                       upstream_message.empty() ? "" : absl::StrCat(": ", upstream_message));
      break;
    default:
      if (http >= 500 || http == 408) {
        out.code = absl::StatusCode::kUnavailable;
        out.reason = "FIVETRAN_UNAVAILABLE";
        out.outcome_unknown = op.mutating();
        out.message = absl::StrCat("Fivetran is unavailable (HTTP ", http, ")");
        if (!upstream_message.empty()) {
          absl::StrAppend(&out.message, ": ", upstream_message);
        } else if (!body_is_json) {
          absl::StrAppend(&out.message, ", body was ",
                          response.content_type.empty()
                              ? "not JSON"
                              : SanitizeSnippet(response.content_type, 60));
        }
      } else {
        out.code = absl::StatusCode::kInternal;
        out.reason = "FIVETRAN_BAD_RESPONSE";
        out.message = absl::StrCat("unexpected HTTP ", http, " from Fivetran");
      }
      break;
  }
  return out;
}

}  // namespace

absl::Status StatusFromHttpError(const HttpResponse& response, const UpstreamOp& op, absl::Time now,
                                 absl::Span<const std::string> scrub) {
  const int http = response.status;
  FivetranError body = ParseFivetranError(response.body);
  const bool body_is_json = !body.code.empty() || !body.message.empty() ||
                            absl::StartsWith(absl::StripAsciiWhitespace(response.body), "{");
  // Secrets are searched for in Fivetran's raw text first: normalising or
  // cutting it could split or reshape a secret so that it no longer
  // matches. Once more after normalising, for echoes whose white space or
  // non-ASCII characters Fivetran changed (SecretForms has those shapes).
  auto clean = [&](absl::string_view text, size_t max) {
    return Scrub(SanitizeSnippet(Scrub(text, scrub), max), scrub);
  };
  std::string upstream_message = clean(body.message, 300);
  HttpErrorClass c = ClassifyHttpError(response, op, body, upstream_message, body_is_json);
  if (c.outcome_unknown) {
    absl::StrAppend(&c.message, "; the request may have been applied: check before retrying");
  }
  std::map<std::string, std::string> metadata = {
      {"http_status", absl::StrCat(http)},
      {"upstream_method", op.method},
      {"upstream_path", op.path},
  };
  if (!body.code.empty()) metadata["fivetran_code"] = clean(body.code, 80);
  if (c.outcome_unknown) metadata["outcome"] = "unknown";
  absl::Status status = MakeError(c.code, c.message, c.reason, metadata);
  if (http == 429) {
    std::optional<absl::Duration> delay = ParseRetryAfter(response.retry_after, now);
    // Without a usable Retry-After, suggest a conservative pause; never 0,
    // which would invite a hot retry loop.
    AddRetryInfo(status, std::max(delay.value_or(absl::Seconds(60)), absl::Seconds(1)));
  }
  return status;
}

absl::Status StatusFromTransportError(const TransportError& error, const UpstreamOp& op) {
  std::map<std::string, std::string> metadata = {
      {"upstream_method", op.method},
      {"upstream_path", op.path},
  };
  switch (error.failure) {
    case TransportFailure::kDeadlineExceeded:
      if (op.mutating()) metadata["outcome"] = "unknown";
      return MakeError(
          absl::StatusCode::kDeadlineExceeded,
          absl::StrCat(error.message, op.mutating() ? "; the request may have been applied" : ""),
          "DEADLINE_EXCEEDED", metadata);
    case TransportFailure::kDeadlineExceededNotSent:
      // It waited for a free upstream connection: nothing reached Fivetran.
      metadata["outcome"] = "not_sent";
      return MakeError(absl::StatusCode::kDeadlineExceeded, error.message, "DEADLINE_EXCEEDED",
                       metadata);
    case TransportFailure::kCancelled:
      if (op.mutating()) metadata["outcome"] = "unknown";
      return MakeError(absl::StatusCode::kCancelled, error.message, "CANCELLED", metadata);
    case TransportFailure::kResponseTooLarge:
      return MakeError(absl::StatusCode::kInternal,
                       absl::StrCat("Fivetran's response was too large: ", error.message),
                       "FIVETRAN_BAD_RESPONSE", metadata);
    case TransportFailure::kNotSent:
      metadata["outcome"] = "not_sent";
      return MakeError(absl::StatusCode::kUnavailable,
                       absl::StrCat("cannot reach Fivetran: ", SanitizeSnippet(error.message, 200)),
                       "FIVETRAN_UNAVAILABLE", metadata);
    case TransportFailure::kMaybeSent:
    case TransportFailure::kNone:
    default:
      if (op.mutating()) metadata["outcome"] = "unknown";
      return MakeError(
          absl::StatusCode::kUnavailable,
          absl::StrCat(
              "connection to Fivetran failed: ", SanitizeSnippet(error.message, 200),
              op.mutating() ? "; the request may have been applied: check before retrying" : ""),
          "FIVETRAN_UNAVAILABLE", metadata);
  }
}

}  // namespace fivetran_gateway::fivetran
