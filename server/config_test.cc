// Every refusal to start (exit 2) and the values the gateway runs with.
#include "server/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cmath>
#include <fstream>
#include <string>

namespace fivetran_gateway {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir();
    flags_.credentials_file =
        Write("credentials", "FIVETRAN_API_KEY=key-1\nFIVETRAN_API_SECRET=s3cret\n");
    flags_.fivetran_base_url = "http://127.0.0.1:8089";
  }
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  std::string Refusal() {
    absl::StatusOr<GatewayConfig> c = BuildConfig(flags_);
    EXPECT_FALSE(c.ok());
    if (c.ok()) return "";
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
    return std::string(c.status().message());
  }

  std::string dir_;
  GatewayFlags flags_;
};

TEST_F(ConfigTest, TheDefaultsOnLoopbackStart) {
  absl::StatusOr<GatewayConfig> c = BuildConfig(flags_);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->listen, "127.0.0.1:50051");
  EXPECT_EQ(c->credentials.api_key, "key-1");
  EXPECT_EQ(c->credentials.api_secret, "s3cret");
  EXPECT_FALSE(c->tls);
  EXPECT_FALSE(c->tokens.has_value());
  EXPECT_EQ(c->max_attempts, 3);
  EXPECT_EQ(c->sync_poll_interval, absl::Seconds(10));
  ASSERT_EQ(c->warnings.size(), 1u);  // Plain HTTP upstream.
  EXPECT_NE(c->warnings[0].find("plain HTTP"), std::string::npos);
  for (const std::string& w : c->warnings) EXPECT_EQ(w.find("s3cret"), std::string::npos);
}

TEST_F(ConfigTest, MetricsAreOffByDefaultAndServedOnLoopback) {
  absl::StatusOr<GatewayConfig> c = BuildConfig(flags_);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->metrics_listen, "");
  for (const char* listen : {"127.0.0.1:9464", "127.0.0.1:0", "[::1]:9464", "localhost:9464"}) {
    flags_.metrics_listen = listen;
    flags_.metrics_port_file = dir_ + "/metrics.port";
    c = BuildConfig(flags_);
    ASSERT_TRUE(c.ok()) << listen << ": " << c.status();
    EXPECT_EQ(c->metrics_listen, listen);
    EXPECT_EQ(c->metrics_port_file, dir_ + "/metrics.port");
  }
}

TEST_F(ConfigTest, ANonLoopbackMetricsListenerNeedsAnExplicitOptIn) {
  flags_.metrics_listen = "0.0.0.0:9464";
  const std::string message = Refusal();
  EXPECT_NE(message.find("refusing to serve metrics on 0.0.0.0:9464"), std::string::npos)
      << message;
  EXPECT_NE(message.find("--allow_remote_metrics"), std::string::npos) << message;
  flags_.allow_remote_metrics = true;
  absl::StatusOr<GatewayConfig> c = BuildConfig(flags_);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->metrics_listen, "0.0.0.0:9464");
}

TEST_F(ConfigTest, AMetricsListenerThatIsNotHostPortIsRefused) {
  flags_.metrics_listen = "127.0.0.1";
  EXPECT_NE(Refusal().find("--metrics_listen=127.0.0.1: no port"), std::string::npos);
  flags_.metrics_listen = "unix:/tmp/metrics.sock";
  EXPECT_NE(Refusal().find("not a unix socket"), std::string::npos);
  flags_.metrics_listen = "127.0.0.1:99999";
  EXPECT_NE(Refusal().find("the port must be a number"), std::string::npos);
  flags_.metrics_listen = "";
  flags_.metrics_port_file = dir_ + "/metrics.port";
  EXPECT_EQ(Refusal(), "--metrics_port_file needs --metrics_listen");
}

TEST_F(ConfigTest, AnUnknownLogLevelIsRefused) {
  flags_.log_level = "verbose";
  EXPECT_EQ(Refusal(), "--log_level must be debug, info, warn or error");
}

TEST_F(ConfigTest, MissingCredentialsAreRefusedWithoutEchoingAnything) {
  flags_.credentials_file = Write("half", "FIVETRAN_API_KEY=key-1\n");
  std::string message = Refusal();
  EXPECT_NE(message.find("FIVETRAN_API_SECRET"), std::string::npos) << message;
  EXPECT_EQ(message.find("key-1"), std::string::npos) << message;
  flags_.credentials_file = dir_ + "/does-not-exist";
  EXPECT_FALSE(Refusal().empty());
}

