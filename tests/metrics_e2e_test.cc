// End-to-end: Prometheus metrics on --metrics_listen and W3C trace context
// (README "Metrics", "Trace context"), with the real emulator, the real
// gateway and Debian's promtool. Each test starts its own emulator and
// gateway, so that every counter starts at zero.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "httplib.h"
#include "tests/harness.h"

namespace fivetran_gateway::testing {
namespace {

namespace v1 = ::fivetran::gateway::v1;
using nlohmann::json;

constexpr char kToken[] = "metrics-e2e-read-token-7d41c9";
constexpr char kCallerTrace[] = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr char kCallerSpan[] = "00f067aa0ba902b7";

// One scrape: every sample by its series text (`name{a="x",b="y"}`).
struct Scrape {
  int status = 0;
  std::string content_type;
  std::string text;
  std::map<std::string, double> samples;

  // The samples of one metric name (histograms: name_bucket etc. apart).
  std::map<std::string, double> Family(const std::string& name) const {
    std::map<std::string, double> out;
    for (const auto& [series, value] : samples) {
      if (series == name || series.rfind(name + "{", 0) == 0) out[series] = value;
    }
    return out;
  }
  double Value(const std::string& series) const {
    auto it = samples.find(series);
    return it == samples.end() ? -1 : it->second;
  }
  // Every label value of every sample.
  std::set<std::string> LabelValues() const {
    std::set<std::string> out;
    static const std::regex kLabel("[a-z_]+=\"((?:[^\"\\\\]|\\\\.)*)\"");
    for (const auto& [series, value] : samples) {
      for (auto it = std::sregex_iterator(series.begin(), series.end(), kLabel);
           it != std::sregex_iterator(); ++it) {
        out.insert((*it)[1].str());
      }
    }
    return out;
  }
};

Scrape ScrapeMetrics(int port) {
  Scrape s;
  httplib::Client client("127.0.0.1", port);
  httplib::Result r = client.Get("/metrics");
  if (!r) return s;
  s.status = r->status;
  s.content_type = r->get_header_value("Content-Type");
  s.text = r->body;
  std::istringstream lines(r->body);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    s.samples[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return s;
}

// `promtool check metrics` on `text`: its exit status and output.
std::pair<int, std::string> Promtool(const std::string& text) {
  const std::string in = TempPath("scrape.txt");
  const std::string out = TempPath("promtool.out");
  std::ofstream(in) << text;
  const int rc =
      std::system(("/usr/bin/promtool check metrics < " + in + " > " + out + " 2>&1").c_str());
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, ReadFile(out)};
}

class MetricsE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    emulator_ = std::make_unique<Emulator>();
    tokens_file_ = TempPath("tokens.txt");
    std::ofstream(tokens_file_) << "read " << kToken << "\nwrite " << kToken << "-write\n";
    const std::string port_file = TempPath("metrics.port");
    gateway_ = std::make_unique<Gateway>(
        emulator_->base_url(), Emulator::kApiKey, Emulator::kApiSecret,
        std::vector<std::string>{"--metrics_listen=127.0.0.1:0", "--metrics_port_file=" + port_file,
                                 "--auth_tokens_file=" + tokens_file_});
    metrics_port_ = WaitForPortFile(port_file);
    ASSERT_NE(metrics_port_, 0) << gateway_->log();
  }

  Scrape Get() const { return ScrapeMetrics(metrics_port_); }
  void RunScriptedCalls();

  // Scrapes until `ready` holds (up to 10 s); the last scrape.
  Scrape GetWhen(const std::function<bool(const Scrape&)>& ready) const {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    Scrape s = Get();
    while (!ready(s) && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      s = Get();
    }
    return s;
  }

  std::unique_ptr<grpc::ClientContext> Context(const std::string& token = kToken) const {
    auto context = ContextWithDeadline(10);
    context->AddMetadata("authorization", std::string("Bearer ") + token);
    return context;
  }

