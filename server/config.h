// GatewayConfig: the gateway's command-line flags, checked and resolved
// (credentials read, tokens file loaded, upstream CAs bundled) into what
// Gateway (gateway.h) needs to run. Every refusal to start is one status
// here, with a message that names the fix; main prints it and exits 2.
#ifndef FIVETRAN_GATEWAY_SERVER_CONFIG_H_
#define FIVETRAN_GATEWAY_SERVER_CONFIG_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/auth.h"
#include "server/credentials.h"
#include "server/state/redis_store.h"
#include "server/tls.h"

namespace fivetran_gateway {

// The flags as given (main.cc documents each; README "Configuration").
struct GatewayFlags {
  std::string listen = "127.0.0.1:50051";
  std::string fivetran_base_url = "https://api.fivetran.com";
  std::string credentials_file;  // "" = FIVETRAN_API_KEY / FIVETRAN_API_SECRET.
  std::string fivetran_ca_file;
  absl::Duration grace_period = absl::Seconds(10);
  absl::Duration max_request_time = absl::Seconds(120);
  int max_attempts = 3;
  absl::Duration max_retry_wait = absl::Seconds(30);
  absl::Duration request_id_window = absl::Minutes(10);
  absl::Duration read_cache_ttl = absl::ZeroDuration();  // 0 = no read cache.
  std::string read_ahead = "auto";                       // auto, on or off.
  std::string upstream_compression = "auto";             // auto, gzip or none.
  absl::Duration sync_poll_interval = absl::Seconds(10);
  absl::Duration sync_poll_min_interval = absl::Seconds(1);
  int max_upstream_connections = 32;
  double rate_limit_reserve = 0.05;
  std::string port_file;
  std::string log_level = "info";
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
  absl::Duration tls_reload_interval = absl::Seconds(60);
  std::string auth_tokens_file;
  bool allow_unauthenticated = false;
  bool allow_per_call_credentials = false;
  absl::Duration per_call_credentials_idle = absl::Minutes(10);
  // Resource bounds of the gRPC listener (README "Security", "Limits").
  int max_streams_per_connection = 1000;
  int grpc_memory_limit_mb = 256;
  // GET /metrics (README "Metrics"): HOST:PORT, "" = off.
  std::string metrics_listen;
  bool allow_remote_metrics = false;  // A non-loopback --metrics_listen.
  std::string metrics_port_file;
  int max_health_watches = 1000;
  int max_health_watches_per_peer = 100;
  int max_reflection_streams = 32;
  // Fleet state (README "Running several replicas"); "" = this process only.
  std::string state_store;
  std::string state_store_password_file;
  std::string state_store_prefix = "fivetran-gateway:";
  std::string page_token_key_file;  // "" = unsigned page tokens.
};

// Where the fleet's shared state lives (--state_store).
struct StateStoreConfig {
  state::RedisEndpoint endpoint;
  std::string password;  // Secret: never logged. "" = no AUTH.
  std::string prefix;    // Of every key, e.g. "fivetran-gateway:".
};

struct GatewayConfig {
  std::string listen;
  std::string base_url;
  Credentials credentials;  // Secret: never logged.
  std::string log_level;    // debug, info, warn or error.
  bool tls = false;         // Listener TLS (tls_options set).
  ServerTlsOptions tls_options;
  std::optional<TokenStore> tokens;  // Caller tokens; nullopt = no caller authentication.
  bool allow_per_call_credentials = false;
  absl::Duration per_call_credentials_idle;  // Unused per-call sets are dropped after this.
  std::string upstream_ca_pem;  // System CAs plus --fivetran_ca_file; "" = system only.
  absl::Duration grace_period;
  absl::Duration max_request_time;
  int max_attempts = 3;  // At least 1.
  absl::Duration max_retry_wait;
  absl::Duration request_id_window;
  // How long reads are answered from the read cache; zero = no cache.
  absl::Duration read_cache_ttl;
  // Whether the next page of a paging caller's listing is read ahead
  // (server/fivetran/read_ahead_api.h): --read_ahead=on, or auto without a
  // fleet (behind a load balancer the next page mostly lands on another
  // replica, so a read-ahead would mostly be wasted).
  bool read_ahead = true;
  // Whether answers are asked for gzip-compressed (Accept-Encoding: gzip):
  // --upstream_compression=gzip, or auto unless the base URL's host is a
  // loopback address (the bundled emulator, a local proxy), where
  // compressing and inflating every answer only costs CPU on both sides.
  bool upstream_gzip = true;
  absl::Duration sync_poll_interval;  // Never below sync_poll_min_interval.
  absl::Duration sync_poll_min_interval;
  int max_upstream_connections = 32;
  // Share of the hourly request limit kept for interactive calls (0..1).
  double rate_limit_reserve = 0.05;
  std::string port_file;
  int max_streams_per_connection = 1000;  // At least 1.
  int grpc_memory_limit_mb = 256;         // At least 16.
  // Where GET /metrics is served (HOST:PORT, checked: loopback unless
  // --allow_remote_metrics); "" = no metrics listener.
  std::string metrics_listen;
  std::string metrics_port_file;          // The bound metrics port is written here.
  int max_health_watches = 1000;          // At least 1.
  int max_health_watches_per_peer = 100;  // At least 1, at most max_health_watches.
  int max_reflection_streams = 32;        // At least 1.
  // nullopt = no fleet: every replica keeps its own state (the default).
  std::optional<StateStoreConfig> state_store;
  // Signs page tokens (HMAC-SHA256); "" = unsigned. Secret: never logged.
  std::string page_token_key;
  // Accepted but worth a warning line at start-up (never holds a secret).
  std::vector<std::string> warnings;
};

// INVALID_ARGUMENT (or the loader's error) with the message to print when
// the gateway must not start: unknown log level; missing or unreadable
// credentials; a base URL that is not http(s); TLS key without certificate
// or files that do not match; --tls_client_ca without TLS; a bad tokens
// file; a non-loopback listener without tokens (unless
// allow_unauthenticated); per-call credentials without TLS; an unreadable
// --fivetran_ca_file; a --rate_limit_reserve outside 0..1; a negative
// --read_cache_ttl; a --read_ahead other than auto, on or off; an
// --upstream_compression other than auto, gzip or none; a --metrics_listen that is not
// HOST:PORT, or not loopback without --allow_remote_metrics; a bad --state_store URL, an unreadable
// or empty
// --state_store_password_file, either of the --state_store_* flags without
// --state_store, a --state_store_prefix that is empty, longer than 64 bytes
// or not printable ASCII without spaces; an unreadable
// --page_token_key_file or one holding fewer than 32 bytes.
absl::StatusOr<GatewayConfig> BuildConfig(const GatewayFlags& flags);

}  // namespace fivetran_gateway

#endif  // FIVETRAN_GATEWAY_SERVER_CONFIG_H_
