#include "server/config.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace fivetran_gateway {
namespace {

absl::Status Refuse(absl::string_view message) { return absl::InvalidArgumentError(message); }

// Whether an http(s) base URL's host is a loopback address (or localhost
// resolving only to loopback), as IsLoopbackListenAddress decides.
bool BaseUrlIsLoopback(absl::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == absl::string_view::npos) return false;
  absl::string_view authority = url.substr(scheme + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (const size_t at = authority.rfind('@'); at != absl::string_view::npos) {
    authority = authority.substr(at + 1);
  }
  // The host alone: no port, an IPv6 literal without its brackets.
  absl::string_view host = authority;
  if (absl::ConsumePrefix(&host, "[")) {
    const size_t close = host.find(']');
    if (close == absl::string_view::npos) return false;
    host = host.substr(0, close);
  } else {
    host = host.substr(0, host.find(':'));
  }
  // Passed as [HOST]:PORT, so that it is read as a host whatever its name:
  // a host named "unix" is a name the resolver decides, not the listen
  // address unix:PATH.
  return IsLoopbackListenAddress(absl::StrCat("[", host, "]:443"));
}

// `--listen` is HOST:PORT (an IPv6 host in brackets) or unix:PATH. gRPC
// would take a missing port as 443 and bind it without a word.
// `--metrics_listen` is HOST:PORT only.
absl::Status CheckListen(const std::string& listen, absl::string_view flag = "--listen",
                         bool unix_ok = true) {
  const bool unix_socket =
      absl::StartsWith(listen, "unix:") || absl::StartsWith(listen, "unix-abstract:");
  if (unix_socket && unix_ok) return absl::OkStatus();
  auto refuse = [&](absl::string_view why) {
    return Refuse(absl::StrCat(flag, "=", listen, ": ", why,
                               unix_ok ? "; use HOST:PORT (e.g. 127.0.0.1:50051, [::1]:50051; "
                                         "port 0 picks a free one) or unix:PATH"
                                       : "; use HOST:PORT (e.g. 127.0.0.1:9464, [::1]:9464; "
                                         "port 0 picks a free one)"));
  };
  if (unix_socket) return refuse("not a unix socket");
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return refuse("no port");
  absl::string_view host = absl::string_view(listen).substr(0, colon);
  absl::string_view port = absl::string_view(listen).substr(colon + 1);
  if (absl::StrContains(host, ':') && !(absl::StartsWith(host, "[") && absl::EndsWith(host, "]"))) {
    return refuse("an IPv6 address needs brackets, and a port");
  }
  if (absl::StartsWith(host, "[") && !absl::EndsWith(host, "]")) return refuse("no port");
  int number = -1;
  if (port.empty() || port.size() > 5 || !absl::SimpleAtoi(port, &number) || number < 0 ||
      number > 65535 || port.find_first_not_of("0123456789") != absl::string_view::npos) {
    return refuse("the port must be a number from 0 to 65535");
  }
  return absl::OkStatus();
}

// Listener TLS, caller tokens and per-call credentials (README "Security").
absl::Status ResolveSecurity(const GatewayFlags& flags, GatewayConfig* config) {
  config->tls_options.cert_file = flags.tls_cert;
  config->tls_options.key_file = flags.tls_key;
  config->tls_options.client_ca_file = flags.tls_client_ca;
  config->tls_options.reload_interval = flags.tls_reload_interval;
  config->tls = !flags.tls_cert.empty() || !flags.tls_key.empty();
  if (config->tls) {
    if (absl::Status s = CheckServerTlsFiles(config->tls_options); !s.ok()) {
      return Refuse(s.message());
    }
  } else if (!flags.tls_client_ca.empty()) {
    return Refuse("--tls_client_ca needs --tls_cert and --tls_key");
  }
  if (!flags.auth_tokens_file.empty()) {
    absl::StatusOr<TokenStore> loaded = TokenStore::Load(flags.auth_tokens_file);
    if (!loaded.ok()) {
      return Refuse(absl::StrCat("--auth_tokens_file: ", loaded.status().message()));
    }
    config->tokens = std::move(*loaded);
  }
  const bool loopback = IsLoopbackListenAddress(flags.listen);
  if (!config->tokens.has_value() && !loopback && !flags.allow_unauthenticated) {
    return Refuse(absl::StrCat(
        "refusing to serve ", flags.listen,
        " without caller authentication: anyone who can reach it could use the gateway's "
        "Fivetran credentials. Give --auth_tokens_file (see README.md, Security), listen on a "
        "loopback address, or pass --allow_unauthenticated if the network is otherwise "
        "protected."));
  }
  if (flags.allow_per_call_credentials && !config->tls) {
    return Refuse(
        "--allow_per_call_credentials needs --tls_cert and --tls_key: credentials must not "
        "cross the network in plaintext");
  }
  config->allow_per_call_credentials = flags.allow_per_call_credentials;
  if (flags.per_call_credentials_idle <= absl::ZeroDuration()) {
    return Refuse("--per_call_credentials_idle must be positive");
  }
  config->per_call_credentials_idle = flags.per_call_credentials_idle;
  if (!config->tokens.has_value() && !loopback) {
    config->warnings.push_back(absl::StrCat("serving ", flags.listen,
                                            " without caller authentication "
                                            "(--allow_unauthenticated)"));
  }
  if (config->tokens.has_value() && !config->tls && !loopback) {
    config->warnings.push_back(
        "bearer tokens cross the network in plaintext: use --tls_cert and --tls_key");
  }
  return absl::OkStatus();
}

// GET /metrics (README "Metrics"): off unless --metrics_listen; loopback
// only unless the operator says otherwise, since it answers anyone who can
// connect, without a token.
absl::Status ResolveMetrics(const GatewayFlags& flags, GatewayConfig* config) {
  if (flags.metrics_listen.empty()) {
    if (!flags.metrics_port_file.empty()) {
      return Refuse("--metrics_port_file needs --metrics_listen");
    }
    return absl::OkStatus();
  }
  if (absl::Status s = CheckListen(flags.metrics_listen, "--metrics_listen", false); !s.ok()) {
    return s;
  }
  if (!IsLoopbackListenAddress(flags.metrics_listen) && !flags.allow_remote_metrics) {
    return Refuse(absl::StrCat(
        "refusing to serve metrics on ", flags.metrics_listen,
        ": it is not a loopback address, and GET /metrics answers anyone who can connect, "
        "without a token (it shows the methods called, error rates and the request budget). "
        "Listen on a loopback address (e.g. 127.0.0.1:9464) for a local scraper, or pass "
        "--allow_remote_metrics if only your scraper can reach that address"));
  }
  config->metrics_listen = flags.metrics_listen;
  config->metrics_port_file = flags.metrics_port_file;
  return absl::OkStatus();
}

// The bytes of a file named by `flag` that holds one secret, without its
// trailing line ends; a refusal naming the flag when it cannot be read.
absl::StatusOr<std::string> ReadSecretFile(const char* flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return Refuse(absl::StrCat(flag, ": cannot read ", path));
  std::string secret = text.str();
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  return secret;
}

// The fleet's state store (README "Running several replicas").
absl::Status ResolveStateStore(const GatewayFlags& flags, GatewayConfig* config) {
  if (flags.state_store.empty()) {
    if (!flags.state_store_password_file.empty()) {
      return Refuse("--state_store_password_file needs --state_store");
    }
    if (flags.state_store_prefix != GatewayFlags().state_store_prefix) {
      return Refuse("--state_store_prefix needs --state_store");
    }
    return absl::OkStatus();
  }
  absl::StatusOr<state::RedisEndpoint> endpoint = state::ParseStateStoreUrl(flags.state_store);
  if (!endpoint.ok()) return endpoint.status();
  StateStoreConfig store;
  store.endpoint = *std::move(endpoint);
  const std::string& prefix = flags.state_store_prefix;
  if (prefix.empty() || prefix.size() > 64 ||
      std::any_of(prefix.begin(), prefix.end(), [](char c) { return c <= ' ' || c > '~'; })) {
    return Refuse("--state_store_prefix must be 1 to 64 printable ASCII characters without spaces");
  }
  store.prefix = prefix;
  if (!flags.state_store_password_file.empty()) {
    absl::StatusOr<std::string> password =
        ReadSecretFile("--state_store_password_file", flags.state_store_password_file);
    if (!password.ok()) return password.status();
    if (password->empty()) {
      return Refuse(absl::StrCat("--state_store_password_file: ", flags.state_store_password_file,
                                 " is empty"));
    }
    store.password = *std::move(password);
  } else if (store.endpoint.unix_path.empty() && store.endpoint.host != "127.0.0.1" &&
             store.endpoint.host != "::1" && store.endpoint.host != "localhost") {
    config->warnings.push_back(absl::StrCat("--state_store ", store.endpoint.ToString(),
                                            " is not on loopback and has no "
                                            "--state_store_password_file"));
  }
  config->state_store = std::move(store);
  return absl::OkStatus();
}

// The page-token signing key, shared by the fleet (README "Running several
// replicas"). Its bytes are used as they are, but a trailing newline.
absl::Status ResolvePageTokenKey(const GatewayFlags& flags, GatewayConfig* config) {
  if (flags.page_token_key_file.empty()) {
    if (config->state_store.has_value()) {
      config->warnings.push_back(
          "page tokens are not signed: give the fleet one --page_token_key_file");
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> key =
      ReadSecretFile("--page_token_key_file", flags.page_token_key_file);
  if (!key.ok()) return key.status();
  if (key->size() < 32) {
    return Refuse(absl::StrCat("--page_token_key_file: ", flags.page_token_key_file,
                               " holds fewer than 32 bytes; make one with "
                               "`openssl rand -base64 48 > FILE`"));
  }
  config->page_token_key = *std::move(key);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<GatewayConfig> BuildConfig(const GatewayFlags& flags) {
  GatewayConfig config;
  const std::string& level = flags.log_level;
  if (level != "debug" && level != "info" && level != "warn" && level != "error") {
    return Refuse("--log_level must be debug, info, warn or error");
  }
  config.log_level = level;

  absl::StatusOr<Credentials> credentials = LoadCredentials(flags.credentials_file);
  if (!credentials.ok()) return Refuse(credentials.status().message());
  config.credentials = *std::move(credentials);

  config.base_url = flags.fivetran_base_url;
  if (!absl::StartsWith(config.base_url, "https://") &&
      !absl::StartsWith(config.base_url, "http://")) {
    return Refuse("--fivetran_base_url must start with https:// or http://");
  }
  if (absl::StartsWith(config.base_url, "http://")) {
    config.warnings.push_back(
        "--fivetran_base_url is plain HTTP: use it only for a local emulator");
  }

  if (absl::Status s = CheckListen(flags.listen); !s.ok()) return s;
  config.listen = flags.listen;
  if (absl::Status s = ResolveSecurity(flags, &config); !s.ok()) return s;

  if (!flags.fivetran_ca_file.empty()) {
    absl::StatusOr<std::string> bundle = UpstreamCaBundle(flags.fivetran_ca_file);
    if (!bundle.ok()) return Refuse(bundle.status().message());
    config.upstream_ca_pem = *std::move(bundle);
  }

  config.grace_period = flags.grace_period;
  config.max_request_time = flags.max_request_time;
  config.max_attempts = std::max(1, flags.max_attempts);
  config.max_retry_wait = flags.max_retry_wait;
  config.request_id_window = flags.request_id_window;
  if (flags.read_cache_ttl < absl::ZeroDuration()) {
    return Refuse("--read_cache_ttl must not be negative (0s turns the read cache off)");
  }
  config.read_cache_ttl = flags.read_cache_ttl;
  if (flags.read_ahead != "auto" && flags.read_ahead != "on" && flags.read_ahead != "off") {
    return Refuse("--read_ahead must be auto, on or off");
  }
  config.read_ahead =
      flags.read_ahead == "on" || (flags.read_ahead == "auto" && flags.state_store.empty());
  const std::string& compression = flags.upstream_compression;
  if (compression != "auto" && compression != "gzip" && compression != "none") {
    return Refuse("--upstream_compression must be auto, gzip or none");
  }
  config.upstream_gzip =
      compression == "gzip" || (compression == "auto" && !BaseUrlIsLoopback(config.base_url));
  config.sync_poll_min_interval = flags.sync_poll_min_interval;
  config.sync_poll_interval = std::max(flags.sync_poll_interval, flags.sync_poll_min_interval);
  config.max_upstream_connections = flags.max_upstream_connections;
  if (!(flags.rate_limit_reserve >= 0 && flags.rate_limit_reserve <= 1)) {
    return Refuse("--rate_limit_reserve must be between 0 and 1 (a share of the hourly limit)");
  }
  config.rate_limit_reserve = flags.rate_limit_reserve;
  config.port_file = flags.port_file;
  if (flags.max_streams_per_connection < 1) {
    return Refuse("--max_streams_per_connection must be at least 1");
  }
  config.max_streams_per_connection = flags.max_streams_per_connection;
  if (flags.grpc_memory_limit_mb < 16) return Refuse("--grpc_memory_limit_mb must be at least 16");
  config.grpc_memory_limit_mb = flags.grpc_memory_limit_mb;
  if (absl::Status s = ResolveMetrics(flags, &config); !s.ok()) return s;
  if (flags.max_health_watches < 1) return Refuse("--max_health_watches must be at least 1");
  if (flags.max_health_watches_per_peer < 1 ||
      flags.max_health_watches_per_peer > flags.max_health_watches) {
    return Refuse("--max_health_watches_per_peer must be between 1 and --max_health_watches");
  }
  config.max_health_watches = flags.max_health_watches;
  config.max_health_watches_per_peer = flags.max_health_watches_per_peer;
  if (flags.max_reflection_streams < 1) {
    return Refuse("--max_reflection_streams must be at least 1");
  }
  config.max_reflection_streams = flags.max_reflection_streams;
  if (absl::Status s = ResolveStateStore(flags, &config); !s.ok()) return s;
  if (absl::Status s = ResolvePageTokenKey(flags, &config); !s.ok()) return s;
  return config;
}

}  // namespace fivetran_gateway
