// The sync state machine of Account: trigger, per-connection overrides, and
// settling syncs whose time is up (lazily, on the next access).
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "emulator/account.h"
#include "emulator/api_error.h"
#include "emulator/json_fields.h"

namespace fivetran_emulator {

using nlohmann::json;

absl::StatusOr<SyncOutcome> ParseSyncOutcome(absl::string_view name) {
  if (name == "success") return SyncOutcome::kSuccess;
  if (name == "failure") return SyncOutcome::kFailure;
  if (name == "reschedule") return SyncOutcome::kReschedule;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown sync outcome '", Echo(name), "' (success|failure|reschedule)"));
}

const char* SyncOutcomeName(SyncOutcome outcome) {
  switch (outcome) {
    case SyncOutcome::kSuccess:
      return "success";
    case SyncOutcome::kFailure:
      return "failure";
    case SyncOutcome::kReschedule:
      return "reschedule";
  }
  return "success";
}

void Account::SettleLocked(absl::Time now) {
  std::vector<std::pair<absl::Time, std::string>> due;
  for (const auto& [id, run] : running_) {
    if (run.finish <= now) due.emplace_back(run.finish, id);
  }
  std::sort(due.begin(), due.end());
  for (const auto& [finish, id] : due) {
    auto it = running_.find(id);
    RunningSync run = it->second;
    running_.erase(it);
    FinishSyncLocked(id, run);
  }
}

void Account::FinishSyncLocked(const std::string& id, const RunningSync& run) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  json& c = it->second.mutable_value();
  // Never earlier than (or equal to) any timestamp this connection shows.
  absl::Time floor = run.finish;
  for (const char* key : {"created_at", "succeeded_at", "failed_at"}) {
    absl::StatusOr<absl::Time> t = ParseTs(c.value(key, json()));
    if (t.ok()) floor = std::max(floor, *t + absl::Microseconds(1));
  }
  const absl::Time ts = issuer_.Issue(floor);
  json& status = c["status"];
  status.erase("rescheduled_for");
  status["update_state"] = "on_schedule";
  switch (run.outcome) {
    case SyncOutcome::kSuccess:
      c["succeeded_at"] = FormatTimestamp(ts);
      status["sync_state"] = "scheduled";
      status["is_historical_sync"] = false;
      // A sync that succeeds is what clears `broken` (field report N1);
      // setup tests alone do not.
      if (status.value("setup_state", "") == "broken") {
        status["setup_state"] = "connected";
        status["tasks"] = json::array();
      }
      break;
    case SyncOutcome::kFailure:
      c["failed_at"] = FormatTimestamp(ts);
      status["sync_state"] = "scheduled";
      break;
    case SyncOutcome::kReschedule:
      status["sync_state"] = "rescheduled";
      status["rescheduled_for"] = FormatTimestamp(ts + run.reschedule_delay);
      break;
  }
}

absl::Status Account::TriggerSync(absl::string_view id, bool force) {
  absl::MutexLock lock(&mu_);
  const absl::Time now = Now();
  SettleLocked(now);
  auto it = connections_.find(std::string(id));
  if (it == connections_.end()) {
    return ConnectionNotFound(id);
  }
  json& c = it->second.mutable_value();
  const std::string setup_state = StringOr(c["status"], "setup_state");
  if (setup_state == "incomplete" && options_.reject_incomplete_sync) {
    return InvalidInput(absl::StrCat("Connection '", Echo(id),
                                     "' cannot be synced: setup_state is 'incomplete', expected "
                                     "'connected'"));
  }
  const json* paused = Find(c, "paused");
  if (paused != nullptr && paused->is_boolean() && paused->get<bool>()) {
    if (options_.paused_sync_conflict) {
      return ConflictError(absl::StrCat("Connection '", Echo(id), "' is paused"));
    }
    return absl::OkStatus();  // accepted, nothing happens
  }
  if (running_.count(it->first) > 0 && !force) return absl::OkStatus();

  RunningSync run;
  run.outcome = setup_state == "broken" ? SyncOutcome::kFailure : options_.default_outcome;
  absl::Duration duration = options_.sync_duration;
  run.reschedule_delay = options_.reschedule_delay;
  auto ov = overrides_.find(it->first);
  if (ov != overrides_.end()) {
    run.outcome = ov->second.outcome;
    if (ov->second.duration.has_value()) duration = *ov->second.duration;
    if (ov->second.reschedule_delay.has_value())
      run.reschedule_delay = *ov->second.reschedule_delay;
  }
  run.finish = now + std::max(duration, absl::ZeroDuration());
  running_[it->first] = run;
  c["status"]["sync_state"] = "syncing";
  c["status"].erase("rescheduled_for");
  return absl::OkStatus();
}

absl::Status Account::SetSyncOverride(absl::string_view id, const SyncOverride& override_value) {
  absl::MutexLock lock(&mu_);
  if (connections_.count(std::string(id)) == 0) {
    return ConnectionNotFound(id);
  }
  overrides_[std::string(id)] = override_value;
  return absl::OkStatus();
}

absl::StatusOr<bool> Account::EndSync(absl::string_view id) {
  absl::MutexLock lock(&mu_);
  const absl::Time now = Now();
  SettleLocked(now);
  const std::string key(id);
  if (connections_.count(key) == 0) return ConnectionNotFound(id);
  auto it = running_.find(key);
  if (it == running_.end()) return false;
  RunningSync run = it->second;
  running_.erase(it);
  run.finish = now;
  FinishSyncLocked(key, run);
  return true;
}

}  // namespace fivetran_emulator
