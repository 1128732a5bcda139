// The one adapter from absl::Status (used everywhere inside) to grpc::Status
// with a serialized google.rpc.Status carrying the error details.
#ifndef FIVETRAN_GATEWAY_SERVER_GRPC_STATUS_H_
#define FIVETRAN_GATEWAY_SERVER_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include <cstddef>

#include "absl/status/status.h"

namespace fivetran_gateway {

// The longest status message sent; a longer one is cut, with "...".
inline constexpr size_t kMaxStatusMessage = 2048;

// The message is made one line (control characters and non-ASCII bytes
// escaped, as OneLine in server/common/safe_text.h) and bounded.
// Every payload of `status` keyed by a type.googleapis.com URL becomes an
// Any in google.rpc.Status.details. A non-OK status without an ErrorInfo
// gets one (reason derived from the code), so callers always find exactly
// one.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace fivetran_gateway

#endif  // FIVETRAN_GATEWAY_SERVER_GRPC_STATUS_H_
