// Load under faults (issue 6): 2,000 concurrent RPCs of mixed operations
// against the gateway while the emulator injects 5% 503s, 1% dropped
// connections, added latency, and apply-then-fail faults on POSTs (the
// create or sync trigger happens, then the answer is a 503 page or a dropped
// connection). Loopback only, bounded in count and time.
//
// Every RPC must end OK with the content asked for, or with a code the
// injected faults produce and exactly one ErrorInfo; the gateway must stay
// up; and the emulator's request log must show exactly one upstream POST per
// intended create (a create whose answer was lost is never sent again).
#include <grpcpp/impl/codegen/client_unary_call.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "grpc/health/v1/health.pb.h"
#include "tests/harness.h"

namespace fivetran_gateway::testing {
namespace {

namespace v1 = ::fivetran::gateway::v1;
using nlohmann::json;

constexpr int kCalls = 2000;
// Apply-then-fail faults queued for the first POSTs (creates and sync
// triggers); they take precedence over the random faults.
constexpr int kApplyThenFailHtml = 12;
constexpr int kApplyThenFailDrop = 12;
constexpr char kCreateGroup[] = "quiet_harbor";

struct Call {
  grpc::ClientContext context;
  grpc::Status status;
  std::string kind;
  // Requests and responses of every kind; only one pair is used.
  v1::GetConnectionRequest get;
  v1::GetConnectionResponse got;
  v1::ListGroupConnectionsRequest list;
  v1::ListGroupConnectionsResponse listed;
  v1::ListUsersRequest users;
  v1::ListUsersResponse users_out;
  v1::ListGroupsRequest groups;
  v1::ListGroupsResponse groups_out;
  v1::CreateConnectionRequest create;
  v1::CreateConnectionResponse created;
  v1::SyncConnectionRequest sync;
  v1::SyncConnectionResponse synced;
};

// The create and sync-trigger POSTs the emulator received, and the faults
// it injected, from its request log.
struct UpstreamLog {
  std::map<std::string, std::vector<json>> create_posts;  // by config.schema
  int sync_posts = 0;
  int random_503 = 0;
  int random_drops = 0;
  int apply_then_fail_html = 0;
  int apply_then_fail_drop = 0;
};

bool IsCreatePost(const json& r) {
  const std::string path = r["path"].get<std::string>();
  return r["method"] == "POST" && (path == "/v1/connections" || path == "/v1/connections/" ||
                                   path == "/v1/connectors" || path == "/v1/connectors/");
}

// config.schema of a create body as sent, "" when there is none.
std::string SchemaOf(const std::string& body_text) {
  const json body = json::parse(body_text, nullptr, false);
  if (!body.is_object() || !body.contains("config") || !body["config"].is_object()) return "";
  const json& config = body["config"];
  if (!config.contains("schema") || !config["schema"].is_string()) return "";
  return config["schema"].get<std::string>();
}

UpstreamLog ReadUpstreamLog(const Emulator& emulator) {
  UpstreamLog log;
  for (const json& r : emulator.Requests()) {
    if (IsCreatePost(r)) {
      log.create_posts[SchemaOf(r["body"].get<std::string>())].push_back(r);
    } else if (r["method"] == "POST") {
      ++log.sync_posts;
    }
    const json& fault = r["fault"];
    if (fault.is_null()) continue;
    const bool apply_first = fault["apply_first"].get<bool>();
    if (fault["kind"] == "status" && !apply_first && r["status"] == 503) ++log.random_503;
    if (fault["kind"] == "drop" && !apply_first && r["status"] == 0) ++log.random_drops;
    if (fault["kind"] == "html" && apply_first && r["status"] == 503) ++log.apply_then_fail_html;
    if (fault["kind"] == "drop" && apply_first && r["status"] == 0) ++log.apply_then_fail_drop;
  }
  return log;
}

// Whether the logged create POST created the connection (whatever the
// gateway was told).
bool CreateApplied(const json& post) {
  const json& fault = post["fault"];
  if (fault.is_null()) return post["status"] == 201;
  return fault["apply_first"].get<bool>() && fault["served_status"] == 201;
}

// Connection ids by schema in the group creates go to.
std::map<std::string, std::vector<std::string>> ConnectionsBySchema(const Emulator& emulator) {
  std::map<std::string, std::vector<std::string>> out;
  for (const json& c :
       emulator.ListAll(std::string("/v1/groups/") + kCreateGroup + "/connections")) {
    out[c["schema"].get<std::string>()].push_back(c["id"].get<std::string>());
  }
  return out;
}

// An OK answer carries what was asked for.
void CheckOkContent(const Call& c) {
  if (c.kind == "GetConnection") {
    EXPECT_EQ(c.got.connection().id(), c.get.connection_id());
  } else if (c.kind == "ListGroupConnections") {
    EXPECT_EQ(c.listed.connections_size(), 50);
    for (const v1::Connection& conn : c.listed.connections()) {
      EXPECT_EQ(conn.group_id(), "amber_fjord") << conn.id();
    }
    EXPECT_FALSE(c.listed.next_page_token().empty());  // 260 connections
  } else if (c.kind == "ListUsers") {
    EXPECT_EQ(c.users_out.users_size(), 100);  // default page of 130 users
    EXPECT_FALSE(c.users_out.next_page_token().empty());
  } else if (c.kind == "ListGroups") {
    std::set<std::string> ids;
    for (const v1::Group& g : c.groups_out.groups()) ids.insert(g.id());
    EXPECT_EQ(ids, std::set<std::string>(
                       {"amber_fjord", "empty_meadow", "projected_sickle", "quiet_harbor"}));
    EXPECT_TRUE(c.groups_out.next_page_token().empty());
  } else if (c.kind == "SyncConnection") {
    EXPECT_NE(c.synced.message().find("decent_dropsy"), std::string::npos) << c.synced.message();
    EXPECT_TRUE(c.synced.has_triggered_at());
    EXPECT_TRUE(c.synced.has_baseline());  // decent_dropsy has synced before
  }
}

// A failed call failed the way the injected faults make calls fail: the
// faults are all 503s and dropped connections (retried for GETs, never for
// POSTs that may have been applied), so UNAVAILABLE; NOT_FOUND only for the
// id that does not exist.
void CheckFailure(const Call& c) {
  const grpc::Status& s = c.status;
  EXPECT_EQ(DetailsOf(s).error_info_count, 1) << c.kind << ": " << s.error_message();
  if (c.kind == "GetConnection" && c.get.connection_id() == "no_such_connection") {
    EXPECT_TRUE(s.error_code() == grpc::StatusCode::NOT_FOUND ||
                s.error_code() == grpc::StatusCode::UNAVAILABLE)
        << s.error_code() << " " << s.error_message();
    return;
  }
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE)
      << c.kind << ": " << s.error_code() << " " << s.error_message();
}

// Exactly one upstream POST per intended create; the connection exists if
// and only if that POST was applied; an OK answer describes it; a create
// applied but answered with a fault failed with outcome=unknown. Returns how
// many creates were applied although the caller saw a failure.
int CheckCreates(const std::vector<std::unique_ptr<Call>>& calls, const UpstreamLog& log,
                 const std::map<std::string, std::vector<std::string>>& existing) {
  std::set<std::string> intended;
  int applied_but_failed = 0;
  for (const auto& c : calls) {
    if (c->kind != "CreateConnection") continue;
    const std::string schema = c->create.config().fields().at("schema").string_value();
    intended.insert(schema);
    auto posts = log.create_posts.find(schema);
    const size_t n = posts == log.create_posts.end() ? 0 : posts->second.size();
    EXPECT_EQ(n, 1u) << "upstream POSTs for the create of " << schema << " (the call ended with "
                     << c->status.error_code() << ": " << c->status.error_message() << ")";
    if (n != 1) continue;
    const json& post = posts->second[0];
    auto found = existing.find(schema);
    const size_t exists = found == existing.end() ? 0 : found->second.size();
    EXPECT_EQ(exists, CreateApplied(post) ? 1u : 0u) << schema << ": " << post.dump();
    if (c->status.ok()) {
      EXPECT_TRUE(post["fault"].is_null()) << post.dump();
      EXPECT_EQ(c->created.connection().schema(), schema);
      EXPECT_EQ(c->created.connection().group_id(), kCreateGroup);
      EXPECT_EQ(c->created.connection().service(), "postgres");
      if (exists == 1) {
        EXPECT_EQ(c->created.connection().id(), found->second[0]);
      }
    } else if (CreateApplied(post)) {
      ++applied_but_failed;
      const ErrorDetails details = DetailsOf(c->status);
      const auto& metadata = details.error_info.metadata();
      auto outcome = metadata.find("outcome");
      EXPECT_TRUE(outcome != metadata.end() && outcome->second == "unknown")
          << schema << ": " << c->status.error_message();
    }
  }
  for (const auto& [schema, posts] : log.create_posts) {
    EXPECT_TRUE(intended.count(schema)) << "unexpected create POST for schema '" << schema << "'";
  }
  return applied_but_failed;
}

void ExpectHealthy(Gateway& gateway, const std::shared_ptr<grpc::Channel>& channel) {
  EXPECT_TRUE(gateway.process().Running());
  grpc::health::v1::HealthCheckResponse hresp;
  grpc::Status hs = HealthCheck(channel, &hresp, "", 5);
  EXPECT_TRUE(hs.ok()) << hs.error_message();
}

TEST(LoadTest, TwoThousandConcurrentRpcsUnderUpstreamFaults) {
  // More emulator workers than the gateway's 64 upstream connections: with
  // 64 of each, under ThreadSanitizer, a few creates' POSTs ended in "Empty
  // reply from server" without reaching the emulator's handler (1 run in 16
  // and 1 in 24, with another process loading the CPU); none in 48 runs with
  // 160. The gateway reported them correctly (UNAVAILABLE, outcome unknown).
  Emulator emulator({"--threads=160", "--fault_rate_503=0.05", "--fault_rate_drop=0.01",
                     "--latency=20ms", "--sync_duration=100ms", "--keep_alive_timeout_sec=2",
                     "--rate_limit_per_hour=1000000", "--request_log_capacity=100000"});
  Gateway gateway(emulator.base_url(), Emulator::kApiKey, Emulator::kApiSecret,
                  {"--log_level=warn"});
  emulator.AddFault({{"path_prefix", "/v1/connections"},
                     {"method", "POST"},
                     {"kind", "html"},
                     {"status", 503},
                     {"count", kApplyThenFailHtml},
                     {"apply_first", true}});
  emulator.AddFault({{"path_prefix", "/v1/connections"},
                     {"method", "POST"},
                     {"kind", "drop"},
                     {"count", kApplyThenFailDrop},
                     {"apply_first", true}});
  emulator.ClearRequests();

  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<v1::ConnectionService::Stub>> connections;
  std::vector<std::unique_ptr<v1::GroupService::Stub>> groups;
  std::vector<std::unique_ptr<v1::UserService::Stub>> users;
  for (int i = 0; i < 8; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("grpc.channel_id", i);
    channels.push_back(
        grpc::CreateCustomChannel(gateway.address(), grpc::InsecureChannelCredentials(), args));
    connections.push_back(v1::ConnectionService::NewStub(channels.back()));
    groups.push_back(v1::GroupService::NewStub(channels.back()));
    users.push_back(v1::UserService::NewStub(channels.back()));
  }
  const std::vector<std::string> ids = {"decent_dropsy", "fresh_otter",   "sleepy_badger",
                                        "future_fox",    "drifting_port", "no_such_connection"};

  absl::Mutex mu;
  int done = 0;
  std::vector<std::unique_ptr<Call>> calls;
  calls.reserve(kCalls);
  auto finish = [&](Call* c) {
    return [&mu, &done, c](grpc::Status s) {
      absl::MutexLock lock(&mu);
      c->status = std::move(s);
      ++done;
    };
  };
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kCalls; ++i) {
    auto call = std::make_unique<Call>();
    Call* c = call.get();
    c->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(45));
    int ch = i % static_cast<int>(channels.size());
    int pick = i % 20;
    if (pick < 8) {
      c->kind = "GetConnection";
      c->get.set_connection_id(ids[i % ids.size()]);
      connections[ch]->async()->GetConnection(&c->context, &c->get, &c->got, finish(c));
    } else if (pick < 12) {
      c->kind = "ListGroupConnections";
      c->list.set_group_id("amber_fjord");
      c->list.set_page_size(50);
      groups[ch]->async()->ListGroupConnections(&c->context, &c->list, &c->listed, finish(c));
    } else if (pick < 15) {
      c->kind = "ListUsers";
      users[ch]->async()->ListUsers(&c->context, &c->users, &c->users_out, finish(c));
    } else if (pick < 17) {
      c->kind = "ListGroups";
      groups[ch]->async()->ListGroups(&c->context, &c->groups, &c->groups_out, finish(c));
    } else if (pick < 19) {
      c->kind = "CreateConnection";
      c->create.set_group_id(kCreateGroup);
      c->create.set_service("postgres");
      (*c->create.mutable_config()->mutable_fields())["schema"].set_string_value("load_" +
                                                                                 std::to_string(i));
      connections[ch]->async()->CreateConnection(&c->context, &c->create, &c->created, finish(c));
    } else {
      c->kind = "SyncConnection";
      c->sync.set_connection_id("decent_dropsy");
      connections[ch]->async()->SyncConnection(&c->context, &c->sync, &c->synced, finish(c));
    }
    calls.push_back(std::move(call));
  }
  {
    absl::MutexLock lock(&mu);
    auto all_done = [&done]() { return done == kCalls; };
    ASSERT_TRUE(mu.AwaitWithTimeout(absl::Condition(&all_done), absl::Seconds(90)))
        << done << " of " << kCalls << " RPCs ended";
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::map<std::string, int> histogram;
  int ok = 0;
  int sync_calls = 0;
  for (const auto& c : calls) {
    histogram[c->kind + " " + std::to_string(c->status.error_code())]++;
    if (c->kind == "SyncConnection") ++sync_calls;
    if (c->status.ok()) {
      ++ok;
      EXPECT_NE(c->get.connection_id(), "no_such_connection");
      CheckOkContent(*c);
    } else {
      CheckFailure(*c);
    }
  }
  std::printf("load: %d RPCs in %.2f s (%.0f RPC/s), %d OK\n", kCalls, seconds, kCalls / seconds,
              ok);
  for (const auto& [k, n] : histogram) std::printf("  %-28s %d\n", k.c_str(), n);
  // Retries absorb most faults: the large majority succeeds.
  EXPECT_GT(ok, kCalls * 8 / 10);

  // The gateway is still up and serving.
  ExpectHealthy(gateway, channels[0]);

  // The faults fired: random 503s and drops, and every apply-then-fail fault.
  const UpstreamLog log = ReadUpstreamLog(emulator);
  std::printf("upstream: %d random 503, %d random drops, %d + %d apply-then-fail, %d sync POSTs\n",
              log.random_503, log.random_drops, log.apply_then_fail_html, log.apply_then_fail_drop,
              log.sync_posts);
  EXPECT_GT(log.random_503, 0);
  EXPECT_GT(log.random_drops, 0);
  EXPECT_EQ(log.apply_then_fail_html, kApplyThenFailHtml);
  EXPECT_EQ(log.apply_then_fail_drop, kApplyThenFailDrop);
  const HttpReply queued = emulator.Admin("GET", "/_emulator/faults");
  ASSERT_EQ(queued.status, 200) << queued.body;
  EXPECT_EQ(queued.json["data"]["items"], json::array()) << "faults left unused";
  // A sync trigger is not re-sent either: at most one POST per SyncConnection.
  EXPECT_LE(log.sync_posts, sync_calls);

  // Queued faults take precedence over the random ones: a zero-latency fault
  // on every request switches them off while the result is read.
  emulator.AddFault({{"kind", "latency"}, {"latency_ms", 0}, {"count", -1}});
  const int applied_but_failed = CheckCreates(calls, log, ConnectionsBySchema(emulator));
  std::printf("creates applied although the caller saw a failure: %d\n", applied_but_failed);
  EXPECT_GT(applied_but_failed, 0);
}

}  // namespace
}  // namespace fivetran_gateway::testing
