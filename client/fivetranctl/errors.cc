#include "client/fivetranctl/errors.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace fivetranctl {

int ExitCodeFor(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return kExitOk;
    case grpc::StatusCode::NOT_FOUND:
      return kExitNotFound;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::OUT_OF_RANGE:
      return kExitInvalidArgument;
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::UNAUTHENTICATED:
      return kExitPermission;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return kExitUnavailable;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return kExitRateLimited;
    default:
      return kExitOther;
  }
}

std::string StatusCodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return absl::StrCat("CODE_", static_cast<int>(code));
  }
}

std::string OneLine(const std::string& text) {
  std::string out = text;
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

namespace {

// "1800s", "1.5s".
std::string FormatDelay(const google::protobuf::Duration& d) {
  if (d.nanos() == 0) return absl::StrCat(d.seconds(), "s");
  return absl::StrCat(static_cast<double>(d.seconds()) + d.nanos() / 1e9, "s");
}

}  // namespace

std::string DescribeError(const grpc::Status& status) {
  std::string line = StatusCodeName(status.error_code());
  std::string message = OneLine(status.error_message());
  if (!message.empty()) absl::StrAppend(&line, ": ", message);

  std::vector<std::string> facts;
  google::rpc::Status rpc;
  if (!status.error_details().empty() && rpc.ParseFromString(status.error_details())) {
    for (const auto& any : rpc.details()) {
      if (any.Is<google::rpc::ErrorInfo>()) {
        google::rpc::ErrorInfo info;
        if (!any.UnpackTo(&info)) continue;
        auto meta = [&](const char* key) {
          auto it = info.metadata().find(key);
          if (it != info.metadata().end() && !it->second.empty()) {
            facts.push_back(absl::StrCat(key, "=", OneLine(it->second)));
          }
        };
        meta("fivetran_code");
        meta("http_status");
        meta("field");
        meta("outcome");
        meta("required_scope");
        if (!info.reason().empty()) facts.push_back(absl::StrCat("reason=", info.reason()));
      } else if (any.Is<google::rpc::RetryInfo>()) {
        google::rpc::RetryInfo retry;
        if (any.UnpackTo(&retry) && retry.has_retry_delay()) {
          facts.push_back(absl::StrCat("retry_after=", FormatDelay(retry.retry_delay())));
        }
      } else if (any.Is<google::rpc::BadRequest>()) {
        google::rpc::BadRequest bad;
        if (!any.UnpackTo(&bad)) continue;
        for (const auto& v : bad.field_violations()) {
          std::string fact = absl::StrCat("violation=", OneLine(v.field()));
          if (std::find(facts.begin(), facts.end(), "field=" + v.field()) == facts.end()) {
            facts.push_back(fact);
          }
        }
      }
    }
  }
  if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED &&
      std::none_of(facts.begin(), facts.end(),
                   [](const std::string& f) { return f.rfind("retry_after=", 0) == 0; })) {
    facts.push_back("retry_after=unknown");
  }
  if (!facts.empty()) absl::StrAppend(&line, " (", absl::StrJoin(facts, ", "), ")");
  return line;
}

}  // namespace fivetranctl
