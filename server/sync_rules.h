// The completion rule for a triggered sync, as pure functions of the
// connection details (`GET /v1/connections/{id}`). See WatchConnectionSync in
// connection_service.proto and the README.
#ifndef FIVETRAN_GATEWAY_SERVER_SYNC_RULES_H_
#define FIVETRAN_GATEWAY_SERVER_SYNC_RULES_H_

#include <optional>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "fivetran/gateway/v1/connection_service.pb.h"

namespace fivetran_gateway {

namespace v1 = ::fivetran::gateway::v1;

// The later of succeeded_at and failed_at; nullopt when both are unset
// (never synced). Unset means "never", never "zero".
std::optional<absl::Time> LastSyncEnd(const v1::Connection& connection);
std::optional<absl::Time> LastSyncEnd(const v1::SyncObservation& observation);

// The sync-related state of `connection`, observed at `now`.
v1::SyncObservation Observe(const v1::Connection& connection, absl::Time now);

// Whether anything but observed_at differs.
bool SameState(const v1::SyncObservation& a, const v1::SyncObservation& b);

// The outcome of the watched sync given the latest observation:
// - SUCCEEDED / FAILED once max(succeeded_at, failed_at) is later than
//   `baseline` (nullopt = never synced): SUCCEEDED when succeeded_at is that
//   newest time, FAILED when failed_at is later than succeeded_at;
// - otherwise RESCHEDULED while sync_state is rescheduled (trigger_required
//   when the schedule is manual);
// - otherwise PAUSED when the connection is paused;
// - otherwise UNSPECIFIED: keep watching.
v1::SyncOutcome Decide(const v1::SyncObservation& observation, std::optional<absl::Time> baseline,
                       bool* trigger_required);

// OK when a sync can be triggered (also for a broken connection: a sync is
// what recovers it); FAILED_PRECONDITION (with ErrorInfo reason
// FAILED_PRECONDITION and metadata precondition = paused or
// setup_incomplete) when the connection is paused or its setup is
// incomplete, saying why.
absl::Status CheckSyncable(const v1::Connection& connection);

}  // namespace fivetran_gateway

#endif  // FIVETRAN_GATEWAY_SERVER_SYNC_RULES_H_
