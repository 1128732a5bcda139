// The gRPC services of fivetran.gateway.v1. They only translate: validate the
// request, call the typed Fivetran API (server/fivetran/fivetran_api.h), and
// put its answer into the response. They know no Fivetran path or JSON.
#ifndef FIVETRAN_GATEWAY_SERVER_SERVICES_H_
#define FIVETRAN_GATEWAY_SERVER_SERVICES_H_

#include "fivetran/gateway/v1/connection_service.grpc.pb.h"
#include "fivetran/gateway/v1/group_service.grpc.pb.h"
#include "fivetran/gateway/v1/user_service.grpc.pb.h"
#include "server/common/timer_queue.h"
#include "server/fivetran/fivetran_api.h"
#include "server/idempotency.h"
#include "server/shared_creates.h"
#include "server/sync_watch.h"

namespace fivetran_gateway {

namespace v1 = ::fivetran::gateway::v1;

class ConnectionServiceImpl final : public v1::ConnectionService::CallbackService {
 public:
  // `creates` remembers the request ids of the create RPCs; null: a cache of
  // its own with the default window. `shared`: the fleet's view of them
  // (--state_store); null: this replica's only.
  ConnectionServiceImpl(fivetran::FivetranApi* api, std::shared_ptr<SyncPollers> pollers,
                        Timers* timers, std::shared_ptr<IdempotencyCache> creates = nullptr,
                        std::shared_ptr<SharedCreates> shared = nullptr)
      : api_(api),
        pollers_(std::move(pollers)),
        timers_(timers),
        creates_(creates != nullptr ? std::move(creates) : std::make_shared<IdempotencyCache>()),
        shared_(std::move(shared)) {}

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
  fivetran::FivetranApi* api_;
  std::shared_ptr<SyncPollers> pollers_;
  Timers* timers_;
  std::shared_ptr<IdempotencyCache> creates_;
  std::shared_ptr<SharedCreates> shared_;
};

class GroupServiceImpl final : public v1::GroupService::CallbackService {
 public:
  explicit GroupServiceImpl(fivetran::FivetranApi* api) : api_(api) {}
  // Signs page tokens (--page_token_key_file; validation.h); "" = unsigned.
  void set_page_token_key(std::string key) { page_token_key_ = std::move(key); }

  grpc::ServerUnaryReactor* ListGroups(grpc::CallbackServerContext* context,
                                       const v1::ListGroupsRequest* request,
                                       v1::ListGroupsResponse* response) override;
  grpc::ServerUnaryReactor* ListGroupConnections(
      grpc::CallbackServerContext* context, const v1::ListGroupConnectionsRequest* request,
      v1::ListGroupConnectionsResponse* response) override;

 private:
  fivetran::FivetranApi* api_;
  std::string page_token_key_;  // Secret.
};

class UserServiceImpl final : public v1::UserService::CallbackService {
 public:
  explicit UserServiceImpl(fivetran::FivetranApi* api) : api_(api) {}
  // Signs page tokens (--page_token_key_file; validation.h); "" = unsigned.
  void set_page_token_key(std::string key) { page_token_key_ = std::move(key); }

  grpc::ServerUnaryReactor* ListUsers(grpc::CallbackServerContext* context,
                                      const v1::ListUsersRequest* request,
                                      v1::ListUsersResponse* response) override;

 private:
  fivetran::FivetranApi* api_;
  std::string page_token_key_;  // Secret.
};

}  // namespace fivetran_gateway

#endif  // FIVETRAN_GATEWAY_SERVER_SERVICES_H_