TEST_F(ConfigTest, ABaseUrlThatIsNotHttpIsRefused) {
  flags_.fivetran_base_url = "ftp://api.fivetran.com";
  EXPECT_EQ(Refusal(), "--fivetran_base_url must start with https:// or http://");
  flags_.fivetran_base_url = "https://api.fivetran.com";
  absl::StatusOr<GatewayConfig> c = BuildConfig(flags_);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->warnings.empty());
}

TEST_F(ConfigTest, ANonLoopbackListenerNeedsTokensOrAnExplicitOptOut) {
  flags_.listen = "0.0.0.0:50051";
  EXPECT_NE(Refusal().find("refusing to serve 0.0.0.0:50051 without caller authentication"),
            std::string::npos);
  flags_.allow_unauthenticated = true;
  absl::StatusOr<GatewayConfig> c = BuildConfig(flags_);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->warnings.back(),
            "serving 0.0.0.0:50051 without caller authentication (--allow_unauthenticated)");
}

TEST_F(ConfigTest, TokensOverPlaintextOffLoopbackStartWithAWarning) {
  flags_.listen = "0.0.0.0:50051";
  flags_.auth_tokens_file = Write("tokens", "read 0123456789abcdef0123\n");
  absl::StatusOr<GatewayConfig> c = BuildConfig(flags_);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(c->tokens.has_value());
  EXPECT_EQ(c->tokens->size(), 1u);
  EXPECT_EQ(c->warnings.back(),
            "bearer tokens cross the network in plaintext: use --tls_cert and --tls_key");
}

TEST_F(ConfigTest, ABadTokensFileIsRefusedNamingTheLineNotTheToken) {
  flags_.auth_tokens_file = Write("tokens", "# ok\nadmin 0123456789abcdef0123\n");
  std::string message = Refusal();
  EXPECT_EQ(message.rfind("--auth_tokens_file: ", 0), 0u) << message;
  EXPECT_NE(message.find("line 2"), std::string::npos) << message;
  EXPECT_EQ(message.find("0123456789abcdef0123"), std::string::npos) << message;
}

// Issue 11 #18: `--listen=127.0.0.1` used to bind port 443 silently.
TEST_F(ConfigTest, AListenAddressWithoutAPortIsRefused) {
  for (const char* listen : {"127.0.0.1", "localhost", "0.0.0.0", "127.0.0.1:", "127.0.0.1:http",
                             "127.0.0.1:70000", "127.0.0.1:-1", "::1", "[::1]", "::1:50051", ""}) {
    flags_.listen = listen;
    std::string message = Refusal();
    EXPECT_NE(message.find("--listen"), std::string::npos) << listen << ": " << message;
    EXPECT_NE(message.find("HOST:PORT"), std::string::npos) << listen << ": " << message;
  }
  for (const char* listen : {"127.0.0.1:0", "[::1]:50051", "localhost:1", "unix:/tmp/gw.sock"}) {
    flags_.listen = listen;
    absl::StatusOr<GatewayConfig> c = BuildConfig(flags_);
    EXPECT_TRUE(c.ok()) << listen << ": " << c.status();
  }
}

TEST_F(ConfigTest, ListenerResourceBoundsAreCheckedAndKept) {
  absl::StatusOr<GatewayConfig> c = BuildConfig(flags_);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->max_streams_per_connection, 1000);
  EXPECT_EQ(c->grpc_memory_limit_mb, 256);
  flags_.max_streams_per_connection = 0;
  EXPECT_EQ(Refusal(), "--max_streams_per_connection must be at least 1");
  flags_.max_streams_per_connection = 8;
  flags_.grpc_memory_limit_mb = 15;
  EXPECT_EQ(Refusal(), "--grpc_memory_limit_mb must be at least 16");
  flags_.grpc_memory_limit_mb = 64;
  c = BuildConfig(flags_);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->max_streams_per_connection, 8);
  EXPECT_EQ(c->grpc_memory_limit_mb, 64);
}

