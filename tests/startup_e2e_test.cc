// Many concurrent first requests of every kind right after start-up (issue
// 11, C): the gateway's lazily made parts (channels to the curl loop, the
// credential set, the coalescing and idempotency tables, the sync pollers,
// health and reflection) are first touched by many gRPC threads at once.
// Each answer must be the right one. Under --config=tsan this is the test
// most likely to show a race in that start-up path; the harness fails it
// when the gateway or the emulator reports one.
#include <google/protobuf/util/time_util.h>
#include <grpcpp/impl/codegen/client_unary_call.h>
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "grpc/health/v1/health.pb.h"
#include "tests/harness.h"

namespace fivetran_gateway::testing {
namespace {

namespace v1 = ::fivetran::gateway::v1;
using nlohmann::json;

constexpr int kPerKind = 6;  // concurrent calls of each kind per round
constexpr int kRounds = 2;   // each round starts a new gateway
constexpr double kDeadline = 60;
constexpr char kCreateGroup[] = "quiet_harbor";

class StartupE2ETest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { emulator_ = new Emulator({"--sync_duration=300ms"}); }
  static void TearDownTestSuite() {
    delete emulator_;
    emulator_ = nullptr;
  }
  static Emulator* emulator_;
};
Emulator* StartupE2ETest::emulator_ = nullptr;

// One call: its own channel (so its own new connection to the gateway) and a
// check of the answer, run on its own thread once every thread is ready.
struct Call {
  std::string kind;
  std::function<void(const std::shared_ptr<grpc::Channel>&)> run;
};

void CheckGet(const std::shared_ptr<grpc::Channel>& channel) {
  v1::GetConnectionRequest request;
  request.set_connection_id("decent_dropsy");
  v1::GetConnectionResponse response;
  grpc::Status s = v1::ConnectionService::NewStub(channel)->GetConnection(
      ContextWithDeadline(kDeadline).get(), request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.connection().id(), "decent_dropsy");
  EXPECT_EQ(response.connection().service(), "ftp");
  EXPECT_EQ(response.connection().group_id(), "projected_sickle");
}

void CheckGetMissing(const std::shared_ptr<grpc::Channel>& channel) {
  v1::GetConnectionRequest request;
  request.set_connection_id("no_such_connection");
  v1::GetConnectionResponse response;
  grpc::Status s = v1::ConnectionService::NewStub(channel)->GetConnection(
      ContextWithDeadline(kDeadline).get(), request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
  EXPECT_EQ(DetailsOf(s).error_info_count, 1);
}

void CheckCreate(const std::shared_ptr<grpc::Channel>& channel, const std::string& schema) {
  v1::CreateConnectionRequest request;
  request.set_group_id(kCreateGroup);
  request.set_service("postgres");
  auto& config = *request.mutable_config()->mutable_fields();
  config["schema"].set_string_value(schema);
  config["host"].set_string_value("pg.example.test");
  config["password"].set_string_value("startup-secret-pw");
  v1::CreateConnectionResponse response;
  grpc::Status s = v1::ConnectionService::NewStub(channel)->CreateConnection(
      ContextWithDeadline(kDeadline).get(), request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.connection().schema(), schema);
  EXPECT_EQ(response.connection().group_id(), kCreateGroup);
  EXPECT_EQ(response.connection().service(), "postgres");
  EXPECT_EQ(response.connection().config().fields().at("password").string_value(), "******");
}

void CheckCreateFtp(const std::shared_ptr<grpc::Channel>& channel, const std::string& schema) {
  v1::CreateFtpConnectionRequest request;
  request.set_group_id(kCreateGroup);
  v1::FtpConfig* config = request.mutable_config();
  config->set_schema(schema);
  config->set_table("orders");
  config->set_host("ftp.example.test");
  config->set_port(2121);
  config->set_user("loader");
  config->set_password("startup-ftp-pw");
  config->set_file_type(v1::FTP_FILE_TYPE_CSV);
  v1::CreateFtpConnectionResponse response;
  grpc::Status s = v1::ConnectionService::NewStub(channel)->CreateFtpConnection(
      ContextWithDeadline(kDeadline).get(), request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.connection().service(), "ftp");
  EXPECT_EQ(response.connection().schema(), schema + ".orders");
  const auto& echo = response.connection().config().fields();
  EXPECT_EQ(echo.at("port").number_value(), 2121);
  EXPECT_EQ(echo.at("password").string_value(), "******");
}

void CheckListGroupConnections(const std::shared_ptr<grpc::Channel>& channel) {
  v1::ListGroupConnectionsRequest request;
  request.set_group_id("amber_fjord");
  request.set_page_size(50);
  v1::ListGroupConnectionsResponse response;
  grpc::Status s = v1::GroupService::NewStub(channel)->ListGroupConnections(
      ContextWithDeadline(kDeadline).get(), request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.connections_size(), 50);
  for (const v1::Connection& c : response.connections()) EXPECT_EQ(c.group_id(), "amber_fjord");
  EXPECT_FALSE(response.next_page_token().empty());  // 260 connections
}

void CheckListGroups(const std::shared_ptr<grpc::Channel>& channel) {
  v1::ListGroupsRequest request;
  v1::ListGroupsResponse response;
  grpc::Status s = v1::GroupService::NewStub(channel)->ListGroups(
      ContextWithDeadline(kDeadline).get(), request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  std::set<std::string> ids;
  for (const v1::Group& g : response.groups()) ids.insert(g.id());
  EXPECT_EQ(ids, std::set<std::string>(
                     {"amber_fjord", "empty_meadow", "projected_sickle", "quiet_harbor"}));
  EXPECT_TRUE(response.next_page_token().empty());
}

void CheckListUsers(const std::shared_ptr<grpc::Channel>& channel) {
  v1::ListUsersRequest request;
  v1::ListUsersResponse response;
  grpc::Status s = v1::UserService::NewStub(channel)->ListUsers(
      ContextWithDeadline(kDeadline).get(), request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.users_size(), 100);  // default page of 130 users
  EXPECT_FALSE(response.next_page_token().empty());
}

void CheckSync(const std::shared_ptr<grpc::Channel>& channel) {
  v1::SyncConnectionRequest request;
  request.set_connection_id("fresh_otter");
  v1::SyncConnectionResponse response;
  grpc::Status s = v1::ConnectionService::NewStub(channel)->SyncConnection(
      ContextWithDeadline(kDeadline).get(), request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_NE(response.message().find("fresh_otter"), std::string::npos) << response.message();
  EXPECT_TRUE(response.has_triggered_at());
  EXPECT_EQ(response.setup_state_at_trigger(), v1::SETUP_STATE_CONNECTED);
}

// A triggering watch of decent_dropsy: whichever watcher triggers first, the
// others join that sync or (if it already ended) start the next one; each
// must see a sync end successfully after its baseline.
void CheckWatch(const std::shared_ptr<grpc::Channel>& channel) {
  v1::WatchConnectionSyncRequest request;
  request.set_connection_id("decent_dropsy");
  request.set_trigger(true);
  request.mutable_poll_interval()->set_nanos(100 * 1000 * 1000);
  auto context = ContextWithDeadline(kDeadline);
  auto reader =
      v1::ConnectionService::NewStub(channel)->WatchConnectionSync(context.get(), request);
  std::vector<v1::WatchConnectionSyncResponse> messages;
  v1::WatchConnectionSyncResponse message;
  while (reader->Read(&message)) messages.push_back(message);
  grpc::Status s = reader->Finish();
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_FALSE(messages.empty());
  const v1::WatchConnectionSyncResponse& last = messages.back();
  EXPECT_EQ(last.outcome(), v1::SYNC_OUTCOME_SUCCEEDED);
  ASSERT_TRUE(last.has_baseline());
  EXPECT_GT(last.observation().succeeded_at(), last.baseline());
}

void CheckHealth(const std::shared_ptr<grpc::Channel>& channel) {
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status s = HealthCheck(channel, &response, "", kDeadline);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

void CheckReflection(const std::shared_ptr<grpc::Channel>& channel) {
  std::string bytes;
  grpc::Status s = ReflectionListServices(channel, &bytes, kDeadline);
  ASSERT_TRUE(s.ok()) << s.error_message();
  for (const char* service :
       {"fivetran.gateway.v1.ConnectionService", "fivetran.gateway.v1.GroupService",
        "fivetran.gateway.v1.UserService", "grpc.health.v1.Health"}) {
    EXPECT_NE(bytes.find(service), std::string::npos) << service;
  }
}

// kPerKind calls of every kind, interleaved; creates get unique schemas.
std::vector<Call> AllKinds(int round) {
  std::vector<Call> calls;
  for (int i = 0; i < kPerKind; ++i) {
    const std::string tag = std::to_string(round) + "_" + std::to_string(i);
    calls.push_back({"GetConnection", CheckGet});
    calls.push_back({"GetConnection (missing)", CheckGetMissing});
    calls.push_back(
        {"CreateConnection", [tag](const auto& ch) { CheckCreate(ch, "st_pg_" + tag); }});
    calls.push_back(
        {"CreateFtpConnection", [tag](const auto& ch) { CheckCreateFtp(ch, "st_ftp_" + tag); }});
    calls.push_back({"ListGroupConnections", CheckListGroupConnections});
    calls.push_back({"ListGroups", CheckListGroups});
    calls.push_back({"ListUsers", CheckListUsers});
    calls.push_back({"SyncConnection", CheckSync});
    calls.push_back({"WatchConnectionSync", CheckWatch});
    calls.push_back({"Health/Check", CheckHealth});
    calls.push_back({"ServerReflectionInfo", CheckReflection});
  }
  return calls;
}

TEST_F(StartupE2ETest, ConcurrentFirstRequestsOfEveryKindGetTheRightAnswers) {
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    emulator_->Admin("POST", "/_emulator/reset");
    const std::vector<Call> calls = AllKinds(round);
    Gateway gateway(emulator_->base_url(), Emulator::kApiKey, Emulator::kApiSecret,
                    {"--sync_poll_min_interval=50ms", "--log_level=info"});
    // The port file is written once the server has started: every call below
    // is one of its first.
    std::vector<std::shared_ptr<grpc::Channel>> channels;
    for (size_t i = 0; i < calls.size(); ++i) {
      channels.push_back(gateway.NewChannel(grpc::InsecureChannelCredentials()));
    }
    absl::Notification go;
    std::vector<std::thread> threads;
    for (size_t i = 0; i < calls.size(); ++i) {
      threads.emplace_back([&, i] {
        go.WaitForNotification();
        SCOPED_TRACE(calls[i].kind);
        calls[i].run(channels[i]);
      });
    }
    go.Notify();
    for (std::thread& t : threads) t.join();

    EXPECT_TRUE(gateway.process().Running());
    // Each create reached Fivetran once and made exactly its connection.
    std::map<std::string, int> made;
    for (const json& c :
         emulator_->ListAll(std::string("/v1/groups/") + kCreateGroup + "/connections")) {
      made[c["schema"].get<std::string>()]++;
    }
    for (int i = 0; i < kPerKind; ++i) {
      const std::string tag = std::to_string(round) + "_" + std::to_string(i);
      EXPECT_EQ(made["st_pg_" + tag], 1) << tag;
      EXPECT_EQ(made["st_ftp_" + tag + ".orders"], 1) << tag;
    }
  }
}

}  // namespace
}  // namespace fivetran_gateway::testing
