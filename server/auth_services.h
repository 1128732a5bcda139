// The services as registered with gRPC: each call is admitted first (bearer
// token and scope, per-call Fivetran credentials), then handed to the plain
// services of services.h. A refused call ends at once with UNAUTHENTICATED,
// PERMISSION_DENIED or FAILED_PRECONDITION (one ErrorInfo) and never reaches
// Fivetran. Health and reflection are separate services: never guarded.
//
// A method added to the proto but not forwarded here answers UNIMPLEMENTED,
// so a new RPC cannot bypass the check by accident.
#ifndef FIVETRAN_GATEWAY_SERVER_AUTH_SERVICES_H_
#define FIVETRAN_GATEWAY_SERVER_AUTH_SERVICES_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/auth.h"
#include "server/common/trace_context.h"
#include "server/fivetran/client.h"
#include "server/fivetran/fivetran_api.h"
#include "server/services.h"

namespace fivetran_gateway {

// The services bound to one set of Fivetran credentials.
struct ServiceSet {
  std::unique_ptr<fivetran::FivetranClient> client;
  std::unique_ptr<fivetran::FivetranApi> rest_api;  // Over `client`.
  // Over `rest_api` when --read_cache_ttl is set; null otherwise.
  std::unique_ptr<fivetran::FivetranApi> read_cache;
  // Coalescing over `read_cache` (or `rest_api`) when the read-ahead is on
  // (it is then in `api`); null otherwise.
  std::unique_ptr<fivetran::FivetranApi> coalescing;
  // What the services call: the decorators over `rest_api` (the read cache
  // if on, coalescing, the read-ahead if on, then the guard's usage
  // tracking for per-call credential sets).
  std::unique_ptr<fivetran::FivetranApi> api;
  std::shared_ptr<SyncPollers> pollers;
  std::unique_ptr<ConnectionServiceImpl> connections;
  std::unique_ptr<GroupServiceImpl> groups;
  std::unique_ptr<UserServiceImpl> users;
};

// Wraps the API of a set in one more decorator (the guard's usage tracking).
using ApiDecorator =
    std::function<std::unique_ptr<fivetran::FivetranApi>(std::unique_ptr<fivetran::FivetranApi>)>;

// Builds a ServiceSet for the given Fivetran API key and secret; its
// services must call the API through `decorate(api)`.
using ServiceSetFactory = std::function<std::unique_ptr<ServiceSet>(
    const std::string& api_key, const std::string& api_secret, const ApiDecorator& decorate)>;

struct GuardOptions {
  // Callers must present one of these tokens; null: no caller authentication.
  const TokenStore* tokens = nullptr;
  // Callers may send `x-fivetran-api-key` / `x-fivetran-api-secret` to use
  // their own Fivetran credentials (only honoured over TLS).
  bool allow_per_call_credentials = false;
  // Distinct per-call credential pairs served at once (each has its own
  // client and sync pollers).
  size_t max_per_call_credentials = 64;
  // A set not in use (no call in flight, no watcher) for this long is
  // dropped when per-call credentials are next admitted. A set whose key
  // Fivetran has not accepted yet (no call succeeded), or rejected (401),
  // is dropped as soon as it is not in use.
  absl::Duration per_call_idle = absl::Minutes(10);
  std::function<absl::Time()> now = [] { return absl::Now(); };
};

class ServiceGuard {
 public:
  // `default_set` serves calls without per-call credentials; `factory` builds
  // the sets for per-call credentials (may be empty when they are disabled).
  ServiceGuard(GuardOptions options, ServiceSet* default_set, ServiceSetFactory factory);
  ~ServiceGuard();

  // The services to register with the server builder.
  grpc::Service* connections();
  grpc::Service* groups();
  grpc::Service* users();

  // How one per-call set is used (auth_services.cc).
  struct Usage;

  // The set that serves one call. `lease` keeps a per-call set from being
  // dropped until the handler has started its work (whose API calls then
  // count as use).
  struct Admission {
    ServiceSet* set;
    std::shared_ptr<void> lease;
    // The call's trace context (rpc_reactor.h NewCallTrace), installed on
    // this thread while the Admission lives: the handler's upstream
    // requests carry it.
    std::unique_ptr<ScopedTrace> trace;
  };
  // The set that serves the call, or the status to end it with (logged here
  // without any credential, and counted in the metrics by reason).
  absl::StatusOr<Admission> Admit(grpc::CallbackServerContext* context,
                                  const RequiredAccess& access);

 private:
  class Connections;
  class Groups;
  class Users;

  struct PerCall {
    std::unique_ptr<ServiceSet> set;
    std::shared_ptr<Usage> usage;
  };
  absl::StatusOr<Admission> PerCallSet(const std::string& key, const std::string& secret);
  // Moves the sets that may go out of per_call_ (to be destroyed outside
  // the lock); `need_room`: also the one unproven set least recently used.
  void Sweep(bool need_room, std::vector<PerCall>* dropped) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const GuardOptions options_;
  ServiceSet* const default_set_;
  const ServiceSetFactory factory_;
  std::unique_ptr<Connections> connections_;
  std::unique_ptr<Groups> groups_;
  std::unique_ptr<Users> users_;
  absl::Mutex mu_;
  // Keyed by SHA-256(key NUL secret).
  std::map<std::string, PerCall> per_call_ ABSL_GUARDED_BY(mu_);
};

}  // namespace fivetran_gateway

#endif  // FIVETRAN_GATEWAY_SERVER_AUTH_SERVICES_H_
