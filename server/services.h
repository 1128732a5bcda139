// The gRPC services of fivetran.gateway.v1. They only translate: validate the
// request, start one asynchronous Fivetran call, map its answer to proto.
#ifndef FIVETRAN_GATEWAY_SERVER_SERVICES_H_
#define FIVETRAN_GATEWAY_SERVER_SERVICES_H_

#include "fivetran/gateway/v1/connection_service.grpc.pb.h"
#include "fivetran/gateway/v1/group_service.grpc.pb.h"
#include "fivetran/gateway/v1/user_service.grpc.pb.h"
#include "server/fivetran/client.h"
#include "server/idempotency.h"
#include "server/sync_watch.h"
#include "server/timer_queue.h"

namespace fivetran_gateway {

namespace v1 = ::fivetran::gateway::v1;

class ConnectionServiceImpl final : public v1::ConnectionService::CallbackService {
 public:
  // `creates` remembers the request ids of the create RPCs; null: a cache of
  // its own with the default window.
  ConnectionServiceImpl(fivetran::FivetranClient* client, std::shared_ptr<SyncPollers> pollers,
                        TimerQueue* timers, std::shared_ptr<IdempotencyCache> creates = nullptr)
      : client_(client),
        pollers_(std::move(pollers)),
        timers_(timers),
        creates_(creates != nullptr ? std::move(creates) : std::make_shared<IdempotencyCache>()) {}

  grpc::ServerUnaryReactor* GetConnection(grpc::CallbackServerContext* context,
                                          const v1::GetConnectionRequest* request,
                                          v1::GetConnectionResponse* response) override;
  grpc::ServerUnaryReactor* CreateConnection(grpc::CallbackServerContext* context,
                                             const v1::CreateConnectionRequest* request,
                                             v1::CreateConnectionResponse* response) override;
  grpc::ServerUnaryReactor* CreateFtpConnection(grpc::CallbackServerContext* context,
                                                const v1::CreateFtpConnectionRequest* request,
                                                v1::CreateFtpConnectionResponse* response) override;
  grpc::ServerUnaryReactor* SyncConnection(grpc::CallbackServerContext* context,
                                           const v1::SyncConnectionRequest* request,
                                           v1::SyncConnectionResponse* response) override;
  grpc::ServerWriteReactor<v1::WatchConnectionSyncResponse>* WatchConnectionSync(
      grpc::CallbackServerContext* context, const v1::WatchConnectionSyncRequest* request) override;

 private:
  fivetran::FivetranClient* client_;
  std::shared_ptr<SyncPollers> pollers_;
  TimerQueue* timers_;
  std::shared_ptr<IdempotencyCache> creates_;
};

class GroupServiceImpl final : public v1::GroupService::CallbackService {
 public:
  explicit GroupServiceImpl(fivetran::FivetranClient* client) : client_(client) {}

  grpc::ServerUnaryReactor* ListGroups(grpc::CallbackServerContext* context,
                                       const v1::ListGroupsRequest* request,
                                       v1::ListGroupsResponse* response) override;
  grpc::ServerUnaryReactor* ListGroupConnections(
      grpc::CallbackServerContext* context, const v1::ListGroupConnectionsRequest* request,
      v1::ListGroupConnectionsResponse* response) override;

 private:
  fivetran::FivetranClient* client_;
};

class UserServiceImpl final : public v1::UserService::CallbackService {
 public:
  explicit UserServiceImpl(fivetran::FivetranClient* client) : client_(client) {}

  grpc::ServerUnaryReactor* ListUsers(grpc::CallbackServerContext* context,
                                      const v1::ListUsersRequest* request,
                                      v1::ListUsersResponse* response) override;

 private:
  fivetran::FivetranClient* client_;
};

}  // namespace fivetran_gateway

#endif  // FIVETRAN_GATEWAY_SERVER_SERVICES_H_
