// Triggering a sync: the read before the trigger (the baseline, the checks,
// whether a sync is already running) and the trigger itself.
//
// Every read made here is fresh (fivetran::kFreshRead), never served from
// the read cache: polls exist to see the current state, and the read before
// a trigger gives the baseline and the refusal checks.
#ifndef FIVETRAN_GATEWAY_SERVER_SYNC_TRIGGER_H_
#define FIVETRAN_GATEWAY_SERVER_SYNC_TRIGGER_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "fivetran/gateway/v1/connection_service.pb.h"
#include "server/common/cancel.h"
#include "server/common/timer_queue.h"
#include "server/fivetran/fivetran_api.h"

namespace fivetran_gateway {

namespace v1 = ::fivetran::gateway::v1;

// Read the connection, check it can sync (CheckSyncable), then trigger the
// sync. A 409 from the trigger is checked with one more read: OK with
// already_syncing when a sync is running, FAILED_PRECONDITION otherwise. `done` gets the
// pre-trigger connection's last sync end (baseline) and Fivetran's message, or the error.
struct TriggerResult {
  std::optional<absl::Time> baseline;
  // status.setup_state right before the trigger (BROKEN: a recovery attempt).
  v1::SetupState setup_state_at_trigger = v1::SETUP_STATE_UNSPECIFIED;
  // A sync was running and force was false: Fivetran starts no new one.
  bool already_syncing = false;
  absl::Time triggered_at;
  std::string message;
  fivetran::UpstreamInfo upstream;
};
using TriggerCallback = std::function<void(absl::StatusOr<TriggerResult>)>;
// `on_call` receives each HTTP call as it starts (for cancellation).
void TriggerSync(fivetran::FivetranApi* api, Timers* timers, const std::string& connection_id,
                 bool force, absl::Time deadline,
                 std::function<void(std::shared_ptr<Cancellable>)> on_call, TriggerCallback done);

}  // namespace fivetran_gateway

#endif  // FIVETRAN_GATEWAY_SERVER_SYNC_TRIGGER_H_
