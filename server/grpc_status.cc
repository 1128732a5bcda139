#include "server/grpc_status.h"

#include <string>

#include "absl/strings/match.h"
#include "google/rpc/status.pb.h"
#include "server/common/safe_text.h"
#include "server/common/status.h"

namespace fivetran_gateway {
namespace {

const char* DefaultReason(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
      return "INVALID_FIELD";
    case absl::StatusCode::kDeadlineExceeded:
      return "DEADLINE_EXCEEDED";
    case absl::StatusCode::kCancelled:
      return "CANCELLED";
    case absl::StatusCode::kFailedPrecondition:
      return "FAILED_PRECONDITION";
    case absl::StatusCode::kUnavailable:
      return "FIVETRAN_UNAVAILABLE";
    default:
      return "FIVETRAN_BAD_RESPONSE";
  }
}

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& in) {
  if (in.ok()) return grpc::Status::OK;
  absl::Status status = in;
  if (!status.GetPayload(kErrorInfoUrl).has_value()) {
    status = MakeError(in.code(), in.message(), DefaultReason(in.code()));
    in.ForEachPayload(
        [&](absl::string_view url, const absl::Cord& value) { status.SetPayload(url, value); });
  }
  // One line, bounded: whatever a message quotes, it cannot break a
  // caller's log or swell the trailers past what clients accept.
  const std::string message = OneLine(status.message(), kMaxStatusMessage);
  google::rpc::Status rpc;
  rpc.set_code(static_cast<int>(status.code()));
  rpc.set_message(message);
  // ErrorInfo first: clients that read only details[0] find it.
  if (auto info = status.GetPayload(kErrorInfoUrl)) {
    auto* any = rpc.add_details();
    any->set_type_url(std::string(kErrorInfoUrl));
    any->set_value(std::string(*info));
  }
  status.ForEachPayload([&](absl::string_view url, const absl::Cord& value) {
    if (url == kErrorInfoUrl || !absl::StartsWith(url, "type.googleapis.com/")) return;
    auto* any = rpc.add_details();
    any->set_type_url(std::string(url));
    any->set_value(std::string(value));
  });
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), message,
                      rpc.SerializeAsString());
}

}  // namespace fivetran_gateway
