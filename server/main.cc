// fivetran_gateway: the Fivetran REST API behind one gRPC interface.
//
//   FIVETRAN_API_KEY=... FIVETRAN_API_SECRET=... fivetran_gateway
//       --listen=127.0.0.1:50051 --fivetran_base_url=https://api.fivetran.com
//
// Serves fivetran.gateway.v1.{Connection,Group,User}Service, server
// reflection and grpc.health.v1.Health. SIGINT/SIGTERM: stop accepting,
// drain in-flight calls for --grace_period, exit 0.
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "grpc/health/v1/health.pb.h"
#include "server/auth.h"
#include "server/auth_services.h"
#include "server/credentials.h"
#include "server/fivetran/client.h"
#include "server/fivetran/http_transport.h"
#include "server/fivetran/rest_api.h"
#include "server/services.h"
#include "server/tls.h"
#include "server/version.h"
#include "spdlog/spdlog.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051", "gRPC listen address HOST:PORT (port 0 = any)");
ABSL_FLAG(std::string, fivetran_base_url, "https://api.fivetran.com",
          "Fivetran REST API base URL (the emulator: http://127.0.0.1:8089)");
ABSL_FLAG(std::string, credentials_file, "",
          "File with FIVETRAN_API_KEY=... and FIVETRAN_API_SECRET=... lines; default: the "
          "environment variables of the same names");
ABSL_FLAG(std::string, fivetran_ca_file, "",
          "PEM file of CAs to trust for the Fivetran URL in addition to the system's "
          "(verification is always on)");
ABSL_FLAG(absl::Duration, grace_period, absl::Seconds(10),
          "How long in-flight calls may finish after SIGINT/SIGTERM");
ABSL_FLAG(absl::Duration, max_request_time, absl::Seconds(120),
          "Upper bound of one Fivetran request when the caller's deadline is later or unset");
// Retries and idempotent creates (README "Retries and idempotency").
ABSL_FLAG(int, max_attempts, 3,
          "Attempts per upstream call, the first included: GETs after refused or dropped "
          "connections, 429, 500 (once), 502, 503, 504; POSTs only when never sent or 429");
ABSL_FLAG(absl::Duration, max_retry_wait, absl::Seconds(30),
          "Longest Retry-After waited out before retrying; a longer one ends the call at once");
ABSL_FLAG(absl::Duration, request_id_window, absl::Minutes(10),
          "How long the result of a create with a request_id is replayed to a duplicate");
ABSL_FLAG(absl::Duration, sync_poll_interval, absl::Seconds(10),
          "Default interval of the connection-details polls of WatchConnectionSync");
ABSL_FLAG(absl::Duration, sync_poll_min_interval, absl::Seconds(1),
          "Shortest polling interval a WatchConnectionSync caller may ask for");
ABSL_FLAG(int, max_upstream_connections, 32,
          "Connections open to Fivetran at a time; more requests queue");
ABSL_FLAG(std::string, port_file, "",
          "After binding, write the bound gRPC port to this file (for scripts and tests)");
ABSL_FLAG(std::string, log_level, "info", "debug, info, warn or error");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate chain of the gRPC listener (with --tls_key); default plaintext");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CAs of client certificates: mutual TLS, clients must present a certificate "
          "they sign");
ABSL_FLAG(absl::Duration, tls_reload_interval, absl::Seconds(60),
          "How often --tls_cert, --tls_key and --tls_client_ca are re-read (at least 1s)");
ABSL_FLAG(std::string, auth_tokens_file, "",
          "Callers must send `authorization: Bearer TOKEN` with a token of this file "
          "(lines `read TOKEN`, `write TOKEN` or `SCOPE sha256:HEX`, # comments)");
ABSL_FLAG(bool, allow_unauthenticated, false,
          "Serve callers without tokens on a non-loopback --listen address");
ABSL_FLAG(bool, allow_per_call_credentials, false,
          "Accept the caller's own Fivetran credentials in x-fivetran-api-key / "
          "x-fivetran-api-secret metadata (needs --tls_cert)");

