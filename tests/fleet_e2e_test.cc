// A fleet (issue 9): redis-server, the emulator, three gateway replicas
// sharing state through Redis, and nginx in front (the deployed template,
// deploy/nginx/fivetran-gateway.conf.template), all on free loopback ports,
// started per test and stopped after it.
#include <grpcpp/impl/codegen/client_unary_call.h>
#include <signal.h>

#include <atomic>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "grpc/health/v1/health.pb.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "tests/harness.h"
#include "tests/nginx_proxy.h"
#include "tests/redis_server.h"

namespace fivetran_gateway::testing {
namespace {

namespace v1 = ::fivetran::gateway::v1;
using json = nlohmann::json;

class FleetE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    redis_ = std::make_unique<RedisServer>();
    emulator_ =
        std::make_unique<Emulator>(std::vector<std::string>{"--request_log_capacity=100000"});
    const std::string key_file = TempPath("page-token.key");
    std::ofstream(key_file) << "fleet-page-token-key-0123456789abcdef\n";
    std::vector<int> ports;
    for (int i = 0; i < 3; ++i) {
      const std::string metrics_port_file = TempPath("metrics.port");
      replicas_.push_back(std::make_unique<Gateway>(
          emulator_->base_url(), Emulator::kApiKey, Emulator::kApiSecret,
          std::vector<std::string>{"--state_store=" + redis_->url(),
                                   "--page_token_key_file=" + key_file,
                                   "--sync_poll_min_interval=100ms", "--metrics_listen=127.0.0.1:0",
                                   "--metrics_port_file=" + metrics_port_file}));
      ports.push_back(replicas_.back()->port());
      metrics_ports_.push_back(WaitForPortFile(metrics_port_file));
    }
    nginx_ = std::make_unique<NginxProxy>(ports);
    channel_ = grpc::CreateChannel(nginx_->address(), grpc::InsecureChannelCredentials());
    connections_ = v1::ConnectionService::NewStub(channel_);
  }

  static v1::CreateConnectionRequest Create(const std::string& schema,
                                            const std::string& request_id) {
    return PostgresCreateRequest(schema, request_id, "fleet-secret-pw");
  }

  grpc::Status CreateVia(v1::ConnectionService::Stub& stub, const v1::CreateConnectionRequest& r,
                         v1::CreateConnectionResponse* out, double deadline_s = 20) {
    return stub.CreateConnection(ContextWithDeadline(deadline_s).get(), r, out);
  }

  // POST /v1/connections the emulator received, by the schema in the body.
  std::map<std::string, int> PostsBySchema() const {
    std::map<std::string, int> out;
    for (const json& r : emulator_->Requests()) {
      if (r["method"] != "POST" || r["path"] != "/v1/connections") continue;
      json body = json::parse(r["body"].get<std::string>(), nullptr, false);
      std::string schema =
          body.is_object() && body.contains("config") ? body["config"].value("schema", "?") : "?";
      ++out[schema];
    }
    return out;
  }
  int Posts() const {
    int n = 0;
    for (const auto& [schema, count] : PostsBySchema()) n += count;
    return n;
  }

  // grpc.health.v1 Check of `service` on `channel`; -1 when the call fails.
  static int Health(const std::shared_ptr<grpc::Channel>& channel, const std::string& service) {
    grpc::health::v1::HealthCheckResponse response;
    grpc::Status s = HealthCheck(channel, &response, service, 5);
    return s.ok() ? static_cast<int>(response.status()) : -1;
  }
  // Waits up to 10 s for every replica to report `status` for the store.
  bool StoreHealthBecomes(int status) {
    for (int i = 0; i < 200; ++i) {
      bool all = true;
      for (auto& r : replicas_)
        all &= Health(r->channel(), "fivetran-gateway.state-store") == status;
      if (all) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // Polls the condition.
    }
    return false;
  }

  // The value of an unlabelled metric on replica `i` ("" when absent).
  std::string Metric(int i, const std::string& name) const {
    httplib::Client client("127.0.0.1", metrics_ports_[i]);
    httplib::Result r = client.Get("/metrics");
    if (!r) return "";
    size_t at = r->body.find("\n" + name + " ");
    if (at == std::string::npos) return "";
    at += name.size() + 2;
    return r->body.substr(at, r->body.find('\n', at) - at);
  }

