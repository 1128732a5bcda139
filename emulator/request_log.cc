#include "emulator/request_log.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "emulator/clock.h"
#include "emulator/http_util.h"
#include "httplib.h"

namespace fivetran_emulator {
namespace {

using nlohmann::json;

constexpr size_t kMaxLoggedHeaderValue = 1024;

// The request's headers with lower-cased names, without credentials (only
// whether an Authorization header was present).
json LoggedHeaders(const httplib::Request& req) {
  json headers = json::object();
  bool has_auth = false;
  for (const auto& [name, value] : req.headers) {
    const std::string lower = absl::AsciiStrToLower(name);
    if (lower == "authorization") {
      has_auth = true;
      continue;
    }
    if (lower == "proxy-authorization" || lower == "cookie") continue;
    // Headers httplib adds to the request object itself.
    if (lower == "remote_addr" || lower == "remote_port" || lower == "local_addr" ||
        lower == "local_port") {
      continue;
    }
    headers[lower] = Cut(value, kMaxLoggedHeaderValue);
  }
  headers["has_authorization"] = has_auth;
  return headers;
}

}  // namespace

int64_t RequestLog::Record(const httplib::Request& req, const std::string& raw_path,
                           const std::string& raw_query) {
  json entry{{"method", req.method},
             {"path", raw_path},
             {"query", raw_query},
             {"headers", LoggedHeaders(req)},
             {"body", req.body.size() > max_body_ ? req.body.substr(0, max_body_) : req.body},
             {"time", FormatTimestamp(absl::Now())},
             {"remote_addr", req.remote_addr},
             {"remote_port", req.remote_port},
             {"status", 0},
             {"fault", nullptr}};
  absl::MutexLock lock(&mu_);
  const int64_t seq = next_seq_++;
  entry["seq"] = seq;
  entries_.push_back(Entry{seq, std::move(entry)});
  while (entries_.size() > capacity_) entries_.pop_front();
  return seq;
}

void RequestLog::SetOutcome(int64_t seq, int status, json fault) {
  absl::MutexLock lock(&mu_);
  if (entries_.empty() || seq < entries_.front().seq) return;
  const size_t index = static_cast<size_t>(seq - entries_.front().seq);
  if (index < entries_.size() && entries_[index].seq == seq) {
    entries_[index].json["status"] = status;
    entries_[index].json["fault"] = std::move(fault);
  }
}

void RequestLog::Clear() {
  absl::MutexLock lock(&mu_);
  entries_.clear();
}

json RequestLog::Entries(absl::string_view path_prefix) const {
  json items = json::array();
  absl::MutexLock lock(&mu_);
  for (const Entry& e : entries_) {
    const json& path = e.json["path"];
    if (!path_prefix.empty() && !absl::StartsWith(path.get<std::string>(), path_prefix)) continue;
    items.push_back(e.json);
  }
  return items;
}

}  // namespace fivetran_emulator
