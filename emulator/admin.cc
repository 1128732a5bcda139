#include "emulator/admin.h"

#include <optional>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "emulator/api_error.h"
#include "emulator/http_util.h"
#include "httplib.h"

namespace fivetran_emulator {
namespace {

using nlohmann::json;

constexpr int64_t kMaxRateLimitPerHour = 10000000;
constexpr int64_t kMaxOverrideMs = 86400000;

void MethodNotAllowed(const std::string& method, httplib::Response& res) {
  WriteError(res, 405, "MethodNotAllowed",
             absl::StrCat("Method ", Cut(method, 20), " is not allowed here"));
}

// The {id} of /connections/{id}/{action} (relative to /_emulator), raw.
std::optional<std::string> ConnectionActionId(absl::string_view p, absl::string_view action) {
  std::vector<std::string> segs = absl::StrSplit(p, '/');
  if (segs.size() == 4 && segs[0].empty() && segs[1] == "connections" && segs[3] == action) {
    return segs[2];
  }
  return std::nullopt;
}

// A SyncOverride from {"outcome", "duration_ms", "reschedule_after_ms"}.
absl::StatusOr<SyncOverride> ParseSyncOverride(const json& body) {
  if (!body.is_object()) return InvalidInput("Request body must be a JSON object");
  SyncOverride o;
  absl::StatusOr<std::optional<std::string>> outcome = OptString(body, "outcome");
  if (!outcome.ok()) return outcome.status();
  absl::StatusOr<SyncOutcome> parsed = ParseSyncOutcome(outcome->value_or("success"));
  if (!parsed.ok()) return InvalidInput(parsed.status().message());
  o.outcome = *parsed;
  for (auto [key, dst] :
       {std::pair<const char*, std::optional<absl::Duration>*>{"duration_ms", &o.duration},
        {"reschedule_after_ms", &o.reschedule_delay}}) {
    absl::StatusOr<std::optional<int64_t>> ms = OptInt(body, key);
    if (!ms.ok()) return ms.status();
    if (!ms->has_value()) continue;
    if (**ms < 0 || **ms > kMaxOverrideMs) {
      return InvalidInput(absl::StrCat("Field '", key, "' out of range"));
    }
    *dst = absl::Milliseconds(**ms);
  }
  return o;
}

}  // namespace

void AdminEndpoints::Handle(const httplib::Request& req, const std::string& raw_path,
                            httplib::Response& res) {
  absl::string_view p = raw_path;
  absl::ConsumePrefix(&p, "/_emulator");
  if (p.size() > 1 && absl::EndsWith(p, "/")) p.remove_suffix(1);
  const std::string& m = req.method;
  json body;
  if (m == "POST") {
    absl::StatusOr<json> parsed = ParseBody(req.body);
    if (!parsed.ok()) return WriteStatus(res, parsed.status());
    body = std::move(*parsed);
    if (body.is_null()) body = json::object();
  }
  if (p == "/health") {
    if (m != "GET") return MethodNotAllowed(m, res);
    return WriteJson(res, 200, json{{"code", "Success"}, {"status", "ok"}});
  }
  if (p == "/faults") return Faults(m, body, res);
  if (p == "/requests") return Requests(req, res);
  if (p == "/reset") {
    if (m != "POST") return MethodNotAllowed(m, res);
    return Reset(res);
  }
  if (p == "/rate_limit") {
    if (m != "POST") return MethodNotAllowed(m, res);
    return RateLimit(body, res);
  }
  if (std::optional<std::string> id = ConnectionActionId(p, "sync_outcome"); id.has_value()) {
    if (m != "POST") return MethodNotAllowed(m, res);
    return SetSyncOutcome(*id, body, res);
  }
  if (std::optional<std::string> id = ConnectionActionId(p, "sync_end"); id.has_value()) {
    if (m != "POST") return MethodNotAllowed(m, res);
    return EndSync(*id, res);
  }
  WriteError(res, 404, "NotFound", absl::StrCat("No such admin endpoint: ", Cut(raw_path, 200)));
}

void AdminEndpoints::Faults(const std::string& method, const json& body, httplib::Response& res) {
  if (method == "POST") {
    absl::StatusOr<Fault> parsed = ParseFault(body);
    if (!parsed.ok()) return WriteStatus(res, parsed.status());
    absl::StatusOr<Fault> queued = faults_.Add(std::move(*parsed));
    if (!queued.ok()) return WriteStatus(res, queued.status());
    return WriteSuccess(res, 200, "Fault queued", FaultToJson(*queued));
  }
  if (method == "DELETE") {
    faults_.Clear();
    return WriteSuccess(res, 200, "Faults cleared", std::nullopt);
  }
  if (method == "GET") {
    json items = json::array();
    for (const Fault& f : faults_.Queued()) items.push_back(FaultSummaryToJson(f));
    return WriteSuccess(res, 200, "Queued faults", json{{"items", items}});
  }
  MethodNotAllowed(method, res);
}

void AdminEndpoints::Requests(const httplib::Request& req, httplib::Response& res) {
  if (req.method == "DELETE") {
    requests_.Clear();
    return WriteSuccess(res, 200, "Request log cleared", std::nullopt);
  }
  if (req.method != "GET") return MethodNotAllowed(req.method, res);
  json items = requests_.Entries(Param(req, "path_prefix").value_or(""));
  const size_t n = items.size();
  WriteJson(res, 200, json{{"count", n}, {"requests", std::move(items)}});
}

void AdminEndpoints::Reset(httplib::Response& res) {
  account_.Reset();
  faults_.Clear();
  requests_.Clear();
  rate_limiter_.SetLimit(rate_limit_per_hour_);
  WriteSuccess(res, 200, "Emulator reset to the seed", std::nullopt);
}

void AdminEndpoints::RateLimit(const json& body, httplib::Response& res) {
  if (!body.is_object()) {
    return WriteStatus(res, InvalidInput("Request body must be a JSON object"));
  }
  absl::StatusOr<std::optional<int64_t>> limit = OptInt(body, "limit_per_hour");
  if (!limit.ok()) return WriteStatus(res, limit.status());
  if (!limit->has_value() || **limit < 1 || **limit > kMaxRateLimitPerHour) {
    return WriteStatus(res, InvalidInput("Field 'limit_per_hour' must be 1..10000000"));
  }
  const int n = static_cast<int>(**limit);
  rate_limiter_.SetLimit(n);
  WriteSuccess(res, 200, "Rate limit set", json{{"limit_per_hour", n}});
}

void AdminEndpoints::SetSyncOutcome(const std::string& raw_id, const json& body,
                                    httplib::Response& res) {
  absl::StatusOr<SyncOverride> o = ParseSyncOverride(body);
  if (!o.ok()) return WriteStatus(res, o.status());
  const std::string id = DecodeSegment(raw_id);
  absl::Status s = account_.SetSyncOverride(id, *o);
  if (!s.ok()) return WriteStatus(res, s);
  WriteSuccess(res, 200, "Sync outcome set",
               json{{"id", id}, {"outcome", SyncOutcomeName(o->outcome)}});
}

void AdminEndpoints::EndSync(const std::string& raw_id, httplib::Response& res) {
  const std::string id = DecodeSegment(raw_id);
  absl::StatusOr<bool> ended = account_.EndSync(id);
  if (!ended.ok()) return WriteStatus(res, ended.status());
  WriteSuccess(res, 200, *ended ? "Sync ended" : "No sync was running",
               json{{"id", id}, {"ended", *ended}});
}

}  // namespace fivetran_emulator
