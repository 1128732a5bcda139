// Load under faults (issue 6): 2,000 concurrent RPCs of mixed operations
// against the gateway while the emulator injects 5% 503s, 1% dropped
// connections and added latency. Loopback only, bounded in count and time.
// Every RPC must end OK or with a documented code and exactly one ErrorInfo,
// the gateway must stay up, and no connection may be created twice.
#include <grpcpp/impl/codegen/client_unary_call.h>
#include <gtest/gtest.h>

#include <atomic>
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

TEST(LoadTest, TwoThousandConcurrentRpcsUnderUpstreamFaults) {
  Emulator emulator({"--threads=64", "--fault_rate_503=0.05", "--fault_rate_drop=0.01",
                     "--latency=20ms", "--sync_duration=100ms", "--keep_alive_timeout_sec=2",
                     "--rate_limit_per_hour=1000000"});
  Gateway gateway(emulator.base_url(), Emulator::kApiKey, Emulator::kApiSecret,
                  {"--log_level=warn"});
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
      c->create.set_group_id("quiet_harbor");
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

  // Codes the README documents for these operations.
  const std::set<grpc::StatusCode> documented = {
      grpc::StatusCode::NOT_FOUND,          grpc::StatusCode::UNAVAILABLE,
      grpc::StatusCode::DEADLINE_EXCEEDED,  grpc::StatusCode::RESOURCE_EXHAUSTED,
      grpc::StatusCode::INTERNAL,           grpc::StatusCode::ALREADY_EXISTS,
      grpc::StatusCode::FAILED_PRECONDITION};
  std::map<std::string, int> histogram;
  int ok = 0;
  for (const auto& c : calls) {
    const grpc::Status& s = c->status;
    histogram[c->kind + " " + std::to_string(s.error_code())]++;
    if (s.ok()) {
      ++ok;
      continue;
    }
    EXPECT_TRUE(documented.count(s.error_code()))
        << c->kind << ": " << s.error_code() << " " << s.error_message();
    EXPECT_EQ(DetailsOf(s).error_info_count, 1) << c->kind << ": " << s.error_message();
    if (c->kind == "GetConnection" && c->get.connection_id() == "no_such_connection") continue;
    // Only the faults may fail a call, and never as NOT_FOUND for a real id.
    EXPECT_NE(s.error_code(), grpc::StatusCode::NOT_FOUND) << c->kind << " " << s.error_message();
  }
  std::printf("load: %d RPCs in %.2f s (%.0f RPC/s), %d OK\n", kCalls, seconds, kCalls / seconds,
              ok);
  for (const auto& [k, n] : histogram) std::printf("  %-28s %d\n", k.c_str(), n);
  // Retries absorb most faults: the large majority succeeds.
  EXPECT_GT(ok, kCalls * 8 / 10);

  // The gateway is still up and serving.
  EXPECT_TRUE(gateway.process().Running());
  grpc::health::v1::HealthCheckRequest hreq;
  grpc::health::v1::HealthCheckResponse hresp;
  grpc::ClientContext hctx;
  hctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::Status hs = grpc::internal::BlockingUnaryCall<
      grpc::health::v1::HealthCheckRequest, grpc::health::v1::HealthCheckResponse,
      google::protobuf::MessageLite, google::protobuf::MessageLite>(
      channels[0].get(),
      grpc::internal::RpcMethod("/grpc.health.v1.Health/Check",
                                grpc::internal::RpcMethod::NORMAL_RPC, channels[0]),
      &hctx, hreq, &hresp);
  EXPECT_TRUE(hs.ok()) << hs.error_message();

  // No connection was created twice: each load_ schema exists at most once.
  std::map<std::string, int> schemas;
  for (const json& c : emulator.ListAll("/v1/groups/quiet_harbor/connections")) {
    schemas[c["schema"].get<std::string>()]++;
  }
  int created = 0;
  for (const auto& [schema, n] : schemas) {
    if (schema.rfind("load_", 0) != 0) continue;
    ++created;
    EXPECT_EQ(n, 1) << schema;
  }
  EXPECT_GT(created, 0);
}

}  // namespace
}  // namespace fivetran_gateway::testing