TEST_F(ConfigTest, HealthWatchAndReflectionBoundsAreCheckedAndKept) {
  absl::StatusOr<GatewayConfig> c = BuildConfig(flags_);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->max_health_watches, 1000);
  EXPECT_EQ(c->max_health_watches_per_peer, 100);
  EXPECT_EQ(c->max_reflection_streams, 32);
  flags_.max_health_watches = 0;
  EXPECT_EQ(Refusal(), "--max_health_watches must be at least 1");
  flags_.max_health_watches = 50;
  flags_.max_health_watches_per_peer = 51;
  EXPECT_EQ(Refusal(), "--max_health_watches_per_peer must be between 1 and --max_health_watches");
  flags_.max_health_watches_per_peer = 0;
  EXPECT_EQ(Refusal(), "--max_health_watches_per_peer must be between 1 and --max_health_watches");
  flags_.max_health_watches_per_peer = 5;
  flags_.max_reflection_streams = 0;
  EXPECT_EQ(Refusal(), "--max_reflection_streams must be at least 1");
  flags_.max_reflection_streams = 4;
  c = BuildConfig(flags_);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->max_health_watches, 50);
  EXPECT_EQ(c->max_health_watches_per_peer, 5);
  EXPECT_EQ(c->max_reflection_streams, 4);
}

TEST_F(ConfigTest, PerCallCredentialsNeedTls) {
  flags_.allow_per_call_credentials = true;
  EXPECT_EQ(Refusal(),
            "--allow_per_call_credentials needs --tls_cert and --tls_key: credentials must not "
            "cross the network in plaintext");
}

TEST_F(ConfigTest, AClientCaNeedsAServerCertificate) {
  flags_.tls_client_ca = Write("ca.pem", "not used");
  EXPECT_EQ(Refusal(), "--tls_client_ca needs --tls_cert and --tls_key");
}

TEST_F(ConfigTest, AnUnreadableTlsKeyIsRefused) {
  flags_.tls_cert = dir_ + "/no-cert.pem";
  flags_.tls_key = dir_ + "/no-key.pem";
  EXPECT_FALSE(Refusal().empty());
  flags_.tls_cert = Write("garbage.pem", "-----BEGIN CERTIFICATE-----\nnope\n");
  flags_.tls_key = Write("garbage-key.pem", "nope");
  EXPECT_FALSE(Refusal().empty());
}

TEST_F(ConfigTest, AnUnreadableUpstreamCaFileIsRefused) {
  flags_.fivetran_ca_file = dir_ + "/missing-ca.pem";
  EXPECT_FALSE(Refusal().empty());
}

TEST_F(ConfigTest, AReserveOutsideZeroToOneIsRefused) {
  for (double bad : {-0.1, 1.5, std::nan("")}) {
    flags_.rate_limit_reserve = bad;
    EXPECT_EQ(Refusal(),
              "--rate_limit_reserve must be between 0 and 1 (a share of the hourly limit)");
  }
  flags_.rate_limit_reserve = 0.2;
  absl::StatusOr<GatewayConfig> c = BuildConfig(flags_);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->rate_limit_reserve, 0.2);
}

TEST_F(ConfigTest, TheReadCacheIsOffUnlessATtlIsGiven) {
  absl::StatusOr<GatewayConfig> c = BuildConfig(flags_);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->read_cache_ttl, absl::ZeroDuration());
  flags_.read_cache_ttl = absl::Seconds(-1);
  EXPECT_EQ(Refusal(), "--read_cache_ttl must not be negative (0s turns the read cache off)");
  flags_.read_cache_ttl = absl::Seconds(30);
  c = BuildConfig(flags_);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->read_cache_ttl, absl::Seconds(30));
}

TEST_F(ConfigTest, ReadAheadIsOnUnlessOffOrInAFleet) {
  absl::StatusOr<GatewayConfig> c = BuildConfig(flags_);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->read_ahead);
  flags_.read_ahead = "off";
  c = BuildConfig(flags_);
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->read_ahead);
  flags_.read_ahead = "yes";
  EXPECT_EQ(Refusal(), "--read_ahead must be auto, on or off");
  // auto: off in a fleet, where the next page mostly goes to another replica.
  flags_.state_store = "redis://127.0.0.1:6379";
  flags_.read_ahead = "auto";
  c = BuildConfig(flags_);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->read_ahead);
  flags_.read_ahead = "on";
  c = BuildConfig(flags_);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->read_ahead);
}

