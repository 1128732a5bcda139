#include "server/auth_services.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/gateway_metrics.h"
#include "server/common/safe_text.h"
#include "server/common/status.h"
#include "server/fivetran/fivetran_api.h"
#include "server/grpc_status.h"
#include "server/rpc_reactor.h"
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

// The `reason` label of a refused token (auth_refusals).
const char* TokenRefusal(std::optional<absl::string_view> authorization,
                         const absl::Status& denied) {
  if (denied.code() == absl::StatusCode::kPermissionDenied) return "insufficient_scope";
  if (!authorization.has_value()) return "missing_token";
  if (!BearerToken(*authorization).has_value()) return "malformed_token";
  return "unknown_token";
}

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

// How a per-call set is used: calls in flight (API calls and handlers not
// yet returned) and whether Fivetran has accepted or rejected its key.
struct ServiceGuard::Usage {
  explicit Usage(absl::Time at) : last_used(at) {}
  enum class Key { kUnproven, kAccepted, kRejected };
  absl::Mutex mu;
  int in_flight ABSL_GUARDED_BY(mu) = 0;
  Key key ABSL_GUARDED_BY(mu) = Key::kUnproven;
  absl::Time last_used ABSL_GUARDED_BY(mu);

  void Begin(absl::Time now) {
    absl::MutexLock lock(&mu);
    ++in_flight;
    last_used = now;
  }
  void End(const absl::Status* result, absl::Time now) {
    absl::MutexLock lock(&mu);
    --in_flight;
    last_used = now;
    if (result == nullptr) return;
    if (result->ok()) {
      key = Key::kAccepted;
    } else if (ErrorReasonOf(*result) == "FIVETRAN_AUTH_FAILED") {
      key = Key::kRejected;  // Also a key revoked since it was accepted.
    }
  }
};

namespace {

// Counts every API call of a per-call set as use, and learns from the
// results whether Fivetran accepts the set's key. The inner callback runs
// before the call stops counting, so work it chains keeps the set in use.
class TrackingApi final : public fivetran::FivetranApi {
 public:
  TrackingApi(std::unique_ptr<fivetran::FivetranApi> inner,
              std::shared_ptr<ServiceGuard::Usage> usage, std::function<absl::Time()> now)
      : inner_(std::move(inner)), usage_(std::move(usage)), now_(std::move(now)) {}

  std::shared_ptr<Cancellable> GetConnection(const std::string& id, fivetran::ReadOptions read,
                                             absl::Time deadline,
                                             fivetran::ApiCallback<v1::Connection> done) override {
    return inner_->GetConnection(id, read, deadline, Track(std::move(done)));
  }
  std::shared_ptr<Cancellable> GetSerializedConnection(
      const std::string& id, fivetran::ReadOptions read, absl::Time deadline,
      fivetran::ApiCallback<fivetran::SerializedConnection> done) override {
    return inner_->GetSerializedConnection(id, read, deadline, Track(std::move(done)));
  }
  std::shared_ptr<Cancellable> CreateConnection(
      const fivetran::NewConnection& connection, absl::Time deadline,
      fivetran::ApiCallback<v1::Connection> done) override {
    return inner_->CreateConnection(connection, deadline, Track(std::move(done)));
  }
  std::shared_ptr<Cancellable> TriggerSync(
      const std::string& id, bool force, absl::Time deadline,
      fivetran::ApiCallback<fivetran::SyncTriggered> done) override {
    return inner_->TriggerSync(id, force, deadline, Track(std::move(done)));
  }
  std::shared_ptr<Cancellable> ListGroups(
      const fivetran::PageRequest& page, fivetran::ReadOptions read, absl::Time deadline,
      fivetran::ApiCallback<fivetran::Page<v1::Group>> done) override {
    return inner_->ListGroups(page, read, deadline, Track(std::move(done)));
  }
  std::shared_ptr<Cancellable> ListGroupConnections(
      const std::string& group_id, const std::string& schema, const fivetran::PageRequest& page,
      fivetran::ReadOptions read, absl::Time deadline,
      fivetran::ApiCallback<fivetran::Page<fivetran::SerializedConnection>> done) override {
    return inner_->ListGroupConnections(group_id, schema, page, read, deadline,
                                        Track(std::move(done)));
  }
  std::shared_ptr<Cancellable> ListUsers(
      std::optional<bool> active, const fivetran::PageRequest& page, fivetran::ReadOptions read,
      absl::Time deadline, fivetran::ApiCallback<fivetran::Page<v1::User>> done) override {
    return inner_->ListUsers(active, page, read, deadline, Track(std::move(done)));
  }

 private:
  template <typename T>
  fivetran::ApiCallback<T> Track(fivetran::ApiCallback<T> done) {
    usage_->Begin(now_());
    return [usage = usage_, now = now_, done = std::move(done)](
               absl::StatusOr<T> result, const fivetran::UpstreamInfo& info) {
      const absl::Status status = result.status();
      done(std::move(result), info);
      usage->End(&status, now());
    };
  }

