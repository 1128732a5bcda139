// The gateway's error statuses, in one place: absl::Status carrying
// google.rpc details as payloads keyed by their type URLs (an ErrorInfo on
// every error; a RetryInfo or BadRequest where it applies).
// server/grpc_status.h turns them into a google.rpc.Status at the gRPC edge.
#ifndef FIVETRAN_GATEWAY_SERVER_COMMON_STATUS_H_
#define FIVETRAN_GATEWAY_SERVER_COMMON_STATUS_H_

#include <map>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace fivetran_gateway {

// google.rpc.ErrorInfo.domain of every gateway error.
inline constexpr absl::string_view kErrorDomain = "fivetran-gateway";
inline constexpr absl::string_view kErrorInfoUrl = "type.googleapis.com/google.rpc.ErrorInfo";
inline constexpr absl::string_view kRetryInfoUrl = "type.googleapis.com/google.rpc.RetryInfo";
inline constexpr absl::string_view kBadRequestUrl = "type.googleapis.com/google.rpc.BadRequest";

// Builds a status with an ErrorInfo; `reason` is an ErrorReason name without
// its "ERROR_REASON_" prefix (error_reason.proto).
absl::Status MakeError(absl::StatusCode code, absl::string_view message, absl::string_view reason,
                       const std::map<std::string, std::string>& metadata = {});
// The same, plus a BadRequest field violation naming `field`.
absl::Status MakeFieldError(absl::StatusCode code, absl::string_view field,
                            absl::string_view message, absl::string_view reason);
// Adds or replaces one ErrorInfo metadata entry of `status`.
void AddErrorMetadata(absl::Status& status, absl::string_view key, absl::string_view value);
// Adds a RetryInfo with `delay`.
void AddRetryInfo(absl::Status& status, absl::Duration delay);

// The ErrorInfo reason of `status`; "" when it has none.
std::string ErrorReasonOf(const absl::Status& status);
// One ErrorInfo metadata value of `status`; "" when absent.
std::string ErrorMetadataOf(const absl::Status& status, absl::string_view key);
// The RetryInfo delay of `status`, if it carries one.
std::optional<absl::Duration> RetryDelayOf(const absl::Status& status);

}  // namespace fivetran_gateway

#endif  // FIVETRAN_GATEWAY_SERVER_COMMON_STATUS_H_
