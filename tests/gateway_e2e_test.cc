// End-to-end: the real emulator over HTTP, the real gateway on a loopback
// port, the generated C++ client. Results are compared with what the
// emulator's REST API returns for the same data.
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <google/protobuf/util/time_util.h>
#include <grpcpp/impl/codegen/client_unary_call.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <cmath>
#include <set>
#include <string>
#include <thread>

#include "grpc/health/v1/health.pb.h"
#include "tests/harness.h"

namespace fivetran_gateway::testing {
namespace {

namespace v1 = ::fivetran::gateway::v1;
using google::protobuf::util::TimeUtil;
using nlohmann::json;

class GatewayE2ETest : public StackTest {
 protected:
  static void SetUpTestSuite() { StartStack({"--sync_duration=1s"}); }
};

// Timestamp in proto == the RFC 3339 string in JSON (or both absent/null).
void ExpectSameTime(const google::protobuf::Timestamp* proto, bool has, const json& j,
                    const std::string& what) {
  if (j.is_null()) {
    EXPECT_FALSE(has) << what << " should be unset for null";
    return;
  }
  ASSERT_TRUE(has) << what;
  google::protobuf::Timestamp expected;
  ASSERT_TRUE(TimeUtil::FromString(j.get<std::string>(), &expected)) << j;
  EXPECT_EQ(*proto, expected) << what;
}

google::protobuf::Struct StructOf(const json& j) {
  google::protobuf::Struct s;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(j.dump(), &s).ok());
  return s;
}

// Field-by-field comparison of a gateway Connection with Fivetran's JSON.
void ExpectSameConnection(const v1::Connection& c, const json& j) {
  SCOPED_TRACE(j.value("id", "?"));
  EXPECT_EQ(c.id(), j["id"]);
  EXPECT_EQ(c.group_id(), j["group_id"]);
  EXPECT_EQ(c.service(), j["service"]);
  EXPECT_EQ(c.schema(), j["schema"]);
  auto opt_bool = [&](bool has, bool value, const char* key) {
    if (!j.contains(key) || j[key].is_null()) {
      EXPECT_FALSE(has) << key;
    } else {
      EXPECT_TRUE(has) << key;
      EXPECT_EQ(value, j[key].get<bool>()) << key;
    }
  };
  opt_bool(c.has_paused(), c.paused(), "paused");
  opt_bool(c.has_pause_after_trial(), c.pause_after_trial(), "pause_after_trial");
  if (j["sync_frequency"].is_null()) {
    EXPECT_FALSE(c.has_sync_frequency());
  } else if (j["sync_frequency"].is_number()) {
    EXPECT_EQ(c.sync_frequency(), j["sync_frequency"].get<int>());
  }
  ExpectSameTime(&c.created_at(), c.has_created_at(), j["created_at"], "created_at");
  ExpectSameTime(&c.succeeded_at(), c.has_succeeded_at(), j.value("succeeded_at", json()),
                 "succeeded_at");
  ExpectSameTime(&c.failed_at(), c.has_failed_at(), j.value("failed_at", json()), "failed_at");
  EXPECT_EQ(c.schedule_type_raw(), j.value("schedule_type", ""));
  const json& status = j["status"];
  EXPECT_EQ(c.status().setup_state_raw(), status["setup_state"]);
  EXPECT_EQ(c.status().sync_state_raw(), status["sync_state"]);
  EXPECT_EQ(c.status().update_state_raw(), status.value("update_state", ""));
  if (j.contains("config") && j["config"].is_object()) {
    EXPECT_TRUE(
        google::protobuf::util::MessageDifferencer::Equivalent(c.config(), StructOf(j["config"])));
  }
  EXPECT_EQ(c.setup_tests_size(), j.contains("setup_tests") && j["setup_tests"].is_array()
                                      ? static_cast<int>(j["setup_tests"].size())
                                      : 0);
}

TEST_F(GatewayE2ETest, GetConnectionMatchesRest) {
  for (const char* id : {"decent_dropsy", "fresh_otter", "sleepy_badger", "unfinished_crane",
                         "cracked_vase", "waiting_heron", "future_fox", "drifting_port"}) {
    v1::GetConnectionRequest request;
    request.set_connection_id(id);
    v1::GetConnectionResponse response;
    grpc::Status s =
        gateway_->connections()->GetConnection(ContextWithDeadline().get(), request, &response);
    ASSERT_TRUE(s.ok()) << id << ": " << s.error_message();
    HttpReply rest = emulator_->Rest("GET", std::string("/v1/connections/") + id);
    ASSERT_EQ(rest.status, 200);
    ExpectSameConnection(response.connection(), rest.json["data"]);
  }
}

TEST_F(GatewayE2ETest, NullsAndUnknownEnumsAreUnsetNotZero) {  // Field reports B4, B5, B20.
  v1::GetConnectionRequest request;
  v1::GetConnectionResponse response;
  request.set_connection_id("fresh_otter");
  ASSERT_TRUE(
      gateway_->connections()->GetConnection(ContextWithDeadline().get(), request, &response).ok());
  EXPECT_FALSE(response.connection().has_succeeded_at());
  EXPECT_FALSE(response.connection().has_failed_at());

  request.set_connection_id("unfinished_crane");
  ASSERT_TRUE(
      gateway_->connections()->GetConnection(ContextWithDeadline().get(), request, &response).ok());
  EXPECT_FALSE(response.connection().has_sync_frequency());
  EXPECT_EQ(response.connection().status().setup_state(), v1::SETUP_STATE_INCOMPLETE);

  request.set_connection_id("future_fox");
  ASSERT_TRUE(
      gateway_->connections()->GetConnection(ContextWithDeadline().get(), request, &response).ok());
  EXPECT_EQ(response.connection().service(), "brand_new_src");
  EXPECT_EQ(response.connection().status().sync_state(), v1::SYNC_STATE_UNSPECIFIED);
  EXPECT_EQ(response.connection().status().sync_state_raw(), "future_state");
}

TEST_F(GatewayE2ETest, ListGroupsMatchesRest) {
  std::vector<json> expected = emulator_->ListAll("/v1/groups");
  ASSERT_GE(expected.size(), 3u);
  v1::ListGroupsRequest request;
  request.set_page_size(2);
  std::vector<v1::Group> got;
  for (int i = 0; i < 50; ++i) {
    v1::ListGroupsResponse response;
    grpc::Status s =
        gateway_->groups()->ListGroups(ContextWithDeadline().get(), request, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_LE(response.groups_size(), 2);
    got.insert(got.end(), response.groups().begin(), response.groups().end());
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].id(), expected[i]["id"]);
    EXPECT_EQ(got[i].name(), expected[i]["name"]);
    ExpectSameTime(&got[i].created_at(), got[i].has_created_at(), expected[i]["created_at"],
                   "created_at");
  }
}

