#include "server/gateway.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/resource_quota.h>

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "fivetran/gateway/v1/connection_service.grpc.pb.h"
#include "fivetran/gateway/v1/group_service.grpc.pb.h"
#include "fivetran/gateway/v1/user_service.grpc.pb.h"
#include "server/auth.h"
#include "server/common/gateway_metrics.h"
#include "server/fivetran/cached_api.h"
#include "server/fivetran/client.h"
#include "server/fivetran/coalescing_api.h"
#include "server/fivetran/read_ahead_api.h"
#include "server/fivetran/rest_api.h"
#include "server/idempotency.h"
#include "server/services.h"
#include "server/shared_budget.h"
#include "server/shared_creates.h"
#include "server/shared_polls.h"
#include "server/state/keys.h"
#include "server/sync_watch.h"
#include "server/version.h"
#include "spdlog/spdlog.h"

namespace fivetran_gateway {

namespace v1 = ::fivetran::gateway::v1;

Gateway::Gateway(GatewayConfig config) : config_(std::move(config)) {}

Gateway::~Gateway() {
  metrics_server_.reset();
  stopping_ = true;
  if (server_ != nullptr) {
    server_->Shutdown(absl::ToChronoTime(absl::Now()));
    server_->Wait();
  }
  // Every RPC has ended, but upstream calls may still run on their own
  // (creates with a request_id, sync polls, calls between retries). Stop
  // them while the services their callbacks reach are still alive: first
  // the timers (pending waits are dropped; a retry due from now on ends its
  // call with the last error), then the transport (transfers in flight end
  // as cancelled, queued ones as not sent, and their callbacks run now).
  if (timers_ != nullptr) timers_->Stop();
  if (store_ != nullptr) store_->Stop();
  transport_.reset();
}

// The services of one set of Fivetran credentials: the gateway's own, and
// (--allow_per_call_credentials) one set per caller-supplied key pair. Each
// set has its own client, sync pollers, request-id cache and read cache, so one
// account's caller never sees another's results.
std::unique_ptr<ServiceSet> Gateway::MakeSet(const std::string& api_key,
                                             const std::string& api_secret,
                                             const ApiDecorator& decorate) {
  fivetran::ClientOptions options;
  options.base_url = config_.base_url;
  options.api_key = api_key;
  options.api_secret = api_secret;
  options.user_agent = absl::StrCat("fivetran-gateway/", kVersion);
  options.max_request_time = config_.max_request_time;
  options.retry.max_attempts = config_.max_attempts;
  options.retry.max_retry_wait = config_.max_retry_wait;
  // One budget per credential set: a 429 stops every call made with it.
  options.budget = std::make_shared<fivetran::RateBudget>(config_.rate_limit_reserve);
  // The set's label in metrics: 8 hex digits of the key's SHA-256 (the key
  // is an identifier, the secret is never hashed into anything exposed).
  options.credential_set = Sha256Hex(api_key).substr(0, 8);
  // With a fleet, one budget per credential set across every replica.
  if (store_ != nullptr) {
    options.budget->set_fleet(std::make_shared<SharedBudget>(
        store_.get(), state::CredentialScope(api_key), options.budget));
  }
  IdempotencyOptions idempotency;
  idempotency.window = config_.request_id_window;
  SyncWatchOptions watch;
  watch.default_poll_interval = config_.sync_poll_interval;
  watch.min_poll_interval = config_.sync_poll_min_interval;
  watch.budget_low = [budget = options.budget] { return budget->BelowReserve(); };
  if (store_ != nullptr) {
    // One replica reads each watched connection per interval (shared_polls.h).
    auto polls =
        std::make_shared<SharedPolls>(store_.get(), state::CredentialScope(api_key), timers_.get());
    watch.fleet_poll = [polls](const std::string& id, absl::Duration interval,
                               SyncWatchOptions::Read read,
                               fivetran::ApiCallback<v1::Connection> done) {
      return polls->Poll(id, interval, std::move(read), std::move(done));
    };
  }

  auto set = std::make_unique<ServiceSet>();
  set->client =
      std::make_unique<fivetran::FivetranClient>(options, transport_.get(), timers_.get());
  set->rest_api = std::make_unique<fivetran::RestFivetranApi>(set->client.get());
  // The read cache sits below coalescing: an entry is the answer of the one
  // request that read it (so a change drops any read that was in flight),
  // and concurrent misses of one key cost one request
  // (server/fivetran/cached_api.h).
  fivetran::FivetranApi* reads = set->rest_api.get();
  if (config_.read_cache_ttl > absl::ZeroDuration()) {
    fivetran::ReadCacheOptions cache;
    cache.ttl = config_.read_cache_ttl;
    set->read_cache = std::make_unique<fivetran::CachingFivetranApi>(reads, timers_.get(), cache);
    reads = set->read_cache.get();
  }
  std::unique_ptr<fivetran::FivetranApi> api =
      std::make_unique<fivetran::CoalescingFivetranApi>(reads, timers_.get());
  // The read-ahead sits above coalescing, so that a caller's read joins the
  // read-ahead of its page in flight (server/fivetran/read_ahead_api.h).
  if (config_.read_ahead) {
    fivetran::ReadAheadOptions read_ahead;
    // Nothing read ahead under the reserve, nor while a 429's Retry-After
    // runs (it would be refused unsent anyway: counted as skipped, not as
    // unused).
    read_ahead.budget_low = [budget = options.budget] {
      return budget->BelowReserve() || budget->BlockedFor(absl::Now()).has_value();
    };
    read_ahead.timeout = config_.max_request_time;
    set->coalescing = std::move(api);
    api = std::make_unique<fivetran::ReadAheadFivetranApi>(set->coalescing.get(), timers_.get(),
                                                           read_ahead);
  }
  set->api = std::move(api);
  if (decorate) set->api = decorate(std::move(set->api));
  set->pollers = std::make_shared<SyncPollers>(set->api.get(), timers_.get(), watch);
  std::shared_ptr<SharedCreates> shared_creates;
  if (store_ != nullptr) {
    SharedCreateOptions shared;
    shared.window = config_.request_id_window;
    shared_creates = std::make_shared<SharedCreates>(store_.get(), state::CredentialScope(api_key),
                                                     timers_.get(), shared);
  }
  set->connections = std::make_unique<ConnectionServiceImpl>(
      set->api.get(), set->pollers, timers_.get(), std::make_shared<IdempotencyCache>(idempotency),
      std::move(shared_creates));
  set->groups = std::make_unique<GroupServiceImpl>(set->api.get());
  set->users = std::make_unique<UserServiceImpl>(set->api.get());
  set->groups->set_page_token_key(config_.page_token_key);
  set->users->set_page_token_key(config_.page_token_key);
  return set;
}

absl::Status Gateway::Start() {
  for (const std::string& warning : config_.warnings) spdlog::warn("{}", warning);

  fivetran::CurlTransportOptions transport_options;
  transport_options.ca_pem = config_.upstream_ca_pem;
  transport_options.max_host_connections = config_.max_upstream_connections;
  transport_options.gzip = config_.upstream_gzip;
  transport_ = std::make_unique<fivetran::CurlTransport>(transport_options);
  timers_ = std::make_unique<TimerQueue>();
  if (config_.state_store.has_value()) {
    state::RedisStoreOptions store;
    store.endpoint = config_.state_store->endpoint;
    store.password = config_.state_store->password;
    store.prefix = config_.state_store->prefix;
    store_ = std::make_unique<state::RedisStateStore>(store);
  }
  default_set_ = MakeSet(config_.credentials.api_key, config_.credentials.api_secret);
  ServiceSetFactory per_call_factory;
  if (config_.allow_per_call_credentials) {
    per_call_factory = [this](const std::string& key, const std::string& secret,
                              const ApiDecorator& decorate) {
      return MakeSet(key, secret, decorate);
    };
  }
  GuardOptions guard_options;
  guard_options.tokens = config_.tokens.has_value() ? &*config_.tokens : nullptr;
  guard_options.allow_per_call_credentials = config_.allow_per_call_credentials;
  guard_options.per_call_idle = config_.per_call_credentials_idle;
  guard_ = std::make_unique<ServiceGuard>(guard_options, default_set_.get(), per_call_factory);

  // The standard health service, with bounds on open Watch streams (it
  // needs no token).
  health_ = std::make_unique<HealthService>(
      HealthLimits{config_.max_health_watches, config_.max_health_watches_per_peer},
      std::vector<std::string>{v1::ConnectionService::service_full_name(),
                               v1::GroupService::service_full_name(),
                               v1::UserService::service_full_name()});
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  grpc::ServerBuilder builder;
  builder.AddListeningPort(config_.listen,
                           config_.tls ? MakeServerTlsCredentials(config_.tls_options)
                                       : grpc::InsecureServerCredentials(),
                           &port_);
  builder.RegisterService(guard_->connections());
  builder.RegisterService(guard_->groups());
  builder.RegisterService(guard_->users());
  builder.RegisterService(health_.get());
  builder.SetMaxReceiveMessageSize(4 << 20);
  // A port another process (say, an old gateway) listens on is an error, not
  // a share: gRPC's default SO_REUSEPORT would split new connections between
  // the two without a word.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // Bounds against callers who open streams and never end them (health
  // Watch needs no token): streams per connection (further ones wait at the
  // client), and the memory of all connections and calls together (under
  // pressure gRPC closes idle connections, then cancels streams with
  // RESOURCE_EXHAUSTED instead of growing).
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, config_.max_streams_per_connection);
  grpc::ResourceQuota quota("fivetran_gateway");
  quota.Resize(static_cast<size_t>(config_.grpc_memory_limit_mb) << 20);
  // Reflection is the one synchronous service: each open stream holds a
  // thread. One completion queue with one polling thread makes the thread
  // bound exact: one poller plus a thread per open stream; a stream beyond
  // it is refused with RESOURCE_EXHAUSTED.
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::NUM_CQS, 1);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 1);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, 1);
  quota.SetMaxThreads(config_.max_reflection_streams + 1);
  builder.SetResourceQuota(quota);
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    server_ = nullptr;
    return absl::UnavailableError(absl::StrCat("cannot listen on ", config_.listen));
  }
  // A unix socket has no port (gRPC reports 1): say its path.
  const bool unix_socket = absl::StartsWith(config_.listen, "unix:") ||
                           absl::StartsWith(config_.listen, "unix-abstract:");
  const std::string where =
      unix_socket ? config_.listen
                  : absl::StrCat(config_.listen.substr(0, config_.listen.rfind(':')), ":", port_);
  spdlog::info("fivetran_gateway {} listening on {}, upstream {}", kVersion, where,
               config_.base_url);
  GatewayMetrics::Get().build_info->With({kVersion})->Set(1);
  if (config_.tls) {
    GatewayMetrics::Get().tls_reloads->With({});  // 0 until a change.
    tls_watch_ = std::make_unique<TlsFileWatch>(config_.tls_options);
    WatchTlsFiles();
  }
  if (!config_.metrics_listen.empty()) {
    absl::StatusOr<std::unique_ptr<MetricsServer>> metrics =
        MetricsServer::Start(config_.metrics_listen);
    if (!metrics.ok()) return metrics.status();
    metrics_server_ = *std::move(metrics);
    spdlog::info("metrics: http://{}:{}/metrics",
                 config_.metrics_listen.substr(0, config_.metrics_listen.rfind(':')),
                 metrics_server_->port());
  }
  if (config_.read_cache_ttl > absl::ZeroDuration()) {
    spdlog::info("read cache on: ttl {} per credential set",
                 absl::FormatDuration(config_.read_cache_ttl));
  }
  if (store_ != nullptr) {
    spdlog::info("fleet state shared through {} (prefix {})", store_->description(),
                 config_.state_store->prefix);
    ProbeStore();
  }
  spdlog::info("upstream answers {}", config_.upstream_gzip
                                          ? "asked for gzip-compressed"
                                          : "not compressed (--upstream_compression)");
  spdlog::info("security: listener {}{}, caller tokens {}{}, upstream CAs {}",
               config_.tls ? "TLS" : "plaintext",
               config_.tls_options.client_ca_file.empty() ? "" : " (mutual)",
               config_.tokens.has_value() ? absl::StrCat(config_.tokens->size(), " loaded") : "off",
               config_.allow_per_call_credentials ? ", per-call credentials on" : "",
               config_.upstream_ca_pem.empty() ? "system" : "system + --fivetran_ca_file");
  return absl::OkStatus();
}

