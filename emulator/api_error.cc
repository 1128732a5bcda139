#include "emulator/api_error.h"

#include <cstdlib>
#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/types/optional.h"

namespace fivetran_emulator {
namespace {

constexpr char kCodePayload[] = "fivetran_emulator/code";
constexpr char kHttpPayload[] = "fivetran_emulator/http";

absl::StatusCode CanonicalFor(int http_status) {
  switch (http_status) {
    case 400:
      return absl::StatusCode::kInvalidArgument;
    case 401:
      return absl::StatusCode::kUnauthenticated;
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
      return absl::StatusCode::kNotFound;
    case 405:
      return absl::StatusCode::kUnimplemented;
    case 409:
      return absl::StatusCode::kAlreadyExists;
    case 429:
      return absl::StatusCode::kResourceExhausted;
    case 502:
    case 503:
    case 504:
      return absl::StatusCode::kUnavailable;
    default:
      if (http_status >= 400 && http_status < 500) return absl::StatusCode::kFailedPrecondition;
      return absl::StatusCode::kInternal;
  }
}

int HttpFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kUnimplemented:
      return 405;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

}  // namespace

absl::Status ApiError(int http_status, absl::string_view fivetran_code, absl::string_view message) {
  absl::Status status(CanonicalFor(http_status), message);
  status.SetPayload(kCodePayload, absl::Cord(fivetran_code));
  status.SetPayload(kHttpPayload, absl::Cord(std::to_string(http_status)));
  return status;
}

absl::Status InvalidInput(absl::string_view message) {
  return ApiError(400, "InvalidInput", message);
}

absl::Status NotFoundError(absl::string_view code, absl::string_view msg) {
  return ApiError(404, code, msg);
}

absl::Status ConflictError(absl::string_view message) { return ApiError(409, "Conflict", message); }

int HttpStatusOf(const absl::Status& status) {
  absl::optional<absl::Cord> http = status.GetPayload(kHttpPayload);
  int value = 0;
  if (http.has_value() && absl::SimpleAtoi(std::string(*http), &value) && value >= 100 &&
      value <= 599) {
    return value;
  }
  return HttpFor(status.code());
}

std::string FivetranCodeOf(const absl::Status& status) {
  absl::optional<absl::Cord> code = status.GetPayload(kCodePayload);
  if (code.has_value()) return std::string(*code);
  return DefaultCodeForHttpStatus(HttpStatusOf(status));
}

std::string DefaultCodeForHttpStatus(int http_status) {
  switch (http_status) {
    case 400:
      return "InvalidInput";
    case 401:
      return "AuthFailed";
    case 403:
      return "Forbidden";
    case 404:
      return "NotFound";
    case 405:
      return "MethodNotAllowed";
    case 406:
      return "NotAcceptable";
    case 409:
      return "Conflict";
    case 413:
      return "PayloadTooLarge";
    case 415:
      return "UnsupportedMediaType";
    case 429:
      return "TooManyRequests";
    case 500:
      return "InternalError";
    case 502:
      return "BadGateway";
    case 503:
      return "ServiceUnavailable";
    case 504:
      return "GatewayTimeout";
    default:
      return http_status >= 500 ? "InternalError" : "BadRequest";
  }
}

std::string ReasonPhrase(int http_status) {
  switch (http_status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 409:
      return "Conflict";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Error";
  }
}

}  // namespace fivetran_emulator
