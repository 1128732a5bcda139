// End-to-end robustness cases of issue 11, against the real gateway binary:
//   * N13: valid JSON that strict parsers refuse (\u escapes of lone
//     surrogates) and bodies with bytes that are not UTF-8 are served, with
//     U+FFFD in their place, on every listing and GetConnection. The
//     emulator cannot produce such a body (it writes well-formed JSON only),
//     so a small HTTP upstream in this test serves them.
//   * Exit while calls wait between retries: SIGTERM, the emulator answering
//     503 with Retry-After; the gateway exits 0 and every caller gets
//     UNAVAILABLE.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "google/protobuf/stubs/common.h"
#include "google/protobuf/text_format.h"
#include "httplib.h"
#include "tests/harness.h"

namespace fivetran_gateway::testing {
namespace {

namespace v1 = ::fivetran::gateway::v1;

constexpr char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD
constexpr char kEmoji[] = "\xF0\x9F\x98\x80";    // U+1F600, sent as \ud83d\ude00

// True when `s` is well-formed UTF-8 (what a proto3 string must hold):
// protobuf's own check, which also refuses surrogates and overlong forms.
bool IsUtf8(const std::string& s) {
  return google::protobuf::internal::IsStructurallyValidUTF8(s.data(), static_cast<int>(s.size()));
}

bool AllStringsUtf8(const google::protobuf::Message& m) {
  std::string text;
  google::protobuf::TextFormat::PrintToString(m, &text);
  return IsUtf8(text);
}

// A connection object whose strings hold a lone surrogate escape, a valid
// pair, and raw bytes that are not UTF-8.
std::string DamagedConnection(const std::string& id) {
  return std::string(R"({"id":")") + id +
         R"(","group_id":"grp_u","service":"postgres","schema":"pg_\udc00x",)"
         R"("status":{"setup_state":"connected","sync_state":"scheduled",)"
         R"("tasks":[{"code":"t","message":"pair \ud83d\ude00 lone \ud800"}]},)"
         R"("config":{"host":"db)"
         "\xFF\xC3"
         R"(.example.test","note\udbff":"ok"}})";
}

class Utf8E2ETest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    upstream_ = new httplib::Server();
    auto json = [](httplib::Response& res, const std::string& body) {
      res.set_content(body, "application/json");
    };
    upstream_->Get("/v1/users", [json](const httplib::Request&, httplib::Response& res) {
      json(res, R"({"code":"Success","data":{"items":[)"
                R"({"id":"usr_a","given_name":"Ana","family_name":"Ruiz"},)"
                R"({"id":"usr_b","given_name":"Ra\udc00ul","family_name":"\ud83d\ude00",)"
                R"("email":"b)"
                "\xE2\x82"
                R"(@example.test"}]}})");
    });
    upstream_->Get("/v1/groups", [json](const httplib::Request&, httplib::Response& res) {
      json(res, R"({"code":"Success","data":{"items":[)"
                R"({"id":"grp_u","name":"Sales \ud800 team","created_at":null}]}})");
    });
    upstream_->Get(
        "/v1/groups/grp_u/connections", [json](const httplib::Request&, httplib::Response& res) {
          json(res, R"({"code":"Success","data":{"items":[)" + DamagedConnection("con_a") + "," +
                        DamagedConnection("con_b") + "]}}");
        });
    upstream_->Get("/v1/connections/con_u",
                   [json](const httplib::Request&, httplib::Response& res) {
                     json(res, R"({"code":"Success","data":)" + DamagedConnection("con_u") + "}");
                   });
    const int port = upstream_->bind_to_any_port("127.0.0.1");
    upstream_thread_ = new std::thread([] { upstream_->listen_after_bind(); });
    gateway_ =
        new Gateway("http://127.0.0.1:" + std::to_string(port), "k_utf8_test", "s_utf8_test");
  }
  static void TearDownTestSuite() {
    delete gateway_;
    upstream_->stop();
    upstream_thread_->join();
    delete upstream_thread_;
    delete upstream_;
  }

  static httplib::Server* upstream_;
  static std::thread* upstream_thread_;
  static Gateway* gateway_;
};

httplib::Server* Utf8E2ETest::upstream_ = nullptr;
std::thread* Utf8E2ETest::upstream_thread_ = nullptr;
Gateway* Utf8E2ETest::gateway_ = nullptr;

void ExpectRepairedConnection(const v1::Connection& c, const std::string& id) {
  SCOPED_TRACE(id);
  EXPECT_EQ(c.id(), id);
  EXPECT_EQ(c.schema(), std::string("pg_") + kReplacement + "x");
  ASSERT_EQ(c.status().tasks_size(), 1);
  EXPECT_EQ(c.status().tasks(0).message(), std::string("pair ") + kEmoji + " lone " + kReplacement);
  EXPECT_EQ(c.config().fields().at("host").string_value(),
            std::string("db") + kReplacement + kReplacement + ".example.test");
  EXPECT_EQ(c.config().fields().count(std::string("note") + kReplacement), 1u);
  EXPECT_TRUE(AllStringsUtf8(c));
}