void Gateway::WatchTlsFiles() {
  const TlsFileWatch::Look look = tls_watch_->Check();
  const GatewayMetrics& m = GatewayMetrics::Get();
  if (look.changed) {
    m.tls_reloads->With({})->Increment();
    spdlog::info("listener certificate files changed: new connections get the new certificate");
  }
  if (look.not_after.has_value()) {
    m.tls_certificate_expiry->With({})->Set(absl::ToUnixSeconds(*look.not_after));
  }
  timers_->Schedule(absl::Now() + std::max(absl::Seconds(1), config_.tls_options.reload_interval),
                    [this] { WatchTlsFiles(); });
}

void Gateway::ProbeStore() {
  store_->Get("health-probe", [this](absl::StatusOr<state::MaybeValue> v) {
    if (stopping_.load()) return;
    GatewayMetrics::Get().state_store_up->With({})->Set(v.ok() ? 1 : 0);
    health_->SetServing(kStateStoreHealthService, v.ok());
    timers_->Schedule(absl::Now() + absl::Seconds(1), [this] { ProbeStore(); });
  });
}

void Gateway::Shutdown(absl::Duration grace) {
  if (server_ == nullptr) return;
  stopping_ = true;
  health_->Shutdown();
  server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
}

void Gateway::Wait() {
  if (server_ != nullptr) server_->Wait();
}

}  // namespace fivetran_gateway
