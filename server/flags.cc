// fivetran_gateway's command-line flags (README "Configuration").
#include "server/flags.h"

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"

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
ABSL_FLAG(absl::Duration, read_cache_ttl, absl::ZeroDuration(),
          "How long GetConnection and list pages are answered from memory (per credential "
          "set; dropped by creates and syncs through the gateway); 0s = off");
ABSL_FLAG(std::string, read_ahead, "auto",
          "Read the next page of a listing while a paging caller (one that sent a page token) "
          "reads the current one: on, off, or auto (on unless --state_store is set)");
ABSL_FLAG(std::string, upstream_compression, "auto",
          "Ask Fivetran for gzip-compressed answers: gzip, none, or auto (none when "
          "--fivetran_base_url names a loopback address, where compressing only costs CPU)");
ABSL_FLAG(absl::Duration, sync_poll_interval, absl::Seconds(10),
          "Default interval of the connection-details polls of WatchConnectionSync");
ABSL_FLAG(absl::Duration, sync_poll_min_interval, absl::Seconds(1),
          "Shortest polling interval a WatchConnectionSync caller may ask for");
ABSL_FLAG(int, max_upstream_connections, 64,
          "Connections open to Fivetran at a time; more requests queue");
ABSL_FLAG(double, rate_limit_reserve, 0.05,
          "Share of Fivetran's hourly request limit kept for interactive calls: below it, "
          "sync polling slows down (x4)");
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
ABSL_FLAG(absl::Duration, per_call_credentials_idle, absl::Minutes(10),
          "A per-call credential set with no call in flight and no watcher for this long is "
          "dropped (with its client and pollers)");
ABSL_FLAG(int, max_streams_per_connection, 1000,
          "Concurrent calls (HTTP/2 streams) one client connection may have open; more wait at "
          "the client until one ends");
ABSL_FLAG(int, grpc_memory_limit_mb, 256,
          "Memory the gRPC listener may use for connections and calls (MiB); under pressure it "
          "closes idle connections, then refuses streams");
ABSL_FLAG(std::string, metrics_listen, "",
          "Serve Prometheus metrics at http://HOST:PORT/metrics (port 0 = any); default off. "
          "Loopback only unless --allow_remote_metrics");
ABSL_FLAG(bool, allow_remote_metrics, false,
          "Serve --metrics_listen on a non-loopback address (GET /metrics needs no token)");
ABSL_FLAG(std::string, metrics_port_file, "",
          "After binding, write the bound metrics port to this file (for scripts and tests)");
ABSL_FLAG(int, max_health_watches, 1000,
          "Open grpc.health.v1.Health/Watch streams in all; more are refused "
          "(RESOURCE_EXHAUSTED)");
ABSL_FLAG(int, max_health_watches_per_peer, 100,
          "Open grpc.health.v1.Health/Watch streams from one client address; more are refused "
          "(RESOURCE_EXHAUSTED)");
ABSL_FLAG(int, max_reflection_streams, 32,
          "Open server reflection streams (each holds a thread while open); more are refused "
          "(RESOURCE_EXHAUSTED)");
// A fleet of replicas sharing state (README "Running several replicas").
ABSL_FLAG(std::string, state_store, "",
          "Shared state of a fleet of replicas: redis://HOST:PORT[/DB] or "
          "unix:///PATH[?db=N]; empty = this process's memory only");
ABSL_FLAG(std::string, state_store_password_file, "",
          "File holding the Redis password (AUTH) of --state_store");
ABSL_FLAG(std::string, state_store_prefix,
          "fivetran-gateway:", "Prefix of every key the gateway writes in --state_store");
ABSL_FLAG(std::string, page_token_key_file, "",
          "File with a secret of at least 32 bytes that signs page tokens (HMAC-SHA256); the "
          "same file on every replica. Empty = unsigned tokens");

namespace fivetran_gateway {

GatewayFlags ParseGatewayFlags(int argc, char** argv) {
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

  GatewayFlags f;
  f.listen = absl::GetFlag(FLAGS_listen);
  f.fivetran_base_url = absl::GetFlag(FLAGS_fivetran_base_url);
  f.credentials_file = absl::GetFlag(FLAGS_credentials_file);
  f.fivetran_ca_file = absl::GetFlag(FLAGS_fivetran_ca_file);
  f.grace_period = absl::GetFlag(FLAGS_grace_period);
  f.max_request_time = absl::GetFlag(FLAGS_max_request_time);
  f.max_attempts = absl::GetFlag(FLAGS_max_attempts);
  f.max_retry_wait = absl::GetFlag(FLAGS_max_retry_wait);
  f.request_id_window = absl::GetFlag(FLAGS_request_id_window);
  f.read_cache_ttl = absl::GetFlag(FLAGS_read_cache_ttl);
  f.read_ahead = absl::GetFlag(FLAGS_read_ahead);
  f.upstream_compression = absl::GetFlag(FLAGS_upstream_compression);
  f.sync_poll_interval = absl::GetFlag(FLAGS_sync_poll_interval);
  f.sync_poll_min_interval = absl::GetFlag(FLAGS_sync_poll_min_interval);
  f.max_upstream_connections = absl::GetFlag(FLAGS_max_upstream_connections);
  f.rate_limit_reserve = absl::GetFlag(FLAGS_rate_limit_reserve);
  f.port_file = absl::GetFlag(FLAGS_port_file);
  f.log_level = absl::GetFlag(FLAGS_log_level);
  f.tls_cert = absl::GetFlag(FLAGS_tls_cert);
  f.tls_key = absl::GetFlag(FLAGS_tls_key);
  f.tls_client_ca = absl::GetFlag(FLAGS_tls_client_ca);
  f.tls_reload_interval = absl::GetFlag(FLAGS_tls_reload_interval);
  f.auth_tokens_file = absl::GetFlag(FLAGS_auth_tokens_file);
  f.allow_unauthenticated = absl::GetFlag(FLAGS_allow_unauthenticated);
  f.allow_per_call_credentials = absl::GetFlag(FLAGS_allow_per_call_credentials);
  f.per_call_credentials_idle = absl::GetFlag(FLAGS_per_call_credentials_idle);
  f.max_streams_per_connection = absl::GetFlag(FLAGS_max_streams_per_connection);
  f.grpc_memory_limit_mb = absl::GetFlag(FLAGS_grpc_memory_limit_mb);
  f.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  f.allow_remote_metrics = absl::GetFlag(FLAGS_allow_remote_metrics);
  f.metrics_port_file = absl::GetFlag(FLAGS_metrics_port_file);
  f.max_health_watches = absl::GetFlag(FLAGS_max_health_watches);
  f.max_health_watches_per_peer = absl::GetFlag(FLAGS_max_health_watches_per_peer);
  f.max_reflection_streams = absl::GetFlag(FLAGS_max_reflection_streams);
  f.state_store = absl::GetFlag(FLAGS_state_store);
  f.state_store_password_file = absl::GetFlag(FLAGS_state_store_password_file);
  f.state_store_prefix = absl::GetFlag(FLAGS_state_store_prefix);
  f.page_token_key_file = absl::GetFlag(FLAGS_page_token_key_file);
  return f;
}

}  // namespace fivetran_gateway