TEST_F(Utf8E2ETest, N13ListUsersServesThePageWithReplacementCharacters) {
  v1::ListUsersRequest request;
  v1::ListUsersResponse response;
  grpc::Status s = gateway_->users()->ListUsers(ContextWithDeadline().get(), request, &response);
  ASSERT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
  ASSERT_EQ(response.users_size(), 2);
  EXPECT_EQ(response.users(0).given_name(), "Ana");
  EXPECT_EQ(response.users(1).given_name(), std::string("Ra") + kReplacement + "ul");
  EXPECT_EQ(response.users(1).family_name(), kEmoji);
  EXPECT_EQ(response.users(1).email(), std::string("b") + kReplacement + "@example.test");
  EXPECT_TRUE(AllStringsUtf8(response));
}

TEST_F(Utf8E2ETest, N13ListGroups) {
  v1::ListGroupsRequest request;
  v1::ListGroupsResponse response;
  grpc::Status s = gateway_->groups()->ListGroups(ContextWithDeadline().get(), request, &response);
  ASSERT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
  ASSERT_EQ(response.groups_size(), 1);
  EXPECT_EQ(response.groups(0).name(), std::string("Sales ") + kReplacement + " team");
  EXPECT_TRUE(AllStringsUtf8(response));
}

TEST_F(Utf8E2ETest, N13ListGroupConnections) {
  v1::ListGroupConnectionsRequest request;
  request.set_group_id("grp_u");
  v1::ListGroupConnectionsResponse response;
  grpc::Status s =
      gateway_->groups()->ListGroupConnections(ContextWithDeadline().get(), request, &response);
  ASSERT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
  ASSERT_EQ(response.connections_size(), 2);
  ExpectRepairedConnection(response.connections(0), "con_a");
  ExpectRepairedConnection(response.connections(1), "con_b");
}

TEST_F(Utf8E2ETest, N13GetConnection) {
  v1::GetConnectionRequest request;
  request.set_connection_id("con_u");
  v1::GetConnectionResponse response;
  grpc::Status s =
      gateway_->connections()->GetConnection(ContextWithDeadline().get(), request, &response);
  ASSERT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
  ExpectRepairedConnection(response.connection(), "con_u");
}

// ---------------------------------------------------------------------------
// Exit while calls wait between retries.

TEST(ShutdownE2ETest, SigtermWhileCallsWaitBetweenRetriesExitsCleanly) {
  Emulator emulator;
  Gateway gateway(emulator.base_url(), Emulator::kApiKey, Emulator::kApiSecret,
                  {"--max_attempts=5", "--grace_period=1s", "--max_retry_wait=60s"});
  // Every read and every create is refused with a long Retry-After: each call
  // waits on the gateway's timer between attempts.
  emulator.AddFault({{"path_prefix", "/v1/groups"},
                     {"method", "GET"},
                     {"count", -1},
                     {"status", 503},
                     {"retry_after", "30"}});
  emulator.AddFault({{"path_prefix", "/v1/connections"},
                     {"method", "POST"},
                     {"count", -1},
                     {"status", 429},
                     {"retry_after", "30"}});
  constexpr int kReaders = 6;
  std::vector<grpc::Status> statuses(kReaders);
  std::vector<std::thread> readers;
  for (int i = 0; i < kReaders; ++i) {
    readers.emplace_back([&gateway, &statuses, i] {
      v1::ListGroupsResponse response;
      statuses[i] = gateway.groups()->ListGroups(ContextWithDeadline(45).get(),
                                                 v1::ListGroupsRequest(), &response);
    });
  }
  // A create with a request_id outlives its caller: its POST keeps waiting
  // between attempts after the caller's deadline (README, idempotent creates).
  v1::CreateConnectionRequest create;
  create.set_group_id("quiet_harbor");
  create.set_service("postgres");
  (*create.mutable_config()->mutable_fields())["schema"].set_string_value("pg_exit");
  create.set_request_id("exit-while-waiting-1");
  v1::CreateConnectionResponse created;
  grpc::Status create_status =
      gateway.connections()->CreateConnection(ContextWithDeadline(1).get(), create, &created);
  EXPECT_EQ(create_status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);

  // Every reader's first attempt has been answered: all wait on the timer.
  for (int i = 0; i < 400; ++i) {
    int gets = 0;
    for (const auto& r : emulator.Requests()) gets += r["method"] == "GET" && r["status"] == 503;
    if (gets >= kReaders) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }

  EXPECT_EQ(gateway.process().StopWith(SIGTERM, 20), 0) << gateway.log();
  for (auto& t : readers) t.join();
  for (const grpc::Status& s : statuses) {
    // The grace period (1 s) ends before the 30 s wait: the call is cut short
    // with UNAVAILABLE (README, --grace_period), which callers retry elsewhere.
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  }
  const std::string log = gateway.log();
  EXPECT_EQ(log.find("AddressSanitizer"), std::string::npos) << log;
  EXPECT_EQ(log.find("runtime error"), std::string::npos) << log;
  EXPECT_NE(log.find("stopped"), std::string::npos) << log;
}

}  // namespace
}  // namespace fivetran_gateway::testing
