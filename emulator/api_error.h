// Errors inside the emulator are absl::Status values that also carry the
// Fivetran error `code` string and the HTTP status to answer with.
#ifndef EMULATOR_API_ERROR_H_
#define EMULATOR_API_ERROR_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace fivetran_emulator {

// Builds an error for HTTP status `http_status` with the Fivetran error code
// `fivetran_code` (e.g. "NotFound_Connection") and a human readable message.
absl::Status ApiError(int http_status, absl::string_view fivetran_code, absl::string_view message);

// Shorthands for the common cases.
absl::Status InvalidInput(absl::string_view message);                       // 400
absl::Status NotFoundError(absl::string_view code, absl::string_view msg);  // 404
absl::Status ConflictError(absl::string_view message);                      // 409

// The HTTP status for `status` (payload if present, else derived from the
// canonical code). OK maps to 200.
int HttpStatusOf(const absl::Status& status);

// The Fivetran error code for `status` (payload if present, else a default
// derived from the HTTP status).
std::string FivetranCodeOf(const absl::Status& status);

// The default Fivetran error code for an HTTP status, e.g. 503 ->
// "ServiceUnavailable".
std::string DefaultCodeForHttpStatus(int http_status);

// The standard reason phrase, e.g. 503 -> "Service Unavailable".
std::string ReasonPhrase(int http_status);

}  // namespace fivetran_emulator

#endif  // EMULATOR_API_ERROR_H_
