// WatchConnectionSync: streams a connection's sync state until the sync
// ends, judged by the completion rule (sync_rules.h), from the shared
// pollers (sync_pollers.h), optionally triggering the sync first
// (sync_trigger.h).
#ifndef FIVETRAN_GATEWAY_SERVER_SYNC_WATCH_H_
#define FIVETRAN_GATEWAY_SERVER_SYNC_WATCH_H_

#include <grpcpp/grpcpp.h>

#include <memory>

#include "fivetran/gateway/v1/connection_service.grpc.pb.h"
#include "server/common/timer_queue.h"
#include "server/fivetran/fivetran_api.h"
#include "server/sync_pollers.h"
#include "server/sync_trigger.h"

namespace fivetran_gateway {

// Creates the reactor for one WatchConnectionSync call.
grpc::ServerWriteReactor<v1::WatchConnectionSyncResponse>* StartSyncWatch(
    grpc::CallbackServerContext* context, const v1::WatchConnectionSyncRequest* request,
    fivetran::FivetranApi* api, std::shared_ptr<SyncPollers> pollers, Timers* timers);

}  // namespace fivetran_gateway

#endif  // FIVETRAN_GATEWAY_SERVER_SYNC_WATCH_H_
