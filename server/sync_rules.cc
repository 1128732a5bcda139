#include "server/sync_rules.h"

#include <google/protobuf/util/message_differencer.h>
#include <google/protobuf/util/time_util.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "server/common/status.h"

namespace fivetran_gateway {
namespace {

std::optional<absl::Time> TimeOf(bool has, const google::protobuf::Timestamp& t) {
  if (!has) return std::nullopt;
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

std::optional<absl::Time> Later(std::optional<absl::Time> a, std::optional<absl::Time> b) {
  if (!a) return b;
  if (!b) return a;
  return std::max(*a, *b);
}

google::protobuf::Timestamp ToProto(absl::Time t) {
  google::protobuf::Timestamp out;
  int64_t ns = absl::ToUnixNanos(t);
  out.set_seconds(ns / 1000000000);
  out.set_nanos(static_cast<int32_t>(ns % 1000000000));
  if (out.nanos() < 0) {
    out.set_seconds(out.seconds() - 1);
    out.set_nanos(out.nanos() + 1000000000);
  }
  return out;
}

}  // namespace

std::optional<absl::Time> LastSyncEnd(const v1::Connection& c) {
  return Later(TimeOf(c.has_succeeded_at(), c.succeeded_at()),
               TimeOf(c.has_failed_at(), c.failed_at()));
}

std::optional<absl::Time> LastSyncEnd(const v1::SyncObservation& o) {
  return Later(TimeOf(o.has_succeeded_at(), o.succeeded_at()),
               TimeOf(o.has_failed_at(), o.failed_at()));
}

v1::SyncObservation Observe(const v1::Connection& c, absl::Time now) {
  v1::SyncObservation o;
  o.set_sync_state(c.status().sync_state());
  o.set_sync_state_raw(c.status().sync_state_raw());
  o.set_setup_state(c.status().setup_state());
  if (c.status().has_is_historical_sync()) {
    o.set_is_historical_sync(c.status().is_historical_sync());
  }
  if (c.status().has_rescheduled_for()) {
    *o.mutable_rescheduled_for() = c.status().rescheduled_for();
  }
  if (c.has_succeeded_at()) *o.mutable_succeeded_at() = c.succeeded_at();
  if (c.has_failed_at()) *o.mutable_failed_at() = c.failed_at();
  if (c.has_paused()) o.set_paused(c.paused());
  o.set_schedule_type(c.schedule_type());
  *o.mutable_observed_at() = ToProto(now);
  return o;
}

bool SameState(const v1::SyncObservation& a, const v1::SyncObservation& b) {
  v1::SyncObservation x = a, y = b;
  x.clear_observed_at();
  y.clear_observed_at();
  return google::protobuf::util::MessageDifferencer::Equals(x, y);
}

v1::SyncOutcome Decide(const v1::SyncObservation& o, std::optional<absl::Time> baseline,
                       bool* trigger_required) {
  *trigger_required = false;
  std::optional<absl::Time> succeeded = TimeOf(o.has_succeeded_at(), o.succeeded_at());
  std::optional<absl::Time> failed = TimeOf(o.has_failed_at(), o.failed_at());
  std::optional<absl::Time> last = Later(succeeded, failed);
  if (last && (!baseline || *last > *baseline)) {
    bool success_is_newest = succeeded && (!failed || *succeeded >= *failed);
    return success_is_newest ? v1::SYNC_OUTCOME_SUCCEEDED : v1::SYNC_OUTCOME_FAILED;
  }
  if (o.sync_state() == v1::SYNC_STATE_RESCHEDULED) {
    *trigger_required = o.schedule_type() == v1::SCHEDULE_TYPE_MANUAL;
    return v1::SYNC_OUTCOME_RESCHEDULED;
  }
  if ((o.has_paused() && o.paused()) || o.sync_state() == v1::SYNC_STATE_PAUSED) {
    return v1::SYNC_OUTCOME_PAUSED;
  }
  return v1::SYNC_OUTCOME_UNSPECIFIED;
}

absl::Status CheckSyncable(const v1::Connection& c) {
  auto refuse = [&](const std::string& precondition, const std::string& why) {
    return MakeError(absl::StatusCode::kFailedPrecondition,
                     absl::StrCat("connection ", c.id(), " ", why), "FAILED_PRECONDITION",
                     {{"connection_id", c.id()}, {"precondition", precondition}});
  };
  // Broken connections are triggered: a sync is what clears `broken` after a
  // transient source failure (field report N1). Unknown states are Fivetran's
  // to judge.
  if (c.status().setup_state() == v1::SETUP_STATE_INCOMPLETE) {
    return refuse("setup_incomplete",
                  "cannot sync: setup_state is 'incomplete' (run and pass the setup tests first)");
  }
  if ((c.has_paused() && c.paused()) || c.status().sync_state() == v1::SYNC_STATE_PAUSED) {
    return refuse("paused", "is paused: unpause it before triggering a sync");
  }
  return absl::OkStatus();
}

}  // namespace fivetran_gateway
