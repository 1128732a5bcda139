#include "server/auth_services.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/status.h"
#include "server/grpc_status.h"
#include "spdlog/spdlog.h"

namespace fivetran_gateway {
namespace {

constexpr char kApiKeyHeader[] = "x-fivetran-api-key";
constexpr char kApiSecretHeader[] = "x-fivetran-api-secret";

std::optional<absl::string_view> Metadata(const grpc::CallbackServerContext& context,
                                          const char* key) {
  auto it = context.client_metadata().find(key);
  if (it == context.client_metadata().end()) return std::nullopt;
  return absl::string_view(it->second.data(), it->second.size());
}

bool OverTls(const grpc::CallbackServerContext& context) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr) return false;
  for (const grpc::string_ref& v : auth->FindPropertyValues("transport_security_type")) {
    absl::string_view type(v.data(), v.size());
    if (type == "ssl" || type == "tls") return true;  // SSL / TLS credentials.
  }
  return false;
}

grpc::ServerUnaryReactor* RejectUnary(grpc::CallbackServerContext* context,
                                      const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

// A server-streaming call that ends at once with a status.
template <typename Response>
class RejectWriter final : public grpc::ServerWriteReactor<Response> {
 public:
  explicit RejectWriter(const absl::Status& status) { this->Finish(ToGrpcStatus(status)); }
  void OnDone() override { delete this; }
};

const char* CodeName(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kUnauthenticated:
      return "UNAUTHENTICATED";
    case absl::StatusCode::kPermissionDenied:
      return "PERMISSION_DENIED";
    case absl::StatusCode::kFailedPrecondition:
      return "FAILED_PRECONDITION";
    default:
      return "INTERNAL";
  }
}

}  // namespace

// The guarded services: admit, then forward to the set chosen by Admit.
class ServiceGuard::Connections final : public v1::ConnectionService::CallbackService {
 public:
  explicit Connections(ServiceGuard* guard) : guard_(guard) {}

  grpc::ServerUnaryReactor* GetConnection(grpc::CallbackServerContext* context,
                                          const v1::GetConnectionRequest* request,
                                          v1::GetConnectionResponse* response) override {
    absl::StatusOr<ServiceSet*> set = guard_->Admit(context, RequiredScope(*request));
    if (!set.ok()) return RejectUnary(context, set.status());
    return (*set)->connections->GetConnection(context, request, response);
  }
  grpc::ServerUnaryReactor* CreateConnection(grpc::CallbackServerContext* context,
                                             const v1::CreateConnectionRequest* request,
                                             v1::CreateConnectionResponse* response) override {
    absl::StatusOr<ServiceSet*> set = guard_->Admit(context, RequiredScope(*request));
    if (!set.ok()) return RejectUnary(context, set.status());
    return (*set)->connections->CreateConnection(context, request, response);
  }
  grpc::ServerUnaryReactor* CreateFtpConnection(
      grpc::CallbackServerContext* context, const v1::CreateFtpConnectionRequest* request,
      v1::CreateFtpConnectionResponse* response) override {
    absl::StatusOr<ServiceSet*> set = guard_->Admit(context, RequiredScope(*request));
    if (!set.ok()) return RejectUnary(context, set.status());
    return (*set)->connections->CreateFtpConnection(context, request, response);
  }
  grpc::ServerUnaryReactor* SyncConnection(grpc::CallbackServerContext* context,
                                           const v1::SyncConnectionRequest* request,
                                           v1::SyncConnectionResponse* response) override {
    absl::StatusOr<ServiceSet*> set = guard_->Admit(context, RequiredScope(*request));
    if (!set.ok()) return RejectUnary(context, set.status());
    return (*set)->connections->SyncConnection(context, request, response);
  }
  grpc::ServerWriteReactor<v1::WatchConnectionSyncResponse>* WatchConnectionSync(
      grpc::CallbackServerContext* context,
      const v1::WatchConnectionSyncRequest* request) override {
    absl::StatusOr<ServiceSet*> set = guard_->Admit(context, RequiredScope(*request));
    if (!set.ok()) return new RejectWriter<v1::WatchConnectionSyncResponse>(set.status());
    return (*set)->connections->WatchConnectionSync(context, request);
  }

 private:
  ServiceGuard* const guard_;
};

class ServiceGuard::Groups final : public v1::GroupService::CallbackService {
 public:
  explicit Groups(ServiceGuard* guard) : guard_(guard) {}