  const std::unique_ptr<fivetran::FivetranApi> inner_;
  const std::shared_ptr<ServiceGuard::Usage> usage_;
  const std::function<absl::Time()> now_;
};

}  // namespace

// The guarded services: admit, then forward to the set chosen by Admit.
using Admission = ServiceGuard::Admission;

class ServiceGuard::Connections final : public v1::ConnectionService::CallbackService {
 public:
  explicit Connections(ServiceGuard* guard) : guard_(guard) {}

  grpc::ServerUnaryReactor* GetConnection(grpc::CallbackServerContext* context,
                                          const v1::GetConnectionRequest* request,
                                          v1::GetConnectionResponse* response) override {
    absl::StatusOr<Admission> admitted = guard_->Admit(context, RequiredScope(*request));
    if (!admitted.ok()) return RejectUnary(context, admitted.status());
    return admitted->set->connections->GetConnection(context, request, response);
  }
  grpc::ServerUnaryReactor* CreateConnection(grpc::CallbackServerContext* context,
                                             const v1::CreateConnectionRequest* request,
                                             v1::CreateConnectionResponse* response) override {
    absl::StatusOr<Admission> admitted = guard_->Admit(context, RequiredScope(*request));
    if (!admitted.ok()) return RejectUnary(context, admitted.status());
    return admitted->set->connections->CreateConnection(context, request, response);
  }
  grpc::ServerUnaryReactor* CreateFtpConnection(
      grpc::CallbackServerContext* context, const v1::CreateFtpConnectionRequest* request,
      v1::CreateFtpConnectionResponse* response) override {
    absl::StatusOr<Admission> admitted = guard_->Admit(context, RequiredScope(*request));
    if (!admitted.ok()) return RejectUnary(context, admitted.status());
    return admitted->set->connections->CreateFtpConnection(context, request, response);
  }
  grpc::ServerUnaryReactor* SyncConnection(grpc::CallbackServerContext* context,
                                           const v1::SyncConnectionRequest* request,
                                           v1::SyncConnectionResponse* response) override {
    absl::StatusOr<Admission> admitted = guard_->Admit(context, RequiredScope(*request));
    if (!admitted.ok()) return RejectUnary(context, admitted.status());
    return admitted->set->connections->SyncConnection(context, request, response);
  }
  grpc::ServerWriteReactor<v1::WatchConnectionSyncResponse>* WatchConnectionSync(
      grpc::CallbackServerContext* context,
      const v1::WatchConnectionSyncRequest* request) override {
    absl::StatusOr<Admission> admitted = guard_->Admit(context, RequiredScope(*request));
    if (!admitted.ok()) {
      return new RejectWriter<v1::WatchConnectionSyncResponse>(admitted.status());
    }
    return admitted->set->connections->WatchConnectionSync(context, request);
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
    absl::StatusOr<Admission> admitted = guard_->Admit(context, RequiredScope(*request));
    if (!admitted.ok()) return RejectUnary(context, admitted.status());
    return admitted->set->groups->ListGroups(context, request, response);
  }
  grpc::ServerUnaryReactor* ListGroupConnections(
      grpc::CallbackServerContext* context, const v1::ListGroupConnectionsRequest* request,
      v1::ListGroupConnectionsResponse* response) override {
    absl::StatusOr<Admission> admitted = guard_->Admit(context, RequiredScope(*request));
    if (!admitted.ok()) return RejectUnary(context, admitted.status());
    return admitted->set->groups->ListGroupConnections(context, request, response);
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
    absl::StatusOr<Admission> admitted = guard_->Admit(context, RequiredScope(*request));
    if (!admitted.ok()) return RejectUnary(context, admitted.status());
    return admitted->set->users->ListUsers(context, request, response);
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

absl::StatusOr<Admission> ServiceGuard::Admit(grpc::CallbackServerContext* context,
                                              const RequiredAccess& access) {
  // The action's first word is the method ("WatchConnectionSync with trigger").
  const std::string method = access.action.substr(0, access.action.find(' '));
  const absl::Time start = absl::Now();
  std::shared_ptr<const TraceContext> trace = NewCallTrace(*context);
  absl::Status denied;
  const char* reason = "";  // Of a refusal, for the metrics.
  Admission admission{default_set_, nullptr, nullptr};
  if (options_.tokens != nullptr) {
    std::optional<absl::string_view> authorization = Metadata(*context, "authorization");
    denied = Authorize(*options_.tokens, authorization, access);
    if (!denied.ok()) reason = TokenRefusal(authorization, denied);
  }
  if (denied.ok()) {
    std::optional<absl::string_view> key = Metadata(*context, kApiKeyHeader);
    std::optional<absl::string_view> secret = Metadata(*context, kApiSecretHeader);
    if (key.has_value() || secret.has_value()) {
      if (!options_.allow_per_call_credentials || !factory_) {
        reason = "per_call_credentials_disabled";
        denied = MakeError(absl::StatusCode::kFailedPrecondition,
                           "per-call Fivetran credentials are disabled on this gateway "
                           "(--allow_per_call_credentials)",
                           "FAILED_PRECONDITION");
      } else if (!OverTls(*context)) {
        reason = "per_call_credentials_without_tls";
        denied = MakeError(absl::StatusCode::kUnauthenticated,
                           "per-call Fivetran credentials are accepted only over TLS",
                           "UNAUTHENTICATED");
      } else if (!key.has_value() || !secret.has_value() || key->empty() || secret->empty()) {
        reason = "per_call_credentials_incomplete";
        denied = MakeError(absl::StatusCode::kUnauthenticated,
                           "x-fivetran-api-key and x-fivetran-api-secret must be sent together",
                           "UNAUTHENTICATED");
      } else {
        absl::StatusOr<Admission> per_call = PerCallSet(std::string(*key), std::string(*secret));
        if (per_call.ok()) {
          admission = *std::move(per_call);
        } else {
          reason = "per_call_credentials_full";
          denied = per_call.status();
        }
      }
    }
  }
  if (!denied.ok()) {
    // Neither the token nor any credential is logged: the messages above
    // never contain them.
    spdlog::warn("rpc method={} code={} request_id={} trace_id={} peer={} error=\"{}\"", method,
                 CodeName(denied.code()), trace->request_id, trace->trace_id,
                 SafeText(context->peer()), SafeText(denied.message(), kMaxLoggedMessage));
    const GatewayMetrics& m = GatewayMetrics::Get();
    m.RecordRpc(method, CodeName(denied.code()), absl::Now() - start);
    m.auth_refusals->With({reason})->Increment();
    return denied;
  }
  admission.trace = std::make_unique<ScopedTrace>(std::move(trace));
  return admission;
}

absl::StatusOr<Admission> ServiceGuard::PerCallSet(const std::string& key,
                                                   const std::string& secret) {
  const std::string id = Sha256Hex(absl::StrCat(key, std::string(1, '\0'), secret));
  const absl::Time now = options_.now();
  std::vector<PerCall> dropped;  // Destroyed after the lock is released.
  absl::MutexLock lock(&mu_);
  Sweep(/*need_room=*/false, &dropped);
  auto it = per_call_.find(id);
  if (it == per_call_.end()) {
    if (per_call_.size() >= options_.max_per_call_credentials) Sweep(true, &dropped);
    if (per_call_.size() >= options_.max_per_call_credentials) {
      return MakeError(absl::StatusCode::kFailedPrecondition,
                       "too many distinct per-call Fivetran credentials in use on this gateway",
                       "FAILED_PRECONDITION");
    }
    auto usage = std::make_shared<Usage>(now);
    ApiDecorator track = [&](std::unique_ptr<fivetran::FivetranApi> api) {
      return std::make_unique<TrackingApi>(std::move(api), usage, options_.now);
    };
    it = per_call_.emplace(id, PerCall{factory_(key, secret, track), usage}).first;
    spdlog::info("per-call Fivetran credentials: {} set(s) in use", per_call_.size());
  }
  // The handler counts as use until it returns.
  std::shared_ptr<Usage> usage = it->second.usage;
  usage->Begin(now);
  auto now_fn = options_.now;
  std::shared_ptr<void> lease(nullptr, [usage, now_fn](void*) { usage->End(nullptr, now_fn()); });
  return Admission{it->second.set.get(), std::move(lease)};
}

void ServiceGuard::Sweep(bool need_room, std::vector<PerCall>* dropped) {
  const absl::Time now = options_.now();
  int idle = 0;
  auto oldest_unproven = per_call_.end();
  absl::Time oldest_time = absl::InfiniteFuture();
  for (auto it = per_call_.begin(); it != per_call_.end();) {
    Usage& u = *it->second.usage;
    bool drop = false;
    {
      absl::MutexLock lock(&u.mu);
      const bool in_use = u.in_flight > 0 || it->second.set->pollers->active_pollers() > 0;
      if (!in_use) {
        if (u.key == Usage::Key::kRejected) {
          drop = true;
        } else if (now - u.last_used >= options_.per_call_idle) {
          drop = true;
          ++idle;
        } else if (u.key == Usage::Key::kUnproven && u.last_used < oldest_time) {
          oldest_unproven = it;
          oldest_time = u.last_used;
        }
      }
    }
    if (drop) {
      if (it == oldest_unproven) oldest_unproven = per_call_.end();
      dropped->push_back(std::move(it->second));
      it = per_call_.erase(it);
    } else {
      ++it;
    }
  }
  if (need_room && oldest_unproven != per_call_.end()) {
    dropped->push_back(std::move(oldest_unproven->second));
    per_call_.erase(oldest_unproven);
  }
  if (idle > 0) spdlog::info("dropped {} idle per-call Fivetran credential set(s)", idle);
}

}  // namespace fivetran_gateway