  static size_t Count(const std::string& text, const std::string& needle) {
    size_t n = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
      ++n;
    }
    return n;
  }

  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<Emulator> emulator_;
  std::vector<std::unique_ptr<Gateway>> replicas_;
  std::unique_ptr<NginxProxy> nginx_;
  std::vector<int> metrics_ports_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::ConnectionService::Stub> connections_;
};

// 300 concurrent creates through nginx, 100 distinct request_ids (each sent
// three times at once, to whichever replica nginx picks): exactly 100 POSTs
// upstream, and every caller of an id gets the same connection.
TEST_F(FleetE2ETest, ConcurrentCreatesThroughNginxSendOnePostPerRequestId) {
  // Each POST takes 100 ms upstream, so that duplicates overlap in flight.
  emulator_->AddFault({{"kind", "latency"},
                       {"latency_ms", 100},
                       {"method", "POST"},
                       {"path_prefix", "/v1/connections"},
                       {"remaining", -1}});
  constexpr int kThreads = 60, kPerThread = 5, kIds = 100;
  std::vector<std::string> got(kThreads * kPerThread);
  std::vector<grpc::Status> statuses(kThreads * kPerThread);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < kPerThread; ++k) {
        // Threads t, t+20 and t+40 send the same ids in the same order.
        const int id = (t * kPerThread + k) % kIds;
        v1::CreateConnectionResponse response;
        statuses[t * kPerThread + k] = CreateVia(
            *connections_,
            Create("pg_fleet_" + std::to_string(id), "fleet-rid-" + std::to_string(id)), &response);
        got[t * kPerThread + k] = response.connection().id();
      }
    });
  }
  for (std::thread& t : threads) t.join();

  std::map<int, std::set<std::string>> ids_by_request;
  for (int i = 0; i < kThreads * kPerThread; ++i) {
    ASSERT_TRUE(statuses[i].ok()) << i << ": " << statuses[i].error_message();
    ASSERT_FALSE(got[i].empty());
    ids_by_request[i % kIds].insert(got[i]);
  }
  std::set<std::string> distinct;
  for (const auto& [request, ids] : ids_by_request) {
    EXPECT_EQ(ids.size(), 1u) << "request_id " << request << " got different connections";
    distinct.insert(ids.begin(), ids.end());
  }
  EXPECT_EQ(distinct.size(), static_cast<size_t>(kIds));
  std::map<std::string, int> posts = PostsBySchema();
  EXPECT_EQ(posts.size(), static_cast<size_t>(kIds));
  for (const auto& [schema, count] : posts) EXPECT_EQ(count, 1) << schema;
  // nginx spread the calls over every replica.
  for (auto& replica : replicas_) EXPECT_GT(Count(replica->log(), "CreateConnection"), 0u);
}

// A 429 learned by one replica: the others answer RESOURCE_EXHAUSTED with
// RetryInfo at once, without a request upstream.
TEST_F(FleetE2ETest, A429LearnedByOneReplicaStopsTheOthersWithoutSending) {
  emulator_->Admin("POST", "/_emulator/rate_limit", {{"limit_per_hour", 1}});
  auto get = [&](int replica) {
    v1::GetConnectionRequest request;
    request.set_connection_id("decent_dropsy");
    v1::GetConnectionResponse response;
    return replicas_[replica]->connections()->GetConnection(ContextWithDeadline(5).get(), request,
                                                            &response);
  };
  ASSERT_TRUE(get(0).ok());
  ASSERT_EQ(get(0).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);  // Fivetran's 429.
  const size_t sent = emulator_->Requests().size();
  ASSERT_EQ(sent, 2u);
  for (int replica : {1, 2}) {
    v1::ListGroupsRequest list;
    v1::ListGroupsResponse groups;
    for (grpc::Status s : {get(replica), replicas_[replica]->groups()->ListGroups(
                                             ContextWithDeadline(5).get(), list, &groups)}) {
      ASSERT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
      ErrorDetails d = DetailsOf(s);
      EXPECT_EQ(d.error_info.reason(), "FIVETRAN_RATE_LIMITED");
      EXPECT_EQ(d.error_info.metadata().at("outcome"), "not_sent");
      ASSERT_TRUE(d.has_retry_info);
      EXPECT_GT(d.retry_info.retry_delay().seconds(), 60);
    }
  }
  EXPECT_EQ(emulator_->Requests().size(), sent);  // Nothing more was sent.
}