  grpc::ServerUnaryReactor* ListGroups(grpc::CallbackServerContext* context,
                                       const v1::ListGroupsRequest* request,
                                       v1::ListGroupsResponse* response) override {
    absl::StatusOr<ServiceSet*> set = guard_->Admit(context, RequiredScope(*request));
    if (!set.ok()) return RejectUnary(context, set.status());
    return (*set)->groups->ListGroups(context, request, response);
  }
  grpc::ServerUnaryReactor* ListGroupConnections(
      grpc::CallbackServerContext* context, const v1::ListGroupConnectionsRequest* request,
      v1::ListGroupConnectionsResponse* response) override {
    absl::StatusOr<ServiceSet*> set = guard_->Admit(context, RequiredScope(*request));
    if (!set.ok()) return RejectUnary(context, set.status());
    return (*set)->groups->ListGroupConnections(context, request, response);
  }

 private:
  ServiceGuard* const guard_;
};

class ServiceGuard::Users final : public v1::UserService::CallbackService {
 public:
  explicit Users(ServiceGuard* guard) : guard_(guard) {}

  grpc::ServerUnaryReactor* ListUsers(grpc::CallbackServerContext* context,
                                      const v1::ListUsersRequest* request,
                                      v1::ListUsersResponse* response) override {
    absl::StatusOr<ServiceSet*> set = guard_->Admit(context, RequiredScope(*request));
    if (!set.ok()) return RejectUnary(context, set.status());
    return (*set)->users->ListUsers(context, request, response);
  }

 private:
  ServiceGuard* const guard_;
};

ServiceGuard::ServiceGuard(GuardOptions options, ServiceSet* default_set, ServiceSetFactory factory)
    : options_(options),
      default_set_(default_set),
      factory_(std::move(factory)),
      connections_(std::make_unique<Connections>(this)),
      groups_(std::make_unique<Groups>(this)),
      users_(std::make_unique<Users>(this)) {}

ServiceGuard::~ServiceGuard() = default;

grpc::Service* ServiceGuard::connections() { return connections_.get(); }
grpc::Service* ServiceGuard::groups() { return groups_.get(); }
grpc::Service* ServiceGuard::users() { return users_.get(); }

absl::StatusOr<ServiceSet*> ServiceGuard::Admit(grpc::CallbackServerContext* context,
                                                const RequiredAccess& access) {
  // The action's first word is the method ("WatchConnectionSync with trigger").
  const std::string method = access.action.substr(0, access.action.find(' '));
  absl::Status denied;
  ServiceSet* set = default_set_;
  if (options_.tokens != nullptr) {
    denied = Authorize(*options_.tokens, Metadata(*context, "authorization"), access);
  }
  if (denied.ok()) {
    std::optional<absl::string_view> key = Metadata(*context, kApiKeyHeader);
    std::optional<absl::string_view> secret = Metadata(*context, kApiSecretHeader);
    if (key.has_value() || secret.has_value()) {
      if (!options_.allow_per_call_credentials || !factory_) {
        denied = MakeError(absl::StatusCode::kFailedPrecondition,
                           "per-call Fivetran credentials are disabled on this gateway "
                           "(--allow_per_call_credentials)",
                           "FAILED_PRECONDITION");
      } else if (!OverTls(*context)) {
        denied = MakeError(absl::StatusCode::kUnauthenticated,
                           "per-call Fivetran credentials are accepted only over TLS",
                           "UNAUTHENTICATED");
      } else if (!key.has_value() || !secret.has_value() || key->empty() || secret->empty()) {
        denied = MakeError(absl::StatusCode::kUnauthenticated,
                           "x-fivetran-api-key and x-fivetran-api-secret must be sent together",
                           "UNAUTHENTICATED");
      } else {
        absl::StatusOr<ServiceSet*> per_call = PerCallSet(std::string(*key), std::string(*secret));
        if (per_call.ok()) {
          set = *per_call;
        } else {
          denied = per_call.status();
        }
      }
    }
  }
  if (!denied.ok()) {
    // Neither the token nor any credential is logged: the messages above
    // never contain them.
    spdlog::warn("rpc method={} code={} peer={} error=\"{}\"", method, CodeName(denied.code()),
                 context->peer(), std::string(denied.message()));
    return denied;
  }
  return set;
}

absl::StatusOr<ServiceSet*> ServiceGuard::PerCallSet(const std::string& key,
                                                     const std::string& secret) {
  const std::string id = Sha256Hex(absl::StrCat(key, std::string(1, '\0'), secret));
  absl::MutexLock lock(&mu_);
  auto it = per_call_.find(id);
  if (it != per_call_.end()) return it->second.get();
  if (per_call_.size() >= options_.max_per_call_credentials) {
    return MakeError(absl::StatusCode::kFailedPrecondition,
                     "too many distinct per-call Fivetran credentials on this gateway",
                     "FAILED_PRECONDITION");
  }
  std::unique_ptr<ServiceSet> set = factory_(key, secret);
  ServiceSet* out = set.get();
  per_call_.emplace(id, std::move(set));
  spdlog::info("per-call Fivetran credentials #{} in use", per_call_.size());
  return out;
}

}  // namespace fivetran_gateway