namespace fivetran_gateway {
namespace {

void WritePortFile(const std::string& path, int port) {
  if (path.empty()) return;
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << port << "\n";
  }
  std::rename(tmp.c_str(), path.c_str());
}

int Run() {
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  const std::string level = absl::GetFlag(FLAGS_log_level);
  if (level != "debug" && level != "info" && level != "warn" && level != "error") {
    std::fprintf(stderr, "fivetran_gateway: --log_level must be debug, info, warn or error\n");
    return 2;
  }
  spdlog::set_level(spdlog::level::from_str(level));

  absl::StatusOr<Credentials> credentials = LoadCredentials(absl::GetFlag(FLAGS_credentials_file));
  if (!credentials.ok()) {
    std::fprintf(stderr, "fivetran_gateway: %s\n",
                 std::string(credentials.status().message()).c_str());
    return 2;
  }
  std::string base_url = absl::GetFlag(FLAGS_fivetran_base_url);
  if (!absl::StartsWith(base_url, "https://") && !absl::StartsWith(base_url, "http://")) {
    std::fprintf(stderr,
                 "fivetran_gateway: --fivetran_base_url must start with https:// or http://\n");
    return 2;
  }
  if (absl::StartsWith(base_url, "http://")) {
    spdlog::warn("--fivetran_base_url is plain HTTP: use it only for a local emulator");
  }

  // Security: listener TLS, caller tokens, per-call credentials.
  ServerTlsOptions tls_options;
  tls_options.cert_file = absl::GetFlag(FLAGS_tls_cert);
  tls_options.key_file = absl::GetFlag(FLAGS_tls_key);
  tls_options.client_ca_file = absl::GetFlag(FLAGS_tls_client_ca);
  tls_options.reload_interval = absl::GetFlag(FLAGS_tls_reload_interval);
  const bool tls = !tls_options.cert_file.empty() || !tls_options.key_file.empty();
  if (tls) {
    if (absl::Status s = CheckServerTlsFiles(tls_options); !s.ok()) {
      std::fprintf(stderr, "fivetran_gateway: %s\n", std::string(s.message()).c_str());
      return 2;
    }
  } else if (!tls_options.client_ca_file.empty()) {
    std::fprintf(stderr, "fivetran_gateway: --tls_client_ca needs --tls_cert and --tls_key\n");
    return 2;
  }
  std::optional<TokenStore> tokens;
  if (const std::string path = absl::GetFlag(FLAGS_auth_tokens_file); !path.empty()) {
    absl::StatusOr<TokenStore> loaded = TokenStore::Load(path);
    if (!loaded.ok()) {
      std::fprintf(stderr, "fivetran_gateway: --auth_tokens_file: %s\n",
                   std::string(loaded.status().message()).c_str());
      return 2;
    }
    tokens = std::move(*loaded);
  }
  const std::string listen_address = absl::GetFlag(FLAGS_listen);
  if (!tokens.has_value() && !IsLoopbackListenAddress(listen_address) &&
      !absl::GetFlag(FLAGS_allow_unauthenticated)) {
    std::fprintf(stderr,
                 "fivetran_gateway: refusing to serve %s without caller authentication: anyone "
                 "who can reach it could use the gateway's Fivetran credentials. Give "
                 "--auth_tokens_file (see README.md, Security), listen on a loopback address, "
                 "or pass --allow_unauthenticated if the network is otherwise protected.\n",
                 listen_address.c_str());
    return 2;
  }
  if (absl::GetFlag(FLAGS_allow_per_call_credentials) && !tls) {
    std::fprintf(stderr,
                 "fivetran_gateway: --allow_per_call_credentials needs --tls_cert and --tls_key: "
                 "credentials must not cross the network in plaintext\n");
    return 2;
  }
  std::string upstream_ca;
  if (const std::string path = absl::GetFlag(FLAGS_fivetran_ca_file); !path.empty()) {
    absl::StatusOr<std::string> bundle = UpstreamCaBundle(path);
    if (!bundle.ok()) {
      std::fprintf(stderr, "fivetran_gateway: %s\n",
                   std::string(bundle.status().message()).c_str());
      return 2;
    }
    upstream_ca = std::move(*bundle);
  }

  // Block the shutdown signals in every thread; one thread waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  fivetran::CurlTransportOptions transport_options;
  transport_options.ca_pem = upstream_ca;
  transport_options.max_host_connections = absl::GetFlag(FLAGS_max_upstream_connections);
  fivetran::CurlTransport transport(transport_options);
  // Waits between attempts, sync polls, watch deadlines. Before the clients,
  // after the transport: it stops (dropping pending waits) before the
  // transport does.
  TimerQueue timers;
  fivetran::ClientOptions client_options;
  client_options.base_url = base_url;
  client_options.api_key = credentials->api_key;
  client_options.api_secret = credentials->api_secret;
  client_options.user_agent = absl::StrCat("fivetran-gateway/", kVersion);
  client_options.max_request_time = absl::GetFlag(FLAGS_max_request_time);
  client_options.retry.max_attempts = std::max(1, absl::GetFlag(FLAGS_max_attempts));
  client_options.retry.max_retry_wait = absl::GetFlag(FLAGS_max_retry_wait);
  IdempotencyOptions idempotency_options;
  idempotency_options.window = absl::GetFlag(FLAGS_request_id_window);
  SyncWatchOptions watch_options;
  watch_options.default_poll_interval = absl::GetFlag(FLAGS_sync_poll_interval);
  watch_options.min_poll_interval = absl::GetFlag(FLAGS_sync_poll_min_interval);
  if (watch_options.default_poll_interval < watch_options.min_poll_interval) {
    watch_options.default_poll_interval = watch_options.min_poll_interval;
  }
  // The services of one set of Fivetran credentials: the gateway's own, and
  // (--allow_per_call_credentials) one set per caller-supplied key pair. Each
  // set has its own client, sync pollers and request-id cache, so one
  // account's caller never sees another's results.
  auto make_set = [&](const fivetran::ClientOptions& options) {
    auto set = std::make_unique<ServiceSet>();
    set->client = std::make_unique<fivetran::FivetranClient>(options, &transport, &timers);
    set->api = std::make_unique<fivetran::RestFivetranApi>(set->client.get());
    set->pollers = std::make_shared<SyncPollers>(set->api.get(), &timers, watch_options);
    set->connections = std::make_unique<ConnectionServiceImpl>(
        set->api.get(), set->pollers, &timers,
        std::make_shared<IdempotencyCache>(idempotency_options));
    set->groups = std::make_unique<GroupServiceImpl>(set->api.get());
    set->users = std::make_unique<UserServiceImpl>(set->api.get());
    return set;
  };
  std::unique_ptr<ServiceSet> default_set = make_set(client_options);
  ServiceSetFactory per_call_factory;
  if (absl::GetFlag(FLAGS_allow_per_call_credentials)) {
    per_call_factory = [&, client_options](const std::string& key, const std::string& secret) {
      fivetran::ClientOptions options = client_options;
      options.api_key = key;
      options.api_secret = secret;
      return make_set(options);
    };
  }
  GuardOptions guard_options;
  guard_options.tokens = tokens.has_value() ? &*tokens : nullptr;
  guard_options.allow_per_call_credentials = absl::GetFlag(FLAGS_allow_per_call_credentials);
  ServiceGuard guard(guard_options, default_set.get(), per_call_factory);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  // Links health.proto's descriptors so reflection can describe the service.
  (void)grpc::health::v1::HealthCheckRequest::descriptor();

  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(
      listen_address,
      tls ? MakeServerTlsCredentials(tls_options) : grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(guard.connections());
  builder.RegisterService(guard.groups());
  builder.RegisterService(guard.users());
  builder.SetMaxReceiveMessageSize(4 << 20);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::fprintf(stderr, "fivetran_gateway: cannot listen on %s\n", listen_address.c_str());
    return 1;
  }
  std::string host = listen_address.substr(0, listen_address.rfind(':'));
  spdlog::info("fivetran_gateway {} listening on {}:{}, upstream {}", kVersion, host, port,
               base_url);
  spdlog::info("security: listener {}{}, caller tokens {}{}, upstream CAs {}",
               tls ? "TLS" : "plaintext", tls_options.client_ca_file.empty() ? "" : " (mutual)",
               tokens.has_value() ? absl::StrCat(tokens->size(), " loaded") : "off",
               guard_options.allow_per_call_credentials ? ", per-call credentials on" : "",
               upstream_ca.empty() ? "system" : "system + --fivetran_ca_file");
  if (!tokens.has_value() && !IsLoopbackListenAddress(listen_address)) {
    spdlog::warn("serving {} without caller authentication (--allow_unauthenticated)",
                 listen_address);
  }
  if (tokens.has_value() && !tls && !IsLoopbackListenAddress(listen_address)) {
    spdlog::warn("bearer tokens cross the network in plaintext: use --tls_cert and --tls_key");
  }
  WritePortFile(absl::GetFlag(FLAGS_port_file), port);

  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    absl::Duration grace = absl::GetFlag(FLAGS_grace_period);
    spdlog::info("received {}, draining for up to {}", sig == SIGINT ? "SIGINT" : "SIGTERM",
                 absl::FormatDuration(grace));
    server->GetHealthCheckService()->SetServingStatus(false);
    server->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  });
  server->Wait();
  waiter.join();
  spdlog::info("stopped");
  return 0;
}

}  // namespace
}  // namespace fivetran_gateway

int main(int argc, char** argv) {
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view file) {
    return absl::StrContains(file, "server/");
  };
  usage.contains_helpshort_flags = usage.contains_help_flags;
  absl::SetFlagsUsageConfig(usage);
  absl::SetProgramUsageMessage(
      "gRPC gateway to the Fivetran REST API.\n"
      "Credentials come from FIVETRAN_API_KEY / FIVETRAN_API_SECRET or --credentials_file.");
  absl::ParseCommandLine(argc, argv);
  return fivetran_gateway::Run();
}