// A page token from one replica works on another; an altered one is
// INVALID_ARGUMENT without a request upstream.
TEST_F(FleetE2ETest, PageTokensWorkOnEveryReplicaAndAreTamperEvident) {
  v1::ListGroupsRequest first;
  first.set_page_size(1);
  v1::ListGroupsResponse page1;
  grpc::Status s = replicas_[0]->groups()->ListGroups(ContextWithDeadline(5).get(), first, &page1);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(page1.groups_size(), 1);
  ASSERT_FALSE(page1.next_page_token().empty());

  v1::ListGroupsRequest next = first;
  next.set_page_token(page1.next_page_token());
  v1::ListGroupsResponse page2;
  s = replicas_[2]->groups()->ListGroups(ContextWithDeadline(5).get(), next, &page2);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(page2.groups_size(), 1);
  EXPECT_NE(page2.groups(0).id(), page1.groups(0).id());

  std::string tampered = page1.next_page_token();
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  next.set_page_token(tampered);
  emulator_->ClearRequests();
  for (auto& replica : replicas_) {
    v1::ListGroupsResponse refused;
    s = replica->groups()->ListGroups(ContextWithDeadline(5).get(), next, &refused);
    ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
    EXPECT_EQ(DetailsOf(s).error_info.reason(), "INVALID_PAGE_TOKEN");
  }
  EXPECT_TRUE(emulator_->Requests().empty());
}

// 1,000 watchers spread over the three replicas on 10 connections, polled
// every 500 ms: about 10 upstream reads per interval (one per connection),
// not 30 (one per connection and replica).
TEST_F(FleetE2ETest, WatchersOnThreeReplicasCostOneReadPerConnectionAndInterval) {
  const std::vector<std::string> ids = {
      "jagged_fjord",  "kind_glacier",  "lucky_hazel", "misty_iris",   "noble_juniper",
      "plucky_lagoon", "rustic_magpie", "shiny_nomad", "tender_otter", "urban_prairie"};
  constexpr int kWatchers = 1000;
  struct Watch {
    grpc::ClientContext context;
    v1::WatchConnectionSyncResponse first;
    std::unique_ptr<grpc::ClientAsyncReader<v1::WatchConnectionSyncResponse>> reader;
    grpc::Status status;
  };
  std::vector<std::unique_ptr<v1::ConnectionService::Stub>> stubs;
  for (auto& replica : replicas_) stubs.push_back(replica->connections());
  grpc::CompletionQueue cq;
  std::vector<std::unique_ptr<Watch>> watches;
  emulator_->ClearRequests();
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < kWatchers; ++i) {
    auto w = std::make_unique<Watch>();
    w->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    v1::WatchConnectionSyncRequest request;
    request.set_connection_id(ids[i % ids.size()]);
    request.mutable_poll_interval()->set_nanos(500 * 1000 * 1000);
    w->reader = stubs[i % stubs.size()]->PrepareAsyncWatchConnectionSync(&w->context, request, &cq);
    w->reader->StartCall(reinterpret_cast<void*>(static_cast<intptr_t>(i * 3)));
    watches.push_back(std::move(w));
  }
  // Every watch has started and sent its first update.
  int first_updates = 0;
  while (first_updates < kWatchers) {
    void* tag = nullptr;
    bool ok = false;
    ASSERT_EQ(cq.AsyncNext(&tag, &ok, std::chrono::system_clock::now() + std::chrono::seconds(30)),
              grpc::CompletionQueue::GOT_EVENT);
    ASSERT_TRUE(ok);
    const intptr_t t = reinterpret_cast<intptr_t>(tag);
    if (t % 3 == 0) {
      watches[t / 3]->reader->Read(&watches[t / 3]->first, reinterpret_cast<void*>(t + 1));
    } else {
      ++first_updates;
    }
  }
  // Start-up (issue 13): a watcher's first read is its connection's shared
  // poll, so starting costs one read per connection and interval elapsed,
  // whatever the number of watchers and replicas.
  {
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    int reads = 0;
    for (const json& r : emulator_->Requests()) {
      const std::string path = r["path"];
      if (r["method"] == "GET" && path.rfind("/v1/connections/", 0) == 0) ++reads;
    }
    const int intervals = static_cast<int>(elapsed / 0.5) + 1;
    std::printf("fleet start-up: %d upstream reads in %.2f s for %d watchers\n", reads, elapsed,
                kWatchers);
    EXPECT_LE(reads, static_cast<int>(ids.size()) * (intervals + 1));
  }
  // The rate of upstream reads over 10 intervals (a measurement window).
  emulator_->ClearRequests();
  std::this_thread::sleep_for(std::chrono::seconds(5));
  int reads = 0;
  for (const json& r : emulator_->Requests()) {
    const std::string path = r["path"];
    if (r["method"] == "GET" && path.rfind("/v1/connections/", 0) == 0) ++reads;
  }
  std::printf("fleet polling: %d upstream reads in 5 s (10 intervals) for %d watchers\n", reads,
              kWatchers);
  EXPECT_GE(reads, 50);   // The connections are polled...
  EXPECT_LE(reads, 150);  // ... about once per interval each, not three times.

  for (auto& w : watches) w->context.TryCancel();
  for (int i = 0; i < kWatchers; ++i) {
    watches[i]->reader->Finish(&watches[i]->status, reinterpret_cast<void*>(i * 3 + 2));
  }
  int finished = 0;
  while (finished < kWatchers) {
    void* tag = nullptr;
    bool ok = false;
    ASSERT_EQ(cq.AsyncNext(&tag, &ok, std::chrono::system_clock::now() + std::chrono::seconds(30)),
              grpc::CompletionQueue::GOT_EVENT);
    if (reinterpret_cast<intptr_t>(tag) % 3 == 2) ++finished;
  }
  // None had ended by itself before it was cancelled.
  for (auto& w : watches) EXPECT_EQ(w->status.error_code(), grpc::StatusCode::CANCELLED);
  cq.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (cq.Next(&tag, &ok)) {
  }
}

