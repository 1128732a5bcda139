#include "server/sync_trigger.h"

#include <utility>

#include "server/common/status.h"
#include "server/sync_rules.h"

namespace fivetran_gateway {

using fivetran::UpstreamInfo;

namespace {

bool IsSyncing(const v1::Connection& c) {
  return c.status().sync_state() == v1::SYNC_STATE_SYNCING;
}

// Fivetran answered the trigger with 409 (a sync in progress, or another
// conflict): one more read says which (field report N2). Never re-sent.
void RecheckConflict(fivetran::FivetranApi* api, const std::string& connection_id,
                     absl::Time deadline, absl::Status conflict, TriggerResult result,
                     std::function<void(std::shared_ptr<Cancellable>)> on_call,
                     TriggerCallback done) {
  on_call(api->GetConnection(
      connection_id, fivetran::kFreshRead, deadline,
      [conflict = std::move(conflict), result, done](absl::StatusOr<v1::Connection> connection,
                                                     const UpstreamInfo&) mutable {
        if (connection.ok() && IsSyncing(*connection)) {
          result.already_syncing = true;
          return done(std::move(result));
        }
        absl::Status status(absl::StatusCode::kFailedPrecondition, conflict.message());
        conflict.ForEachPayload([&status](absl::string_view url, const absl::Cord& payload) {
          status.SetPayload(url, payload);
        });
        done(std::move(status));
      }));
}

bool IsConflict(const absl::Status& status) {
  return ErrorMetadataOf(status, "http_status") == "409";
}

}  // namespace

void TriggerSync(fivetran::FivetranApi* api, Timers* timers, const std::string& connection_id,
                 bool force, absl::Time deadline,
                 std::function<void(std::shared_ptr<Cancellable>)> on_call, TriggerCallback done) {
  on_call(api->GetConnection(
      connection_id, fivetran::kFreshRead, deadline,
      [api, timers, connection_id, force, deadline, on_call, done](
          absl::StatusOr<v1::Connection> connection, const UpstreamInfo& read_info) {
        if (!connection.ok()) return done(connection.status());
        if (absl::Status s = CheckSyncable(*connection); !s.ok()) return done(s);
        TriggerResult result;
        result.baseline = LastSyncEnd(*connection);
        result.setup_state_at_trigger = connection->status().setup_state();
        result.already_syncing = !force && IsSyncing(*connection);
        result.triggered_at = timers->Now();
        result.upstream = read_info;
        on_call(api->TriggerSync(connection_id, force, deadline,
                                 [api, connection_id, deadline, on_call, result, done](
                                     absl::StatusOr<fivetran::SyncTriggered> triggered,
                                     const UpstreamInfo& info) mutable {
                                   result.upstream = info;
                                   if (!triggered.ok() && IsConflict(triggered.status())) {
                                     return RecheckConflict(api, connection_id, deadline,
                                                            triggered.status(), result, on_call,
                                                            done);
                                   }
                                   if (!triggered.ok()) return done(triggered.status());
                                   result.message = std::move(triggered->message);
                                   done(std::move(result));
                                 }));
      }));
}

}  // namespace fivetran_gateway