  // The gateway's log line of the RPC with x-request-id `id` (waits for it).
  std::string LogLine(const std::string& id) const {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    do {
      const std::string log = gateway_->log();
      const size_t at = log.find("request_id=" + id + " ");
      if (at != std::string::npos) {
        const size_t start = log.rfind('\n', at) + 1;
        return log.substr(start, log.find('\n', at) - start);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    } while (std::chrono::steady_clock::now() < until);
    return "";
  }

  // The emulator's logged requests whose path starts with `prefix`.
  std::vector<json> Requests(const std::string& prefix) const {
    std::vector<json> out;
    for (const json& r : emulator_->Requests()) {
      if (r["path"].get<std::string>().rfind(prefix, 0) == 0) out.push_back(r);
    }
    return out;
  }

  std::unique_ptr<Emulator> emulator_;
  std::unique_ptr<Gateway> gateway_;
  std::string tokens_file_;
  int metrics_port_ = 0;
};

// The scripted calls: OK, NOT_FOUND, a retried 503, a 429, a call stopped
// by the 429 circuit, a refused token.
void MetricsE2ETest::RunScriptedCalls() {
  // Fivetran's hourly budget, made small: the fourth request served is
  // refused with a real 429 (Retry-After: the rest of the hour).
  ASSERT_EQ(emulator_->Admin("POST", "/_emulator/rate_limit", {{"limit_per_hour", 3}}).status, 200);
  auto connections = gateway_->connections();
  auto groups = gateway_->groups();
  auto users = gateway_->users();

  // OK.
  v1::GetConnectionRequest get;
  get.set_connection_id("decent_dropsy");
  v1::GetConnectionResponse got;
  ASSERT_TRUE(connections->GetConnection(Context().get(), get, &got).ok());
  // NOT_FOUND.
  get.set_connection_id("no_such_conn_5e1");
  EXPECT_EQ(connections->GetConnection(Context().get(), get, &got).error_code(),
            grpc::StatusCode::NOT_FOUND);
  // A 503, retried: OK on the second attempt (a fault is not counted in the
  // emulator's budget).
  emulator_->AddFault({{"path_prefix", "/v1/groups"}, {"status", 503}, {"count", 1}});
  v1::ListGroupsRequest list_groups;
  v1::ListGroupsResponse groups_page;
  ASSERT_TRUE(groups->ListGroups(Context().get(), list_groups, &groups_page).ok());
  // A 429: the budget is spent; Retry-After is longer than --max_retry_wait.
  v1::ListUsersRequest list_users;
  v1::ListUsersResponse users_page;
  EXPECT_EQ(users->ListUsers(Context().get(), list_users, &users_page).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  // The 429 circuit: ended at once, nothing sent.
  get.set_connection_id("decent_dropsy");
  EXPECT_EQ(connections->GetConnection(Context().get(), get, &got).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  // A refused token: never reaches the service.
  EXPECT_EQ(groups->ListGroups(Context("not-a-valid-token-0000").get(), list_groups, &groups_page)
                .error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  ASSERT_EQ(Requests("/v1/").size(), 5u);  // 200, 404, 503, 200, 429.
}

// No label value holds an id, a key, a secret or a token; all are plain
// names.
void ExpectNoSecretInLabels(const Scrape& s) {
  for (const std::string& value : s.LabelValues()) {
    for (const std::string& secret :
         {std::string("decent_dropsy"), std::string("no_such_conn_5e1"),
          std::string(Emulator::kApiKey), std::string(Emulator::kApiSecret), std::string(kToken),
          std::string("not-a-valid-token")}) {
      EXPECT_EQ(value.find(secret), std::string::npos) << value;
    }
    EXPECT_TRUE(std::regex_match(value, std::regex("[A-Za-z0-9_./{}+-]*"))) << value;
  }
}

TEST_F(MetricsE2ETest, CountersShowExactlyTheScriptedCalls) {
  ASSERT_NO_FATAL_FAILURE(RunScriptedCalls());

  const Scrape s = Get();
  ASSERT_EQ(s.status, 200);
  EXPECT_EQ(s.content_type, "text/plain; version=0.0.4; charset=utf-8");
  auto [rc, promtool] = Promtool(s.text);
  EXPECT_EQ(rc, 0) << promtool << "\n" << s.text;

  using Samples = std::map<std::string, double>;
  const std::string r = "fivetran_gateway_rpcs_total";
  EXPECT_EQ(s.Family(r), (Samples{{r + "{method=\"GetConnection\",code=\"NOT_FOUND\"}", 1},
                                  {r + "{method=\"GetConnection\",code=\"OK\"}", 1},
                                  {r + "{method=\"GetConnection\",code=\"RESOURCE_EXHAUSTED\"}", 1},
                                  {r + "{method=\"ListGroups\",code=\"OK\"}", 1},
                                  {r + "{method=\"ListGroups\",code=\"UNAUTHENTICATED\"}", 1},
                                  {r + "{method=\"ListUsers\",code=\"RESOURCE_EXHAUSTED\"}", 1}}))
      << s.text;
  const std::string d = "fivetran_gateway_rpc_duration_seconds_count";
  EXPECT_EQ(s.Family(d), (Samples{{d + "{method=\"GetConnection\"}", 3},
                                  {d + "{method=\"ListGroups\"}", 2},
                                  {d + "{method=\"ListUsers\"}", 1}}));
  const std::string u = "fivetran_gateway_upstream_requests_total";
  const std::string conn = "{method=\"GET\",route=\"/v1/connections/{connection_id}\",status=";
  EXPECT_EQ(s.Family(u), (Samples{{u + conn + "\"200\"}", 1},
                                  {u + conn + "\"404\"}", 1},
                                  {u + "{method=\"GET\",route=\"/v1/groups\",status=\"200\"}", 1},
                                  {u + "{method=\"GET\",route=\"/v1/groups\",status=\"503\"}", 1},
                                  {u + "{method=\"GET\",route=\"/v1/users\",status=\"429\"}", 1}}))
      << s.text;
  const std::string ud = "fivetran_gateway_upstream_request_duration_seconds_count";
  EXPECT_EQ(s.Family(ud),
            (Samples{{ud + "{method=\"GET\",route=\"/v1/connections/{connection_id}\"}", 2},
                     {ud + "{method=\"GET\",route=\"/v1/groups\"}", 2},
                     {ud + "{method=\"GET\",route=\"/v1/users\"}", 1}}));
  EXPECT_EQ(s.Family("fivetran_gateway_upstream_retries_total"),
            (Samples{{"fivetran_gateway_upstream_retries_total{reason=\"unavailable\"}", 1}}));
  EXPECT_EQ(s.Family("fivetran_gateway_auth_refusals_total"),
            (Samples{{"fivetran_gateway_auth_refusals_total{reason=\"unknown_token\"}", 1}}));

  // One credential set, labelled by a short hash of its key.
  const Samples limited = s.Family("fivetran_gateway_upstream_rate_limited_total");
  ASSERT_EQ(limited.size(), 1u) << s.text;
  std::smatch m;
  const std::string limited_series = limited.begin()->first;
  ASSERT_TRUE(
      std::regex_match(limited_series, m, std::regex(".*credential_set=\"([0-9a-f]{8})\"}")))
      << limited_series;
  const std::string set = "{credential_set=\"" + m[1].str() + "\"}";
  EXPECT_EQ(limited.begin()->second, 1);
  EXPECT_EQ(s.Value("fivetran_gateway_rate_limit_rejections_total" + set), 1);
  // The emulator's answer to the 429: limit 3, nothing left.
  EXPECT_EQ(s.Value("fivetran_gateway_rate_limit_limit" + set), 3);
  EXPECT_EQ(s.Value("fivetran_gateway_rate_limit_remaining" + set), 0);

  EXPECT_EQ(s.Value("fivetran_gateway_coalesced_reads_total"), 0);
  EXPECT_EQ(s.Value("fivetran_gateway_sync_watchers"), 0);
  EXPECT_EQ(s.Value("fivetran_gateway_sync_pollers"), 0);
  EXPECT_EQ(s.Family("fivetran_gateway_build_info").size(), 1u);

  ExpectNoSecretInLabels(s);
}

TEST_F(MetricsE2ETest, WatchersAndPollersAreLiveGauges) {
  v1::WatchConnectionSyncRequest request;
  request.set_connection_id("decent_dropsy");
  request.mutable_poll_interval()->set_seconds(1);
  auto a = Context();
  auto b = Context();
  auto reader_a = gateway_->connections()->WatchConnectionSync(a.get(), request);
  auto reader_b = gateway_->connections()->WatchConnectionSync(b.get(), request);
  v1::WatchConnectionSyncResponse first;
  ASSERT_TRUE(reader_a->Read(&first));
  ASSERT_TRUE(reader_b->Read(&first));
  // Two watchers of one connection: one poller.
  Scrape s = GetWhen([](const Scrape& s) {
    return s.Value("fivetran_gateway_sync_watchers") == 2 &&
           s.Value("fivetran_gateway_sync_pollers") == 1;
  });
  EXPECT_EQ(s.Value("fivetran_gateway_sync_watchers"), 2) << s.text;
  EXPECT_EQ(s.Value("fivetran_gateway_sync_pollers"), 1) << s.text;

  a->TryCancel();
  b->TryCancel();
  EXPECT_EQ(reader_a->Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_EQ(reader_b->Finish().error_code(), grpc::StatusCode::CANCELLED);
  s = GetWhen([](const Scrape& s) {
    return s.Value("fivetran_gateway_sync_watchers") == 0 &&
           s.Value("fivetran_gateway_sync_pollers") == 0 &&
           s.Value(
               "fivetran_gateway_rpcs_total{method=\"WatchConnectionSync\",code=\"CANCELLED\"}") ==
               2;
  });
  EXPECT_EQ(s.Value("fivetran_gateway_sync_watchers"), 0) << s.text;
  EXPECT_EQ(s.Value("fivetran_gateway_sync_pollers"), 0) << s.text;
  EXPECT_EQ(
      s.Value("fivetran_gateway_rpcs_total{method=\"WatchConnectionSync\",code=\"CANCELLED\"}"), 2)
      << s.text;
}

TEST_F(MetricsE2ETest, RefusalsReplaysCachedAndCoalescedReadsAreCounted) {
  // A gateway with the read cache on, in front of the same emulator.
  const std::string port_file = TempPath("metrics2.port");
  gateway_ = std::make_unique<Gateway>(
      emulator_->base_url(), Emulator::kApiKey, Emulator::kApiSecret,
      std::vector<std::string>{"--metrics_listen=127.0.0.1:0", "--metrics_port_file=" + port_file,
                               "--auth_tokens_file=" + tokens_file_, "--read_cache_ttl=60s"});
  metrics_port_ = WaitForPortFile(port_file);
  ASSERT_NE(metrics_port_, 0) << gateway_->log();
  auto connections = gateway_->connections();

  // Refusals: no token, a read token for a sync.
  v1::GetConnectionRequest get;
  get.set_connection_id("decent_dropsy");
  v1::GetConnectionResponse got;
  auto bare = ContextWithDeadline(10);
  EXPECT_EQ(connections->GetConnection(bare.get(), get, &got).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  v1::SyncConnectionRequest sync;
  sync.set_connection_id("decent_dropsy");
  v1::SyncConnectionResponse synced;
  EXPECT_EQ(connections->SyncConnection(Context().get(), sync, &synced).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // Two reads at once while Fivetran is slow: one request, one coalesced
  // read; both are cache misses. A third read is a cache hit.
  emulator_->AddFault({{"kind", "latency"},
                       {"latency_ms", 1500},
                       {"path_prefix", "/v1/connections/decent_dropsy"},
                       {"count", 1}});
  std::thread other([&] {
    v1::GetConnectionResponse response;
    EXPECT_TRUE(connections->GetConnection(Context().get(), get, &response).ok());
  });
  // The second read starts once the first one's request is at the emulator.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (Requests("/v1/connections/decent_dropsy").empty() &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(connections->GetConnection(Context().get(), get, &got).ok());
  other.join();
  ASSERT_TRUE(connections->GetConnection(Context().get(), get, &got).ok());
  EXPECT_EQ(Requests("/v1/connections/decent_dropsy").size(), 1u);

  // The same request_id twice: the second is a replay.
  v1::CreateConnectionRequest create;
  create.set_group_id("quiet_harbor");
  create.set_service("postgres");
  auto& fields = *create.mutable_config()->mutable_fields();
  fields["schema"].set_string_value("pg_metrics_e2e");
  fields["host"].set_string_value("db.example.test");
  fields["port"].set_number_value(5432);
  create.set_request_id("metrics-e2e-create-1");
  v1::CreateConnectionResponse created;
  for (int i = 0; i < 2; ++i) {
    grpc::Status status = connections->CreateConnection(
        Context(std::string(kToken) + "-write").get(), create, &created);
    EXPECT_TRUE(status.ok()) << status.error_message();
  }
  EXPECT_EQ(Requests("/v1/connections").size() - Requests("/v1/connections/").size(), 1u);

  const Scrape s = Get();
  using Samples = std::map<std::string, double>;
  EXPECT_EQ(s.Family("fivetran_gateway_auth_refusals_total"),
            (Samples{{"fivetran_gateway_auth_refusals_total{reason=\"insufficient_scope\"}", 1},
                     {"fivetran_gateway_auth_refusals_total{reason=\"missing_token\"}", 1}}));
  EXPECT_EQ(s.Value("fivetran_gateway_coalesced_reads_total"), 1) << s.text;
  EXPECT_EQ(
      s.Family("fivetran_gateway_read_cache_total"),
      (Samples{{"fivetran_gateway_read_cache_total{method=\"GetConnection\",result=\"hit\"}", 1},
               {"fivetran_gateway_read_cache_total{method=\"GetConnection\",result=\"miss\"}", 2}}))
      << s.text;
  EXPECT_EQ(
      s.Family("fivetran_gateway_idempotency_replays_total"),
      (Samples{{"fivetran_gateway_idempotency_replays_total{method=\"CreateConnection\"}", 1}}));
  EXPECT_EQ(Promtool(s.text).first, 0);
}

TEST_F(MetricsE2ETest, ReadAheadPagesAreCountedByResult) {
  auto groups = gateway_->groups();
  auto page = [&](const std::string& token) {
    v1::ListGroupConnectionsRequest request;
    request.set_group_id("amber_fjord");  // 260 connections: pages of 100.
    request.set_page_size(100);
    request.set_page_token(token);
    v1::ListGroupConnectionsResponse response;
    grpc::Status status = groups->ListGroupConnections(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.next_page_token();
  };
  auto await_listing_gets = [&](size_t n) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (Requests("/v1/groups/amber_fjord/connections").size() < n &&
           std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return Requests("/v1/groups/amber_fjord/connections").size();
  };
  // Page 3 read ahead and used; then read ahead again and dropped by a sync.
  const std::string second = page("");
  const std::string third = page(second);
  ASSERT_EQ(await_listing_gets(3), 3u);
  EXPECT_EQ(page(third), "");
  page(second);
  ASSERT_EQ(await_listing_gets(5), 5u);
  v1::SyncConnectionRequest sync;
  sync.set_connection_id("decent_dropsy");
  v1::SyncConnectionResponse synced;
  grpc::Status status = gateway_->connections()->SyncConnection(
      Context(std::string(kToken) + "-write").get(), sync, &synced);
  ASSERT_TRUE(status.ok()) << status.error_message();

  const Scrape s = Get();
  using Samples = std::map<std::string, double>;
  EXPECT_EQ(s.Family("fivetran_gateway_read_ahead_pages_total"),
            (Samples{{"fivetran_gateway_read_ahead_pages_total{result=\"skipped\"}", 0},
                     {"fivetran_gateway_read_ahead_pages_total{result=\"unused\"}", 1},
                     {"fivetran_gateway_read_ahead_pages_total{result=\"used\"}", 1}}))
      << s.text;
  EXPECT_EQ(Promtool(s.text).first, 0);
}

TEST_F(MetricsE2ETest, OnlyGetMetricsIsServed) {
  httplib::Client client("127.0.0.1", metrics_port_);
  httplib::Result other = client.Get("/");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 404);
  httplib::Result post = client.Post("/metrics", "x", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_GE(post->status, 400);
}

TEST(MetricsTlsE2ETest, CertificateChangesAndExpiryAreReported) {
  // One key, two certificates: replacing the certificate file is one change.
  const std::string key = TempPath("live.key");
  const std::string cert = TempPath("live.crt");
  const std::string next = TempPath("next.crt");
  const std::string subject = "-subj /CN=localhost -addext 'subjectAltName=IP:127.0.0.1'";
  ASSERT_EQ(std::system(("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
                         "-nodes -days 1 " +
                         subject + " -keyout '" + key + "' -out '" + cert + "' >/dev/null 2>&1")
                            .c_str()),
            0);
  ASSERT_EQ(std::system(("openssl req -x509 -key '" + key + "' -days 3 " + subject + " -out '" +
                         next + "' >/dev/null 2>&1")
                            .c_str()),
            0);
  Emulator emulator;
  const std::string port_file = TempPath("metrics.port");
  Gateway gateway(emulator.base_url(), Emulator::kApiKey, Emulator::kApiSecret,
                  {"--tls_cert=" + cert, "--tls_key=" + key, "--tls_reload_interval=1s",
                   "--metrics_listen=127.0.0.1:0", "--metrics_port_file=" + port_file});
  const int port = WaitForPortFile(port_file);
  ASSERT_NE(port, 0) << gateway.log();

  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const std::string expiry = "fivetran_gateway_tls_certificate_expiry_timestamp_seconds";
  Scrape s = ScrapeMetrics(port);
  EXPECT_EQ(s.Value("fivetran_gateway_tls_reloads_total"), 0) << s.text;
  // -days 1: about a day from now.
  EXPECT_NEAR(s.Value(expiry), now + 86400, 120) << s.text;

  ASSERT_EQ(std::rename(next.c_str(), cert.c_str()), 0);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (s.Value("fivetran_gateway_tls_reloads_total") < 1 &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    s = ScrapeMetrics(port);
  }
  EXPECT_EQ(s.Value("fivetran_gateway_tls_reloads_total"), 1) << s.text;
  EXPECT_NEAR(s.Value(expiry), now + 3 * 86400, 120) << s.text;  // The new one's.
}

// ---------------------------------------------------------------------------
// Trace context

// The trace id and parent id of a traceparent header value, or {"", ""}.
std::pair<std::string, std::string> TraceOf(const json& request) {
  std::smatch m;
  const std::string value = request["headers"].value("traceparent", "");
  if (!std::regex_match(value, m, std::regex("00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]"))) {
    return {"", ""};
  }
  return {m[1].str(), m[2].str()};
}

TEST_F(MetricsE2ETest, UpstreamRequestsOfACallCarryItsTraceAndRequestId) {
  // The 503 makes the call retried: both attempts carry the caller's trace.
  emulator_->AddFault({{"path_prefix", "/v1/groups"}, {"status", 503}, {"count", 1}});
  auto context = Context();
  context->AddMetadata("traceparent",
                       std::string("00-") + kCallerTrace + "-" + kCallerSpan + "-01");
  context->AddMetadata("tracestate", "congo=t61rcWkgMzE");
  context->AddMetadata("x-request-id", "trace-e2e-retried");
  v1::ListGroupsResponse page;
  ASSERT_TRUE(gateway_->groups()->ListGroups(context.get(), v1::ListGroupsRequest(), &page).ok());

  std::vector<json> sent = Requests("/v1/groups");
  ASSERT_EQ(sent.size(), 2u);
  for (const json& r : sent) {
    auto [trace_id, parent_id] = TraceOf(r);
    EXPECT_EQ(trace_id, kCallerTrace) << r.dump();
    // The parent is the gateway's span, not the caller's.
    EXPECT_NE(parent_id, kCallerSpan);
    EXPECT_EQ(parent_id, TraceOf(sent[0]).second);
    EXPECT_EQ(r["headers"].value("traceparent", "").substr(53), "01");  // Sampled, as sent.
    EXPECT_EQ(r["headers"].value("tracestate", ""), "congo=t61rcWkgMzE");
    EXPECT_EQ(r["headers"].value("x-request-id", ""), "trace-e2e-retried");
  }
  const std::string line = LogLine("trace-e2e-retried");
  EXPECT_NE(line.find(std::string("trace_id=") + kCallerTrace), std::string::npos) << line;
}

TEST_F(MetricsE2ETest, EveryRequestOfAMultiRequestCallCarriesItsTrace) {
  // SyncConnection reads the connection, triggers from the read's callback,
  // and checks a 409 with one more read from the trigger's callback.
  emulator_->AddFault({{"path_prefix", "/v1/connections/decent_dropsy/sync"},
                       {"method", "POST"},
                       {"status", 409},
                       {"count", 1}});
  auto context = Context(std::string(kToken) + "-write");
  context->AddMetadata("traceparent",
                       std::string("00-") + kCallerTrace + "-" + kCallerSpan + "-00");
  v1::SyncConnectionRequest request;
  request.set_connection_id("decent_dropsy");
  v1::SyncConnectionResponse response;
  grpc::Status status = gateway_->connections()->SyncConnection(context.get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  std::vector<json> sent = Requests("/v1/connections/decent_dropsy");
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[1]["path"], "/v1/connections/decent_dropsy/sync");
  EXPECT_EQ(sent[2]["path"], "/v1/connections/decent_dropsy");
  for (const json& r : sent) EXPECT_EQ(TraceOf(r).first, kCallerTrace) << r.dump();
}

TEST_F(MetricsE2ETest, AMissingOrInvalidTraceparentStartsANewTrace) {
  int n = 0;
  for (const char* given : {"", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
                            "00-00000000000000000000000000000000-00f067aa0ba902b7-01"}) {
    SCOPED_TRACE(given);
    emulator_->ClearRequests();
    auto context = Context();
    if (*given != '\0') context->AddMetadata("traceparent", given);
    context->AddMetadata("tracestate", "congo=t61rcWkgMzE");
    const std::string id = "trace-e2e-new-" + std::to_string(++n);
    context->AddMetadata("x-request-id", id);
    v1::ListUsersResponse page;
    ASSERT_TRUE(gateway_->users()->ListUsers(context.get(), v1::ListUsersRequest(), &page).ok());
    std::vector<json> sent = Requests("/v1/users");
    ASSERT_EQ(sent.size(), 1u);
    const std::string trace_id = TraceOf(sent[0]).first;
    ASSERT_FALSE(trace_id.empty()) << sent[0].dump();  // A valid traceparent all the same.
    EXPECT_NE(trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    // A tracestate without a valid traceparent is not passed on.
    EXPECT_FALSE(sent[0]["headers"].contains("tracestate"));
    EXPECT_NE(LogLine(id).find("trace_id=" + trace_id), std::string::npos) << LogLine(id);
  }
}

}  // namespace
}  // namespace fivetran_gateway::testing