// Redis goes away mid-run: reads keep working, creates with a request_id
// fail fast with UNAVAILABLE not_sent (nothing sent), creates without one
// work as before; once Redis is back the replicas use it again.
TEST_F(FleetE2ETest, StoreOutageFailsRequestIdCreatesFastAndRecovers) {
  v1::CreateConnectionResponse created;
  ASSERT_TRUE(CreateVia(*connections_, Create("pg_before", "rid-before"), &created).ok());
  const int posts_before = Posts();
  ASSERT_EQ(posts_before, 1);
  constexpr int kServing = grpc::health::v1::HealthCheckResponse::SERVING;
  constexpr int kNotServing = grpc::health::v1::HealthCheckResponse::NOT_SERVING;
  EXPECT_TRUE(StoreHealthBecomes(kServing));

  redis_->Kill();
  // Health details: the store is down, the replicas themselves serve on.
  EXPECT_TRUE(StoreHealthBecomes(kNotServing));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Metric(i, "fivetran_gateway_state_store_up"), "0");
  EXPECT_EQ(Health(channel_, ""), kServing);  // Through nginx.
  for (int i = 0; i < 6; ++i) {               // nginx round-robins: every replica answers.
    v1::GetConnectionRequest get;
    get.set_connection_id(created.connection().id());
    v1::GetConnectionResponse got;
    grpc::Status s = connections_->GetConnection(ContextWithDeadline(5).get(), get, &got);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(got.connection().id(), created.connection().id());
  }
  for (int i = 0; i < 6; ++i) {
    v1::CreateConnectionResponse response;
    grpc::Status s = CreateVia(*connections_, Create("pg_during", "rid-during"), &response, 5);
    ASSERT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
    ErrorDetails d = DetailsOf(s);
    EXPECT_EQ(d.error_info.reason(), "STATE_STORE_UNAVAILABLE");
    EXPECT_EQ(d.error_info.metadata().at("outcome"), "not_sent");
  }
  EXPECT_EQ(Posts(), posts_before);  // Nothing was sent.
  v1::CreateConnectionResponse unkeyed;
  ASSERT_TRUE(CreateVia(*connections_, Create("pg_unkeyed", ""), &unkeyed).ok());
  EXPECT_EQ(Posts(), posts_before + 1);
  // One warning per replica for the outage, however many calls failed.
  for (auto& replica : replicas_) {
    EXPECT_EQ(Count(replica->log(), "unreachable ("), 1u) << replica->log();
  }

  redis_->Start();  // Same port, empty.
  v1::CreateConnectionResponse after;
  grpc::Status s;
  for (int i = 0; i < 100; ++i) {  // The replicas reconnect within their backoff.
    s = CreateVia(*connections_, Create("pg_during", "rid-during"), &after, 5);
    if (s.ok()) break;
    ASSERT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // Client retry backoff.
  }
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(StoreHealthBecomes(kServing));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Metric(i, "fivetran_gateway_state_store_up"), "1");
  for (int i = 0; i < 6; ++i) {  // Every replica now replays the same result.
    v1::CreateConnectionResponse again;
    s = CreateVia(*connections_, Create("pg_during", "rid-during"), &again, 5);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(again.connection().id(), after.connection().id());
  }
  EXPECT_EQ(PostsBySchema()["pg_during"], 1);
  for (auto& replica : replicas_) {
    EXPECT_NE(replica->log().find("reachable again"), std::string::npos);
  }
}