TEST_F(GatewayE2ETest, PagingA250ConnectionGroupReturnsEachIdOnce) {  // Field report B1.
  std::vector<json> expected = emulator_->ListAll("/v1/groups/amber_fjord/connections");
  ASSERT_GE(expected.size(), 250u);
  std::multiset<std::string> seen;
  v1::ListGroupConnectionsRequest request;
  request.set_group_id("amber_fjord");
  request.set_page_size(100);
  int pages = 0;
  for (; pages < 20; ++pages) {
    v1::ListGroupConnectionsResponse response;
    grpc::Status s =
        gateway_->groups()->ListGroupConnections(ContextWithDeadline().get(), request, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
    for (const auto& c : response.connections()) seen.insert(c.id());
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  EXPECT_EQ(pages + 1, static_cast<int>((expected.size() + 99) / 100));
  ASSERT_EQ(seen.size(), expected.size());
  for (const json& item : expected) EXPECT_EQ(seen.count(item["id"]), 1u) << item["id"];
}

TEST_F(GatewayE2ETest, ListGroupConnectionsMatchesRestAndFiltersBySchema) {
  std::vector<json> expected = emulator_->ListAll("/v1/groups/projected_sickle/connections");
  v1::ListGroupConnectionsRequest request;
  request.set_group_id("projected_sickle");
  request.set_page_size(1000);
  v1::ListGroupConnectionsResponse response;
  ASSERT_TRUE(gateway_->groups()
                  ->ListGroupConnections(ContextWithDeadline().get(), request, &response)
                  .ok());
  ASSERT_EQ(response.connections_size(), static_cast<int>(expected.size()));
  for (size_t i = 0; i < expected.size(); ++i) {
    ExpectSameConnection(response.connections(static_cast<int>(i)), expected[i]);
  }
  request.set_schema(expected[0]["schema"]);
  ASSERT_TRUE(gateway_->groups()
                  ->ListGroupConnections(ContextWithDeadline().get(), request, &response)
                  .ok());
  ASSERT_EQ(response.connections_size(), 1);
  EXPECT_EQ(response.connections(0).id(), expected[0]["id"]);
}

// A listing's connections reach the response as bytes written straight from
// Fivetran's JSON (connection_page_reader.h); GetConnection's are parsed into
// messages. Both must describe a connection identically.
TEST_F(GatewayE2ETest, AListedConnectionEqualsItsGetConnection) {
  for (const char* group : {"projected_sickle", "amber_fjord"}) {
    v1::ListGroupConnectionsRequest request;
    request.set_group_id(group);
    request.set_page_size(1000);
    v1::ListGroupConnectionsResponse listed;
    ASSERT_TRUE(gateway_->groups()
                    ->ListGroupConnections(ContextWithDeadline().get(), request, &listed)
                    .ok());
    ASSERT_GT(listed.connections_size(), 0) << group;
    for (const v1::Connection& c : listed.connections()) {
      v1::GetConnectionRequest get;
      get.set_connection_id(c.id());
      v1::GetConnectionResponse got;
      ASSERT_TRUE(
          gateway_->connections()->GetConnection(ContextWithDeadline().get(), get, &got).ok());
      EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(c, got.connection()))
          << "listed: " << c.ShortDebugString()
          << "\ngot:    " << got.connection().ShortDebugString();
    }
  }
}

// A config nested 40 levels deep (Fivetran stores what it is given) would be
// 120 levels of messages (Struct, map entry, Value per level), over the
// default parse limit of protobuf clients (100): the adversarial run of stop
// 21 got DecodeError in Python and "No message returned" from fivetranctl.
// Containers below 30 levels come as their JSON text, so stock clients read it.
TEST_F(GatewayE2ETest, AConnectionWithADeepConfigIsReadableByStockClients) {
  json deep = "bottom";
  for (int i = 0; i < 40; ++i) deep = json{{"k", deep}};
  json body = {{"group_id", "projected_sickle"},
               {"service", "webhooks"},
               {"run_setup_tests", false},
               {"paused", true},
               {"config", {{"schema", "deep_config_e2e"}, {"nested", deep}}}};
  HttpReply created = emulator_->Rest("POST", "/v1/connections", body.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = created.json["data"]["id"];

  v1::GetConnectionRequest get;
  get.set_connection_id(id);
  v1::GetConnectionResponse got;
  grpc::Status s = gateway_->connections()->GetConnection(ContextWithDeadline().get(), get, &got);
  ASSERT_TRUE(s.ok()) << s.error_message();
  // Levels 1 (config) .. 30 are messages; the container at level 31 is text.
  const google::protobuf::Value* v = &got.connection().config().fields().at("nested");
  int levels = 2;  // config, nested
  while (v->has_struct_value() && levels < 30) {
    v = &v->struct_value().fields().at("k");
    ++levels;
  }
  EXPECT_EQ(levels, 30);
  ASSERT_TRUE(v->has_struct_value());
  const google::protobuf::Value& text = v->struct_value().fields().at("k");
  ASSERT_EQ(text.kind_case(), google::protobuf::Value::kStringValue);
  json rest_nested =
      emulator_->Rest("GET", "/v1/connections/" + id).json["data"]["config"]["nested"];
  json below = rest_nested;
  for (int i = 2; i <= 30; ++i) below = below["k"];
  EXPECT_EQ(json::parse(text.string_value()), below);

  v1::ListGroupConnectionsRequest list;
  list.set_group_id("projected_sickle");
  list.set_page_size(1000);
  v1::ListGroupConnectionsResponse listed;
  s = gateway_->groups()->ListGroupConnections(ContextWithDeadline().get(), list, &listed);
  ASSERT_TRUE(s.ok()) << s.error_message();
  bool found = false;
  for (const v1::Connection& c : listed.connections()) {
    if (c.id() != id) continue;
    found = true;
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(c, got.connection()));
  }
  EXPECT_TRUE(found);
}

TEST_F(GatewayE2ETest, PageTokenFromAnotherFilterIsRejected) {
  v1::ListGroupConnectionsRequest request;
  request.set_group_id("amber_fjord");
  request.set_page_size(10);
  v1::ListGroupConnectionsResponse response;
  ASSERT_TRUE(gateway_->groups()
                  ->ListGroupConnections(ContextWithDeadline().get(), request, &response)
                  .ok());
  ASSERT_FALSE(response.next_page_token().empty());
  request.set_group_id("projected_sickle");
  request.set_page_token(response.next_page_token());
  grpc::Status s =
      gateway_->groups()->ListGroupConnections(ContextWithDeadline().get(), request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(DetailsOf(s).error_info.reason(), "INVALID_PAGE_TOKEN");
}

TEST_F(GatewayE2ETest, ListUsersMatchesRestWithActiveFilter) {
  for (int filter = 0; filter < 3; ++filter) {
    std::string query = filter == 0 ? "" : filter == 1 ? "?active=true" : "?active=false";
    std::vector<json> expected = emulator_->ListAll("/v1/users" + query);
    v1::ListUsersRequest request;
    if (filter == 1) request.set_active(true);
    if (filter == 2) request.set_active(false);
    request.set_page_size(50);
    std::vector<v1::User> got;
    for (int i = 0; i < 20; ++i) {
      v1::ListUsersResponse response;
      grpc::Status s =
          gateway_->users()->ListUsers(ContextWithDeadline().get(), request, &response);
      ASSERT_TRUE(s.ok()) << s.error_message();
      got.insert(got.end(), response.users().begin(), response.users().end());
      if (response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    if (filter == 0) {
      EXPECT_GE(got.size(), 120u);
    }
    ASSERT_EQ(got.size(), expected.size()) << query;
    for (size_t i = 0; i < got.size(); ++i) {
      const json& u = expected[i];
      EXPECT_EQ(got[i].id(), u["id"]);
      EXPECT_EQ(got[i].email(), u["email"]);
      EXPECT_EQ(got[i].active(), u["active"].get<bool>());
      if (filter != 0) {
        EXPECT_EQ(got[i].active(), filter == 1);
      }
      EXPECT_EQ(got[i].has_phone(), !u["phone"].is_null());
      ExpectSameTime(&got[i].logged_in_at(), got[i].has_logged_in_at(), u["logged_in_at"],
                     "logged_in_at");
    }
  }
}

TEST_F(GatewayE2ETest, CreateConnectionRunsSetupTestsAndIsReadable) {
  v1::CreateConnectionRequest request;
  request.set_group_id("quiet_harbor");
  request.set_service("postgres");
  auto& fields = *request.mutable_config()->mutable_fields();
  fields["schema"].set_string_value("pg_e2e_ok");
  fields["host"].set_string_value("db.example.test");
  fields["port"].set_number_value(5432);
  fields["password"].set_string_value("pg-secret-value-1");
  request.mutable_options()->set_sync_frequency(60);
  request.mutable_options()->set_schedule_type(v1::SCHEDULE_TYPE_MANUAL);
  v1::CreateConnectionResponse response;
  grpc::Status s =
      gateway_->connections()->CreateConnection(ContextWithDeadline().get(), request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const v1::Connection& c = response.connection();
  EXPECT_TRUE(response.ready());
  EXPECT_EQ(c.status().setup_state(), v1::SETUP_STATE_CONNECTED);
  EXPECT_GT(c.setup_tests_size(), 0);
  EXPECT_EQ(c.sync_frequency(), 60);
  EXPECT_EQ(c.schedule_type(), v1::SCHEDULE_TYPE_MANUAL);
  EXPECT_EQ(c.config().fields().at("password").string_value(), "******");
  EXPECT_EQ(c.config().fields().at("port").number_value(), 5432);

  // What went upstream: the current path, the headers, and run_setup_tests sent explicitly.
  std::vector<json> requests = emulator_->Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0]["method"], "POST");
  EXPECT_EQ(requests[0]["path"], "/v1/connections");
  EXPECT_EQ(requests[0]["headers"]["accept"], "application/json;version=2");
  EXPECT_EQ(requests[0]["headers"]["content-type"], "application/json");
  EXPECT_EQ(requests[0]["headers"]["user-agent"].get<std::string>().rfind("fivetran-gateway/", 0),
            0u);
  EXPECT_EQ(requests[0]["headers"]["has_authorization"], true);
  json body = json::parse(requests[0]["body"].get<std::string>());
  EXPECT_EQ(body["run_setup_tests"], true);
  EXPECT_EQ(body["schedule_type"], "manual");
  EXPECT_EQ(body["config"]["port"], 5432);

  v1::GetConnectionRequest get;
  get.set_connection_id(c.id());
  v1::GetConnectionResponse got;
  ASSERT_TRUE(gateway_->connections()->GetConnection(ContextWithDeadline().get(), get, &got).ok());
  EXPECT_EQ(got.connection().id(), c.id());
  EXPECT_EQ(got.connection().schema(), "pg_e2e_ok");

  // The secret never reaches the gateway's log.
  EXPECT_EQ(gateway_->log().find("pg-secret-value-1"), std::string::npos);
}

TEST_F(GatewayE2ETest, CreateConnectionWithFailingSetupTestIsNotReady) {  // Field report B14.
  v1::CreateConnectionRequest request;
  request.set_group_id("quiet_harbor");
  request.set_service("postgres");
  auto& fields = *request.mutable_config()->mutable_fields();
  fields["schema"].set_string_value("pg_e2e_fail");
  fields["host"].set_string_value("fail.example.test");
  v1::CreateConnectionResponse response;
  grpc::Status s =
      gateway_->connections()->CreateConnection(ContextWithDeadline().get(), request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(response.ready());
  EXPECT_EQ(response.connection().status().setup_state(), v1::SETUP_STATE_INCOMPLETE);
  bool failed = false;
  for (const auto& t : response.connection().setup_tests()) {
    failed |= t.status() == v1::SETUP_TEST_STATUS_FAILED;
  }
  EXPECT_TRUE(failed);
}

TEST_F(GatewayE2ETest, CreateFtpConnectionTyped) {
  v1::CreateFtpConnectionRequest request;
  request.set_group_id("quiet_harbor");
  v1::FtpConfig* config = request.mutable_config();
  config->set_schema("ftp_e2e");
  config->set_table("orders");
  config->set_host("ftp.example.test");
  config->set_port(2121);
  config->set_user("loader");
  config->set_password("ftp-secret-value-2");
  config->set_is_secure(true);
  config->set_prefix("exports/orders");
  config->set_pattern("orders_.*\\.csv");
  config->set_file_type(v1::FTP_FILE_TYPE_CSV);
  config->set_compression(v1::FTP_COMPRESSION_TAR_GZ);
  config->set_on_error(v1::FTP_ON_ERROR_SKIP);
  config->set_append_file_option(v1::FTP_APPEND_FILE_OPTION_UPSERT_FILE_WITH_PRIMARY_KEYS);
  config->set_skip_before(2);
  config->set_null_sequence("NULL");
  config->set_json_delivery_mode(v1::FTP_JSON_DELIVERY_MODE_UNPACKED);
  v1::CreateFtpConnectionResponse response;
  grpc::Status s =
      gateway_->connections()->CreateFtpConnection(ContextWithDeadline().get(), request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const auto& echo = response.connection().config().fields();
  EXPECT_EQ(response.connection().service(), "ftp");
  EXPECT_EQ(echo.at("password").string_value(), "******");
  EXPECT_EQ(echo.at("compression").string_value(), "tar_gz");
  EXPECT_EQ(echo.at("append_file_option").string_value(), "upsert_file_with_primary_keys");
  EXPECT_EQ(echo.at("json_delivery_mode").string_value(), "Unpacked");
  EXPECT_EQ(echo.at("port").number_value(), 2121);
  EXPECT_EQ(echo.at("is_secure").bool_value(), true);
  EXPECT_TRUE(response.ready());

  HttpReply rest = emulator_->Rest("GET", "/v1/connections/" + response.connection().id());
  ASSERT_EQ(rest.status, 200);
  ExpectSameConnection(response.connection(), rest.json["data"]);
  EXPECT_EQ(gateway_->log().find("ftp-secret-value-2"), std::string::npos);
}

TEST_F(GatewayE2ETest, InvalidCreateIsRejectedBeforeAnythingIsSent) {
  v1::CreateFtpConnectionRequest request;
  request.set_group_id("quiet_harbor");
  request.mutable_config()->set_schema("ftp_missing_host");
  request.mutable_config()->set_table("t");
  request.mutable_config()->set_user("u");
  request.mutable_config()->set_password("pw-not-echoed-3");
  v1::CreateFtpConnectionResponse response;
  grpc::Status s =
      gateway_->connections()->CreateFtpConnection(ContextWithDeadline().get(), request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  ErrorDetails d = DetailsOf(s);
  ASSERT_TRUE(d.has_bad_request);
  EXPECT_EQ(d.bad_request.field_violations(0).field(), "config.host");
  EXPECT_EQ(s.error_message().find("pw-not-echoed-3"), std::string::npos);
  EXPECT_TRUE(emulator_->Requests().empty());
}

TEST_F(GatewayE2ETest, UpstreamInvalidInputIsInvalidArgument) {  // Field report B12.
  v1::CreateConnectionRequest request;
  request.set_group_id("quiet_harbor");
  request.set_service("sftp");
  (*request.mutable_config()->mutable_fields())["host"].set_string_value("sftp.example.test");
  v1::CreateConnectionResponse response;
  grpc::Status s =
      gateway_->connections()->CreateConnection(ContextWithDeadline().get(), request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("schema"), std::string::npos) << s.error_message();
}

TEST_F(GatewayE2ETest, SyncConnectionTriggersASync) {
  v1::SyncConnectionRequest request;
  request.set_connection_id("decent_dropsy");
  v1::SyncConnectionResponse response;
  grpc::Status s =
      gateway_->connections()->SyncConnection(ContextWithDeadline().get(), request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_NE(response.message().find("decent_dropsy"), std::string::npos);
  EXPECT_TRUE(response.has_triggered_at());
  // The connection is read first (paused / setup checks, baseline), then triggered.
  std::vector<json> requests = emulator_->Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0]["method"], "GET");
  EXPECT_EQ(requests[0]["path"], "/v1/connections/decent_dropsy");
  EXPECT_EQ(requests[1]["method"], "POST");
  EXPECT_EQ(requests[1]["path"], "/v1/connections/decent_dropsy/sync");
  EXPECT_EQ(json::parse(requests[1]["body"].get<std::string>())["force"], false);
  HttpReply rest = emulator_->Rest("GET", "/v1/connections/decent_dropsy");
  EXPECT_EQ(rest.json["data"]["status"]["sync_state"], "syncing");
}

TEST_F(GatewayE2ETest, NotFoundCarriesFivetranCode) {  // Field report B9.
  v1::GetConnectionRequest request;
  request.set_connection_id("no_such_connection");
  v1::GetConnectionResponse response;
  grpc::Status s =
      gateway_->connections()->GetConnection(ContextWithDeadline().get(), request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(s.error_message().find("no_such_connection"), std::string::npos);
  ErrorDetails d = DetailsOf(s);
  EXPECT_EQ(d.error_info_count, 1);
  EXPECT_EQ(d.error_info.reason(), "FIVETRAN_NOT_FOUND");
  EXPECT_EQ(d.error_info.domain(), "fivetran-gateway");
  EXPECT_EQ(d.error_info.metadata().at("fivetran_code"), "NotFound_Connection");
  EXPECT_EQ(d.error_info.metadata().at("http_status"), "404");

  v1::ListGroupConnectionsRequest list;
  list.set_group_id("no_such_group");
  v1::ListGroupConnectionsResponse listed;
  s = gateway_->groups()->ListGroupConnections(ContextWithDeadline().get(), list, &listed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(GatewayE2ETest, PathChangingIdsNeverReachUpstream) {
  for (const char* id : {"../users", "..", "a/b", "x?y=1", "x#y", "%2e%2e", "a b", ""}) {
    v1::GetConnectionRequest request;
    request.set_connection_id(id);
    v1::GetConnectionResponse response;
    grpc::Status s =
        gateway_->connections()->GetConnection(ContextWithDeadline().get(), request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << id;
    v1::SyncConnectionRequest sync;
    sync.set_connection_id(id);
    v1::SyncConnectionResponse synced;
    s = gateway_->connections()->SyncConnection(ContextWithDeadline().get(), sync, &synced);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << id;
  }
  v1::ListGroupConnectionsRequest list;
  list.set_group_id("../users");
  v1::ListGroupConnectionsResponse listed;
  EXPECT_EQ(gateway_->groups()
                ->ListGroupConnections(ContextWithDeadline().get(), list, &listed)
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(emulator_->Requests().empty());
}

TEST_F(GatewayE2ETest, PageSizeRules) {
  v1::ListGroupsRequest request;
  request.set_page_size(-1);
  v1::ListGroupsResponse response;
  EXPECT_EQ(
      gateway_->groups()->ListGroups(ContextWithDeadline().get(), request, &response).error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);
  request.set_page_size(5000);
  ASSERT_TRUE(gateway_->groups()->ListGroups(ContextWithDeadline().get(), request, &response).ok());
  request.set_page_size(0);
  ASSERT_TRUE(gateway_->groups()->ListGroups(ContextWithDeadline().get(), request, &response).ok());
  std::vector<json> requests = emulator_->Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0]["query"], "limit=1000");
  EXPECT_EQ(requests[1]["query"], "limit=100");
}

TEST_F(GatewayE2ETest, UpstreamFaultsMapToCodesWithDetails) {
  struct Case {
    json fault;
    grpc::StatusCode code;
    const char* reason;
  } cases[] = {
      {{{"kind", "status"},
        {"status", 403},
        {"code", "Forbidden"},
        {"message", "Access denied. Required permission: ACCOUNT_READ"}},
       grpc::StatusCode::PERMISSION_DENIED,
       "FIVETRAN_PERMISSION_DENIED"},
      {{{"kind", "status"},
        {"status", 429},
        {"code", "TooManyRequests"},
        {"message", "Max 20000 api calls"},
        {"retry_after", "1800"}},
       grpc::StatusCode::RESOURCE_EXHAUSTED,
       "FIVETRAN_RATE_LIMITED"},
      // GETs are retried on these: every attempt fails (count -1).
      {{{"kind", "html"}, {"status", 502}, {"count", -1}},
       grpc::StatusCode::UNAVAILABLE,
       "FIVETRAN_UNAVAILABLE"},
      {{{"kind", "status"}, {"status", 503}, {"count", -1}},
       grpc::StatusCode::UNAVAILABLE,
       "FIVETRAN_UNAVAILABLE"},
      {{{"kind", "status"}, {"status", 500}, {"code", "InternalError"}, {"count", -1}},
       grpc::StatusCode::INTERNAL,
       "FIVETRAN_SERVER_ERROR"},
      // Every attempt dropped (libcurl itself retries once on a reused connection).
      {{{"kind", "drop"}, {"count", -1}}, grpc::StatusCode::UNAVAILABLE, "FIVETRAN_UNAVAILABLE"},
      // A body cut short is a transport failure: retryable, so UNAVAILABLE.
      {{{"kind", "truncate"}, {"count", -1}},
       grpc::StatusCode::UNAVAILABLE,
       "FIVETRAN_UNAVAILABLE"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.fault.dump());
    json fault = c.fault;
    fault["path_prefix"] = "/v1/users";
    if (!fault.contains("count")) fault["count"] = 1;
    emulator_->AddFault(fault);
    v1::ListUsersRequest request;
    v1::ListUsersResponse response;
    grpc::Status s = gateway_->users()->ListUsers(ContextWithDeadline().get(), request, &response);
    EXPECT_EQ(s.error_code(), c.code) << s.error_message();
    ErrorDetails d = DetailsOf(s);
    EXPECT_EQ(d.error_info_count, 1);
    EXPECT_EQ(d.error_info.reason(), c.reason);
    EXPECT_EQ(s.error_message().find("<html"), std::string::npos) << s.error_message();
    if (c.code == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      ASSERT_TRUE(d.has_retry_info);
      EXPECT_EQ(d.retry_info.retry_delay().seconds(), 1800);
      EXPECT_EQ(d.error_info.metadata().at("fivetran_code"), "TooManyRequests");
      // The 429 stopped these credentials for 30 minutes: go on with a fresh gateway.
      RestartGateway();
    }
    if (c.code == grpc::StatusCode::PERMISSION_DENIED) {
      EXPECT_NE(s.error_message().find("ACCOUNT_READ"), std::string::npos);
    }
    emulator_->ClearFaults();
  }
}

TEST_F(GatewayE2ETest, CallerDeadlineBoundsTheUpstreamCall) {
  emulator_->AddFault(
      {{"kind", "latency"}, {"latency_ms", 3000}, {"path_prefix", "/v1/groups"}, {"count", 1}});
  v1::ListGroupsRequest request;
  v1::ListGroupsResponse response;
  auto start = std::chrono::steady_clock::now();
  grpc::Status s =
      gateway_->groups()->ListGroups(ContextWithDeadline(0.4).get(), request, &response);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_LT(took, 2.0);
}

TEST_F(GatewayE2ETest, WrongUpstreamCredentialsAreUnauthenticated) {  // Field report B10.
  Gateway wrong(emulator_->base_url(), "wrong_key_77", "wrong_secret_88");
  v1::ListGroupsRequest request;
  v1::ListGroupsResponse response;
  grpc::Status s = wrong.groups()->ListGroups(ContextWithDeadline().get(), request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(DetailsOf(s).error_info.reason(), "FIVETRAN_AUTH_FAILED");
  EXPECT_EQ(s.error_message().find("wrong_key_77"), std::string::npos);
  EXPECT_EQ(s.error_message().find("wrong_secret_88"), std::string::npos);
  EXPECT_EQ(wrong.log().find("wrong_secret_88"), std::string::npos);
}

TEST_F(GatewayE2ETest, UnreachableUpstreamIsUnavailable) {
  // A port that was just free: nothing listens there.
  Gateway dead("http://127.0.0.1:1", "k", "s");
  v1::GetConnectionRequest request;
  request.set_connection_id("decent_dropsy");
  v1::GetConnectionResponse response;
  grpc::Status s =
      dead.connections()->GetConnection(ContextWithDeadline().get(), request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(DetailsOf(s).error_info.metadata().at("outcome"), "not_sent");
}

// Waits until the gateway has logged the RPC with `request_id`; returns that
// line ("" on timeout).
std::string LogLineOf(const Gateway& gateway, const std::string& request_id, double timeout_s = 5) {
  const std::string needle = "request_id=" + request_id;
  auto end = std::chrono::steady_clock::now() +
             std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  while (true) {
    std::string log = gateway.log();
    size_t at = log.find(needle);
    if (at != std::string::npos) {
      size_t line_start = log.rfind('\n', at) + 1;  // npos + 1 == 0.
      return log.substr(line_start, log.find('\n', at) - line_start);
    }
    if (std::chrono::steady_clock::now() > end) return "";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

TEST_F(GatewayE2ETest, OneLogLinePerRpcWithoutCredentials) {
  v1::GetConnectionRequest request;
  request.set_connection_id("decent_dropsy");
  v1::GetConnectionResponse response;
  grpc::ClientContext context;
  context.AddMetadata("x-request-id", "e2e-log-check-42");
  grpc::Status s = gateway_->connections()->GetConnection(&context, request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  std::string line = LogLineOf(*gateway_, "e2e-log-check-42");
  ASSERT_FALSE(line.empty()) << gateway_->log();
  std::string log = gateway_->log();
  EXPECT_NE(line.find("method=GetConnection"), std::string::npos) << line;
  EXPECT_NE(line.find("code=OK"), std::string::npos) << line;
  EXPECT_NE(line.find("http_status=200"), std::string::npos) << line;
  EXPECT_NE(line.find("latency_ms="), std::string::npos) << line;
  EXPECT_EQ(log.find(Emulator::kApiSecret), std::string::npos);
  EXPECT_EQ(log.find(Emulator::kApiKey), std::string::npos);
}

TEST_F(GatewayE2ETest, HealthCheckServes) {
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status s = HealthCheck(gateway_->channel(), &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

// The emulator's log entries for `path` (unanswered ones have status 0).
std::vector<json> RequestsFor(const Emulator& emulator, const std::string& path) {
  std::vector<json> out;
  for (const json& r : emulator.Requests()) {
    if (r["path"] == path) out.push_back(r);
  }
  return out;
}

// Waits until the emulator has received a request for `path` that it has not
// answered yet; returns it (null on timeout).
json WaitForUnansweredRequest(const Emulator& emulator, const std::string& path,
                              double timeout_s = 10) {
  auto end = std::chrono::steady_clock::now() +
             std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  while (std::chrono::steady_clock::now() < end) {
    for (const json& r : RequestsFor(emulator, path)) {
      if (r["status"] == 0) return r;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return nullptr;
}

TEST_F(GatewayE2ETest, CancelledCallAbortsTheUpstreamTransfer) {
  emulator_->AddFault(
      {{"kind", "latency"}, {"latency_ms", 5000}, {"path_prefix", "/v1/users"}, {"count", 1}});
  grpc::ClientContext context;
  context.AddMetadata("x-request-id", "e2e-cancel-7");
  v1::ListUsersRequest request;
  v1::ListUsersResponse response;
  grpc::Status status;
  auto start = std::chrono::steady_clock::now();
  std::thread call([&] { status = gateway_->users()->ListUsers(&context, request, &response); });
  // Cancel only once the transfer is in flight: the emulator has the request
  // and has not answered it (the latency fault holds the answer for 5 s).
  json in_flight = WaitForUnansweredRequest(*emulator_, "/v1/users");
  if (in_flight.is_null()) context.TryCancel();  // Do not leave the call behind.
  ASSERT_FALSE(in_flight.is_null()) << "the gateway never sent GET /v1/users";
  EXPECT_EQ(in_flight["method"], "GET");
  context.TryCancel();
  call.join();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED);
  // The gateway ends the RPC (and logs it) as soon as the transfer is aborted,
  // not when the slow upstream answer would have come.
  std::string line = LogLineOf(*gateway_, "e2e-cancel-7");
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_NE(line.find("method=ListUsers"), std::string::npos) << line;
  EXPECT_NE(line.find("code=CANCELLED http_status=0 latency_ms="), std::string::npos) << line;
  EXPECT_LT(took, 3.0);
  // Still unanswered: the call ended before the upstream answer, and it was
  // the only request (a cancelled call is not retried).
  std::vector<json> users = RequestsFor(*emulator_, "/v1/users");
  ASSERT_EQ(users.size(), 1u);
  EXPECT_EQ(users[0]["seq"], in_flight["seq"]);
  EXPECT_EQ(users[0]["status"], 0) << "the call ended only after the upstream answered";
}

TEST_F(GatewayE2ETest, PostsAreNeverReplayedOnADroppedConnection) {  // Field report B23.
  // Warm a keep-alive connection, then drop the next POST without an answer.
  v1::ListGroupsRequest warm;
  v1::ListGroupsResponse warmed;
  ASSERT_TRUE(gateway_->groups()->ListGroups(ContextWithDeadline().get(), warm, &warmed).ok());
  emulator_->AddFault(
      {{"kind", "drop"}, {"method", "POST"}, {"path_prefix", "/v1/connections"}, {"count", 1}});
  v1::CreateConnectionRequest request;
  request.set_group_id("quiet_harbor");
  request.set_service("postgres");
  (*request.mutable_config()->mutable_fields())["schema"].set_string_value("pg_e2e_dropped");
  v1::CreateConnectionResponse response;
  grpc::Status s =
      gateway_->connections()->CreateConnection(ContextWithDeadline().get(), request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  EXPECT_EQ(DetailsOf(s).error_info.metadata().at("outcome"), "unknown");
  int posts = 0;
  for (const json& r : emulator_->Requests()) posts += r["method"] == "POST";
  EXPECT_EQ(posts, 1);
}

TEST_F(GatewayE2ETest, SecretsEchoedByTheUpstreamNeverReachTheCaller) {
  const std::string password = "echoed-secret-pw-5521";
  emulator_->AddFault({{"kind", "status"},
                       {"status", 400},
                       {"code", password},
                       {"message", "Invalid password '" + password + "' for host"},
                       {"method", "POST"},
                       {"path_prefix", "/v1/connections"},
                       {"count", 1}});
  v1::CreateFtpConnectionRequest request;
  request.set_group_id("quiet_harbor");
  v1::FtpConfig* config = request.mutable_config();
  config->set_schema("ftp_e2e_echo");
  config->set_table("t");
  config->set_host("ftp.example.test");
  config->set_user("loader");
  config->set_password(password);
  v1::CreateFtpConnectionResponse response;
  grpc::Status s =
      gateway_->connections()->CreateFtpConnection(ContextWithDeadline().get(), request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().find(password), std::string::npos) << s.error_message();
  EXPECT_EQ(s.error_details().find(password), std::string::npos);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(gateway_->log().find(password), std::string::npos);
}

TEST_F(GatewayE2ETest, SecretsNeverAppearWhateverTheUpstreamFault) {
  const std::string password = "ftp-pw-9c7e3a1b";
  const std::string pgp_key = "pgp-key-5d2f8e6c";
  const std::string pass_phrase = "pgp-phrase-1a4b7c";
  const std::string config_secret = "client-secret-3e9d";
  // Each fault; {A} and {B} become secrets of the request it answers, as if
  // Fivetran echoed them.
  const std::vector<json> faults = {
      {{"kind", "status"},
       {"status", 400},
       {"code", "InvalidInput"},
       {"message", "bad password {A} and key {B}"}},
      {{"kind", "status"}, {"status", 500}, {"code", "{A}"}, {"message", "{B}"}},
      {{"kind", "html"}, {"status", 502}},
      {{"kind", "drop"}},
      {{"kind", "truncate"}},
      {{"kind", "latency"}, {"latency_ms", 3000}},
      {},  // No fault: the normal answer, secrets masked.
      // Last: a 429 stops these credentials until its Retry-After.
      {{"kind", "status"},
       {"status", 429},
       {"code", "TooManyRequests"},
       {"message", "{A}"},
       {"retry_after", "3600"}},
  };
  auto inject = [&](json fault, const std::string& a, const std::string& b) {
    if (fault.empty()) return;
    std::string text = fault.dump();
    for (auto [from, to] : {std::pair{std::string("{A}"), a}, std::pair{std::string("{B}"), b}}) {
      for (size_t at; (at = text.find(from)) != std::string::npos;) text.replace(at, 3, to);
    }
    fault = json::parse(text);
    fault["method"] = "POST";
    fault["path_prefix"] = "/v1/connections";
    fault["count"] = 1;
    emulator_->AddFault(fault);
  };
  int n = 0;
  for (const json& fault : faults) {
    SCOPED_TRACE(fault.dump());
    inject(fault, password, pgp_key);
    v1::CreateFtpConnectionRequest ftp;
    ftp.set_group_id("quiet_harbor");
    v1::FtpConfig* c = ftp.mutable_config();
    c->set_schema("ftp_secret_" + std::to_string(n));
    c->set_table("t");
    c->set_host("ftp.example.test");
    c->set_user("loader");
    c->set_password(password);
    c->set_use_pgp_encryption_options(true);
    c->set_pgp_secret_key(pgp_key);
    c->set_pgp_pass_phrase(pass_phrase);
    v1::CreateFtpConnectionResponse ftp_out;
    grpc::Status s =
        gateway_->connections()->CreateFtpConnection(ContextWithDeadline(1).get(), ftp, &ftp_out);
    std::string seen = s.error_message() + s.error_details() + ftp_out.SerializeAsString();

    inject(fault, config_secret, pass_phrase);
    v1::CreateConnectionRequest generic;
    generic.set_group_id("quiet_harbor");
    generic.set_service("salesforce");
    auto& fields = *generic.mutable_config()->mutable_fields();
    fields["schema"].set_string_value("sf_secret_" + std::to_string(n));
    fields["client_secret"].set_string_value(config_secret);
    (*generic.mutable_auth()->mutable_fields())["refresh_token"].set_string_value(pass_phrase);
    v1::CreateConnectionResponse generic_out;
    s = gateway_->connections()->CreateConnection(ContextWithDeadline(1).get(), generic,
                                                  &generic_out);
    seen += s.error_message() + s.error_details() + generic_out.SerializeAsString();
    for (const std::string& secret : {password, pgp_key, pass_phrase, config_secret}) {
      EXPECT_EQ(seen.find(secret), std::string::npos) << secret;
    }
    emulator_->ClearFaults();
    ++n;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::string log = gateway_->log();
  for (const std::string& secret : {password, pgp_key, pass_phrase, config_secret}) {
    EXPECT_EQ(log.find(secret), std::string::npos) << secret;
  }
  RestartGateway();  // The 429 stopped these credentials for an hour.
}

TEST_F(GatewayE2ETest, BadConfigAndFiltersAreRejectedBeforeSending) {
  v1::CreateConnectionRequest request;
  request.set_group_id("quiet_harbor");
  request.set_service("postgres");
  auto& fields = *request.mutable_config()->mutable_fields();
  fields["schema"].set_string_value("pg_nan");
  fields["port"].set_number_value(std::nan(""));
  v1::CreateConnectionResponse response;
  grpc::Status s =
      gateway_->connections()->CreateConnection(ContextWithDeadline().get(), request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_TRUE(DetailsOf(s).has_bad_request);
  EXPECT_EQ(DetailsOf(s).bad_request.field_violations(0).field(), "config.port");

  request.set_group_id("../groups");
  fields["port"].set_number_value(5432);
  s = gateway_->connections()->CreateConnection(ContextWithDeadline().get(), request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  v1::ListGroupConnectionsRequest list;
  list.set_group_id("amber_fjord");
  list.set_schema(std::string(5000, 's'));
  v1::ListGroupConnectionsResponse listed;
  s = gateway_->groups()->ListGroupConnections(ContextWithDeadline().get(), list, &listed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(emulator_->Requests().empty());
}

TEST_F(GatewayE2ETest, SlowCreateEndsWithTheGatewaysDeadlineErrorAndOutcomeUnknown) {
  emulator_->AddFault({{"kind", "latency"},
                       {"latency_ms", 3000},
                       {"method", "POST"},
                       {"path_prefix", "/v1/connections"},
                       {"count", 1}});
  v1::CreateConnectionRequest request;
  request.set_group_id("quiet_harbor");
  request.set_service("postgres");
  (*request.mutable_config()->mutable_fields())["schema"].set_string_value("pg_e2e_slow");
  v1::CreateConnectionResponse response;
  grpc::Status s =
      gateway_->connections()->CreateConnection(ContextWithDeadline(1).get(), request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  // Details prove the gateway, not the client library, ended the call.
  EXPECT_EQ(DetailsOf(s).error_info.metadata().at("outcome"), "unknown");
}

// Answers are asked for gzip-compressed (and inflated) as from Fivetran; by
// default not from a loopback upstream, where compressing only costs CPU.
TEST(GatewayCompressionTest, GzipUnlessTheUpstreamIsOnLoopback) {
  Emulator emulator;
  for (const char* flag : {"--upstream_compression=gzip", "--upstream_compression=auto",
                           "--upstream_compression=none"}) {
    SCOPED_TRACE(flag);
    Gateway gateway(emulator.base_url(), Emulator::kApiKey, Emulator::kApiSecret, {flag});
    emulator.ClearRequests();
    v1::ListGroupConnectionsRequest request;
    request.set_group_id("amber_fjord");
    request.set_page_size(100);
    v1::ListGroupConnectionsResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    grpc::Status s = gateway.groups()->ListGroupConnections(&context, request, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(response.connections_size(), 100);
    const std::vector<json> requests = emulator.Requests();
    ASSERT_EQ(requests.size(), 1u);
    const json& headers = requests[0]["headers"];
    if (std::string(flag) == "--upstream_compression=gzip") {
      EXPECT_EQ(headers.value("accept-encoding", ""), "gzip") << headers.dump();
    } else {
      EXPECT_FALSE(headers.contains("accept-encoding")) << headers.dump();
    }
  }
  std::string out = TempPath("compression.log");
  Process bad(
      {Runfile("server/fivetran_gateway"), "--listen=127.0.0.1:0", "--upstream_compression=br"},
      {{"FIVETRAN_API_KEY", "k"}, {"FIVETRAN_API_SECRET", "s"}}, out);
  EXPECT_EQ(bad.WaitExit(20), 2);
  EXPECT_NE(ReadFile(out).find("--upstream_compression must be auto, gzip or none"),
            std::string::npos)
      << ReadFile(out);
}

TEST(GatewayProcessTest, UnknownLogLevelIsRefused) {
  std::string out = TempPath("loglevel.log");
  Process p({Runfile("server/fivetran_gateway"), "--listen=127.0.0.1:0", "--log_level=bogus"},
            {{"FIVETRAN_API_KEY", "k"}, {"FIVETRAN_API_SECRET", "s"}}, out);
  EXPECT_EQ(p.WaitExit(20), 2);
  EXPECT_NE(ReadFile(out).find("--log_level"), std::string::npos);
}

TEST(GatewayProcessTest, MissingCredentialsIsAClearStartupError) {
  std::string out = TempPath("nocreds.log");
  Process p({Runfile("server/fivetran_gateway"), "--listen=127.0.0.1:0"},
            {{"FIVETRAN_API_KEY", ""}, {"FIVETRAN_API_SECRET", ""}}, out);
  EXPECT_EQ(p.WaitExit(20), 2);
  EXPECT_NE(ReadFile(out).find("FIVETRAN_API_KEY"), std::string::npos) << ReadFile(out);
}

TEST(GatewayProcessTest, SigtermDrainsAndExitsZero) {
  Emulator emulator;
  Gateway gateway(emulator.base_url(), Emulator::kApiKey, Emulator::kApiSecret);
  emulator.AddFault(
      {{"kind", "latency"}, {"latency_ms", 500}, {"path_prefix", "/v1/groups"}, {"count", 1}});
  // An in-flight call still completes during the grace period.
  v1::ListGroupsResponse response;
  grpc::Status status;
  std::thread call([&] {
    v1::ListGroupsRequest request;
    status = gateway.groups()->ListGroups(ContextWithDeadline(10).get(), request, &response);
  });
  // SIGTERM once the call is in flight upstream.
  json in_flight = WaitForUnansweredRequest(emulator, "/v1/groups");
  EXPECT_FALSE(in_flight.is_null()) << "the gateway never sent GET /v1/groups";
  EXPECT_EQ(gateway.process().StopWith(SIGTERM, 10), 0);
  call.join();
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_GT(response.groups_size(), 0);
}

}  // namespace
}  // namespace fivetran_gateway::testing
