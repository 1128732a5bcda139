// The one adapter from absl::Status (used everywhere inside) to grpc::Status
// with a serialized google.rpc.Status carrying the error details.
#ifndef FIVETRAN_GATEWAY_SERVER_GRPC_STATUS_H_
#define FIVETRAN_GATEWAY_SERVER_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace fivetran_gateway {

// Every payload of `status` keyed by a type.googleapis.com URL becomes an
// Any in google.rpc.Status.details. A non-OK status without an ErrorInfo
// gets one (reason derived from the code), so callers always find exactly
// one.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace fivetran_gateway

#endif  // FIVETRAN_GATEWAY_SERVER_GRPC_STATUS_H_