// One replica is SIGKILLed mid-load: nginx sends new calls to the others,
// callers that retry with the same request_id get one connection, and no
// create is sent twice.
TEST_F(FleetE2ETest, AReplicaKilledMidLoadLosesNoCallAndDuplicatesNoCreate) {
  emulator_->AddFault({{"kind", "latency"},
                       {"latency_ms", 30},
                       {"method", "POST"},
                       {"path_prefix", "/v1/connections"},
                       {"remaining", -1}});
  constexpr int kThreads = 8, kPerThread = 25;
  std::atomic<int> done{0};
  std::vector<std::string> failures;
  absl::Mutex mu;
  std::map<std::string, std::set<std::string>> connection_by_rid;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < kPerThread; ++k) {
        // Pairs of threads share ids: each id is created twice.
        const std::string n = std::to_string((t / 2) * kPerThread + k);
        v1::CreateConnectionRequest request = Create("pg_kill_" + n, "kill-rid-" + n);
        v1::CreateConnectionResponse response;
        grpc::Status s;
        // A caller whose call died with its replica retries with the same id.
        for (int attempt = 0; attempt < 5; ++attempt) {
          s = CreateVia(*connections_, request, &response, 5);
          if (s.error_code() != grpc::StatusCode::UNAVAILABLE) break;
        }
        absl::MutexLock lock(&mu);
        if (s.ok()) {
          connection_by_rid[request.request_id()].insert(response.connection().id());
        } else {
          ErrorDetails d = DetailsOf(s);
          failures.push_back(request.request_id() + ": " + std::to_string(s.error_code()) + " " +
                             d.error_info.reason() +
                             " outcome=" + d.error_info.metadata().at("outcome"));
        }
        ++done;
      }
    });
  }
  while (done.load() < kThreads * kPerThread / 3) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // Waits for the load to run.
  }
  replicas_[1]->process().StopWith(SIGKILL, 5);
  for (std::thread& t : threads) t.join();

  // A create the killed replica had claimed ends "unknown" for its other
  // callers (their deadline or the claim's lease runs out first): never
  // sent again. Every other call succeeded.
  for (const std::string& f : failures) {
    EXPECT_NE(f.find("outcome=unknown"), std::string::npos) << f;
  }
  // At most the ids in flight when it died (one per thread), two callers each.
  EXPECT_LE(failures.size(), 2u * kThreads);
  for (const auto& [rid, ids] : connection_by_rid) EXPECT_EQ(ids.size(), 1u) << rid;
  for (const auto& [schema, count] : PostsBySchema()) EXPECT_EQ(count, 1) << schema;
  // New calls after the kill all went to the living replicas.
  v1::CreateConnectionResponse after;
  for (int i = 0; i < 6; ++i) {
    grpc::Status s =
        CreateVia(*connections_,
                  Create("pg_after_kill_" + std::to_string(i), "after-kill-" + std::to_string(i)),
                  &after, 10);
    EXPECT_TRUE(s.ok()) << s.error_message();
  }
}

}  // namespace
}  // namespace fivetran_gateway::testing
