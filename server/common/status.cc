#include "server/common/status.h"

#include "google/rpc/error_details.pb.h"

namespace fivetran_gateway {
namespace {

google::rpc::ErrorInfo GetErrorInfo(const absl::Status& status) {
  google::rpc::ErrorInfo info;
  if (auto payload = status.GetPayload(kErrorInfoUrl)) {
    info.ParseFromString(std::string(*payload));
  }
  return info;
}

void SetErrorInfo(absl::Status& status, const google::rpc::ErrorInfo& info) {
  status.SetPayload(kErrorInfoUrl, absl::Cord(info.SerializeAsString()));
}

}  // namespace

absl::Status MakeError(absl::StatusCode code, absl::string_view message, absl::string_view reason,
                       const std::map<std::string, std::string>& metadata) {
  absl::Status status(code, message);
  google::rpc::ErrorInfo info;
  info.set_reason(std::string(reason));
  info.set_domain(std::string(kErrorDomain));
  for (const auto& [k, v] : metadata) (*info.mutable_metadata())[k] = v;
  SetErrorInfo(status, info);
  return status;
}

absl::Status MakeFieldError(absl::StatusCode code, absl::string_view field,
                            absl::string_view message, absl::string_view reason) {
  absl::Status status = MakeError(code, message, reason, {{"field", std::string(field)}});
  google::rpc::BadRequest bad;
  auto* v = bad.add_field_violations();
  v->set_field(std::string(field));
  v->set_description(std::string(message));
  status.SetPayload(kBadRequestUrl, absl::Cord(bad.SerializeAsString()));
  return status;
}

void AddErrorMetadata(absl::Status& status, absl::string_view key, absl::string_view value) {
  if (status.ok()) return;
  google::rpc::ErrorInfo info = GetErrorInfo(status);
  if (info.domain().empty()) info.set_domain(std::string(kErrorDomain));
  (*info.mutable_metadata())[std::string(key)] = std::string(value);
  SetErrorInfo(status, info);
}

void AddRetryInfo(absl::Status& status, absl::Duration delay) {
  if (status.ok()) return;
  google::rpc::RetryInfo retry;
  int64_t ms = absl::ToInt64Milliseconds(delay);
  retry.mutable_retry_delay()->set_seconds(ms / 1000);
  retry.mutable_retry_delay()->set_nanos(static_cast<int32_t>(ms % 1000) * 1000000);
  status.SetPayload(kRetryInfoUrl, absl::Cord(retry.SerializeAsString()));
}

std::string ErrorReasonOf(const absl::Status& status) { return GetErrorInfo(status).reason(); }

std::string ErrorMetadataOf(const absl::Status& status, absl::string_view key) {
  const google::rpc::ErrorInfo info = GetErrorInfo(status);
  auto it = info.metadata().find(std::string(key));
  return it == info.metadata().end() ? "" : it->second;
}

std::optional<absl::Duration> RetryDelayOf(const absl::Status& status) {
  auto p = status.GetPayload(kRetryInfoUrl);
  if (!p) return std::nullopt;
  google::rpc::RetryInfo info;
  if (!info.ParseFromString(std::string(*p))) return std::nullopt;
  return absl::Seconds(info.retry_delay().seconds()) +
         absl::Nanoseconds(info.retry_delay().nanos());
}

}  // namespace fivetran_gateway