TEST_F(ConfigTest, UpstreamAnswersAreGzippedUnlessTheUpstreamIsOnLoopback) {
  auto gzip = [this](const std::string& base_url, const std::string& flag) {
    flags_.fivetran_base_url = base_url;
    flags_.upstream_compression = flag;
    absl::StatusOr<GatewayConfig> c = BuildConfig(flags_);
    EXPECT_TRUE(c.ok()) << base_url << " " << flag << ": " << c.status();
    return c.ok() && c->upstream_gzip;
  };
  EXPECT_TRUE(gzip("https://api.fivetran.com", "auto"));
  EXPECT_TRUE(gzip("https://api.fivetran.com/", "auto"));
  EXPECT_TRUE(gzip("http://10.1.2.3:8080", "auto"));
  EXPECT_TRUE(gzip("http://127.example.com", "auto"));
  EXPECT_TRUE(gzip("http://[::2]:80/v1", "auto"));
  EXPECT_FALSE(gzip("http://127.0.0.1:8080", "auto"));
  EXPECT_FALSE(gzip("http://127.0.0.1", "auto"));
  EXPECT_FALSE(gzip("https://127.1.2.3/v1?x=1", "auto"));
  EXPECT_FALSE(gzip("http://[::1]:9000", "auto"));
  EXPECT_FALSE(gzip("http://[::1]", "auto"));
  EXPECT_FALSE(gzip("http://localhost:9000", "auto"));
  EXPECT_FALSE(gzip("http://user:pw@127.0.0.1:9000/", "auto"));
  EXPECT_TRUE(gzip("http://127.0.0.1:8080", "gzip"));
  EXPECT_FALSE(gzip("https://api.fivetran.com", "none"));
  flags_.upstream_compression = "br";
  EXPECT_EQ(Refusal(), "--upstream_compression must be auto, gzip or none");
}

TEST_F(ConfigTest, OnlyALoopbackHostInTheBaseUrlTurnsGzipOff) {
  auto gzip = [this](const std::string& base_url) {
    flags_.fivetran_base_url = base_url;
    flags_.upstream_compression = "auto";
    absl::StatusOr<GatewayConfig> c = BuildConfig(flags_);
    EXPECT_TRUE(c.ok()) << base_url << ": " << c.status();
    return c.ok() && c->upstream_gzip;
  };
  // Hosts named like the listen addresses unix:PATH and unix-abstract:NAME
  // are names the resolver decides, not local sockets.
  for (const char* url :
       {"http://unix:80/", "http://unix/", "http://unix:/tmp/sock", "http://unix-abstract:80",
        "http://user@unix:80", "http://127.0.0.1.evil.com", "http://127.0.0.1.evil.com:80/v1",
        "http://127.0.0.1@evil.com", "http://127.0.0.1:80@evil.com/", "http://evil.com#@127.0.0.1",
        "http://evil.com?@127.0.0.1", "http://localhost.:9000", "http://foo.localhost:9000",
        "http://", "http://:8080", "http://[::2]", "http://[::1", "http://[::ffff:10.0.0.1]:80",
        "http://0.0.0.0:80"}) {
    EXPECT_TRUE(gzip(url)) << url;
  }
  for (const char* url : {"http://LOCALHOST:9000", "http://LocalHost", "http://[::ffff:127.0.0.1]",
                          "http://[::ffff:127.0.0.1]:8080/v1", "http://127.255.255.254:1",
                          "http://u:p@[::1]:80/", "http://evil.com@127.0.0.1/"}) {
    EXPECT_FALSE(gzip(url)) << url;
  }
}

TEST_F(ConfigTest, NumbersAreBroughtIntoRange) {
  flags_.max_attempts = 0;
  flags_.sync_poll_interval = absl::Milliseconds(200);
  flags_.sync_poll_min_interval = absl::Seconds(2);
  absl::StatusOr<GatewayConfig> c = BuildConfig(flags_);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->max_attempts, 1);
  EXPECT_EQ(c->sync_poll_interval, absl::Seconds(2));
}

TEST_F(ConfigTest, NoStateStoreByDefault) {
  absl::StatusOr<GatewayConfig> c = BuildConfig(flags_);
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->state_store.has_value());
  flags_.state_store_password_file = Write("redis-pass", "pw\n");
  EXPECT_EQ(Refusal(), "--state_store_password_file needs --state_store");
  flags_.state_store_password_file = "";
  flags_.state_store_prefix = "other:";
  EXPECT_EQ(Refusal(), "--state_store_prefix needs --state_store");
}

TEST_F(ConfigTest, StateStoreWithPasswordFile) {
  flags_.state_store = "redis://127.0.0.1:6380/2";
  flags_.state_store_password_file = Write("redis-pass", "r3dis-pw\n");
  flags_.state_store_prefix = "team-a:";
  absl::StatusOr<GatewayConfig> c = BuildConfig(flags_);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(c->state_store.has_value());
  EXPECT_EQ(c->state_store->endpoint.port, 6380);
  EXPECT_EQ(c->state_store->endpoint.db, 2);
  EXPECT_EQ(c->state_store->password, "r3dis-pw");
  EXPECT_EQ(c->state_store->prefix, "team-a:");
  for (const std::string& w : c->warnings) EXPECT_EQ(w.find("r3dis-pw"), std::string::npos);

  flags_.state_store = "unix:///run/redis/redis.sock";
  c = BuildConfig(flags_);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->state_store->endpoint.unix_path, "/run/redis/redis.sock");
}

TEST_F(ConfigTest, BadStateStoreFlagsAreRefused) {
  flags_.state_store = "redis://:pw-in-url@127.0.0.1:6379";
  std::string why = Refusal();
  EXPECT_EQ(why.find("pw-in-url"), std::string::npos) << why;
  EXPECT_NE(why.find("--state_store_password_file"), std::string::npos) << why;
  flags_.state_store = "memcached://127.0.0.1:11211";
  EXPECT_NE(Refusal().find("redis://HOST:PORT[/DB]"), std::string::npos);
  flags_.state_store = "redis://127.0.0.1:6379";
  flags_.state_store_password_file = dir_ + "/missing-pass";
  EXPECT_NE(Refusal().find("cannot read"), std::string::npos);
  flags_.state_store_password_file = Write("empty-pass", "\n");
  EXPECT_NE(Refusal().find("is empty"), std::string::npos);
  flags_.state_store_password_file = "";
  for (const char* prefix : {"", "has space:", "\x01"}) {
    flags_.state_store_prefix = prefix;
    EXPECT_EQ(Refusal(),
              "--state_store_prefix must be 1 to 64 printable ASCII characters without spaces");
  }
}

TEST_F(ConfigTest, ARemoteStateStoreWithoutPasswordIsWorthAWarning) {
  flags_.state_store = "redis://10.1.2.3:6379";
  absl::StatusOr<GatewayConfig> c = BuildConfig(flags_);
  ASSERT_TRUE(c.ok()) << c.status();
  bool warned = false;
  for (const std::string& w : c->warnings) warned |= w.find("10.1.2.3") != std::string::npos;
  EXPECT_TRUE(warned);
}

TEST_F(ConfigTest, PageTokenKeyFile) {
  absl::StatusOr<GatewayConfig> c = BuildConfig(flags_);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->page_token_key, "");
  const std::string key = "0123456789abcdef0123456789abcdef-fleet";
  flags_.page_token_key_file = Write("page-key", key + "\n");
  c = BuildConfig(flags_);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->page_token_key, key);
  flags_.page_token_key_file = Write("short-key", "too short\n");
  std::string why = Refusal();
  EXPECT_NE(why.find("fewer than 32 bytes"), std::string::npos) << why;
  EXPECT_EQ(why.find("too short"), std::string::npos) << why;  // Never echoed.
  flags_.page_token_key_file = dir_ + "/no-such-key";
  EXPECT_NE(Refusal().find("cannot read"), std::string::npos);
}

TEST_F(ConfigTest, AFleetWithoutPageTokenKeyIsWorthAWarning) {
  flags_.state_store = "redis://127.0.0.1:6379";
  absl::StatusOr<GatewayConfig> c = BuildConfig(flags_);
  ASSERT_TRUE(c.ok());
  bool warned = false;
  for (const std::string& w : c->warnings)
    warned |= w.find("page tokens are not signed") != std::string::npos;
  EXPECT_TRUE(warned);
}

}  // namespace
}  // namespace fivetran_gateway
