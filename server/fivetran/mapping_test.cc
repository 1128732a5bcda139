#include "server/fivetran/mapping.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/stubs/common.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "server/fivetran/testdata_files.h"

namespace fivetran_gateway::fivetran {
namespace {

using ::google::protobuf::Struct;
using ::google::protobuf::Timestamp;
using ::google::protobuf::Value;
using ::google::protobuf::util::TimeUtil;
using ::nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// ---------------------------------------------------------------------------------------------
// Helpers.

using testing::ReadTestdata;

json Fixture(const std::string& name) {
  auto parsed = ParseJsonBody(ReadTestdata(name), 200, "application/json");
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return parsed.ok() ? *parsed : json();
}

// Envelope -> data -> Connection, asserting every step succeeds.
v1::Connection ConnectionFromBody(const std::string& body) {
  auto env = ParseJsonBody(body, 200, "application/json");
  EXPECT_TRUE(env.ok()) << env.status();
  if (!env.ok()) return {};
  auto data = DataObject(*env);
  EXPECT_TRUE(data.ok()) << data.status();
  if (!data.ok()) return {};
  auto c = ConnectionFromJson(*data);
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *c : v1::Connection();
}

Timestamp Ts(const std::string& text) {
  Timestamp ts;
  EXPECT_TRUE(TimeUtil::FromString(text, &ts)) << text;
  return ts;
}

// Connection with the required id and one extra member.
json WithId(json extra) {
  json j = {{"id", "con_t"}};
  for (auto& [k, v] : extra.items()) j[k] = v;
  return j;
}

// ---------------------------------------------------------------------------------------------
// B1: cursor pagination.

TEST(PageTest, B1FollowsNextCursorUntilNull) {
  const std::vector<std::string> bodies = {
      R"({"code":"Success","data":{"items":[{"id":"con_1"},{"id":"con_2"}],"next_cursor":"cur_X"}})",
      R"({"code":"Success","data":{"items":[{"id":"con_3"}],"next_cursor":null}})",
  };
  std::vector<std::string> ids;
  std::vector<std::string> cursors;
  for (const auto& body : bodies) {
    auto env = ParseJsonBody(body, 200, "application/json");
    ASSERT_TRUE(env.ok()) << env.status();
    auto page = ParsePage(*env);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const auto& item : page->items) {
      auto c = ConnectionFromJson(item);
      ASSERT_TRUE(c.ok()) << c.status();
      ids.push_back(c->id());
    }
    cursors.push_back(page->next_cursor);
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"con_1", "con_2", "con_3"}));
  EXPECT_EQ(cursors, (std::vector<std::string>{"cur_X", ""}));
}

TEST(PageTest, B1CursorAbsentEmptyOrCamelCase) {
  struct Case {
    std::string data;
    std::string cursor;
    size_t items;
  };
  const std::vector<Case> cases = {
      {R"({"items":[]})", "", 0},
      {R"({"items":[{"id":"a"}],"next_cursor":""})", "", 1},
      {R"({"items":[{"id":"a"}],"next_cursor":null})", "", 1},
      {R"({"items":[{"id":"a"},{"id":"b"}],"nextCursor":"eyJza2lwIjozfQ"})", "eyJza2lwIjozfQ", 2},
      {R"({"items":[],"next_cursor":"snake","nextCursor":"camel"})", "snake", 0},
      {R"({"items":[],"next_cursor":null,"nextCursor":"camel"})", "camel", 0},
  };
  for (const auto& c : cases) {
    json env = {{"code", "Success"}, {"data", json::parse(c.data)}};
    auto page = ParsePage(env);
    ASSERT_TRUE(page.ok()) << c.data << ": " << page.status();
    EXPECT_EQ(page->next_cursor, c.cursor) << c.data;
    EXPECT_EQ(page->items.size(), c.items) << c.data;
  }
}

TEST(PageTest, B1MalformedPagesAreInternal) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"code":"Success","data":{"items":{"id":"a"}}})",
       "response.data.items: expected an array"},
      // A page without items must not read as "the end of the list".
      {R"({"code":"Success","data":{"items":null}})", "response.data.items: expected an array"},
      {R"({"code":"Success","data":{}})", "response.data.items: expected an array"},
      {R"({"code":"Success","data":{"items":["a"]}})",
       "response.data.items[0]: expected an object"},
      {R"({"code":"Success","data":{"items":[],"next_cursor":7}})",
       "response.data.next_cursor: expected a string, got integer 7"},
      {R"({"code":"Success","data":[{"id":"a"}]})", "response.data: expected an object, got array"},
      {R"({"code":"Success"})", "response.data is missing"},
  };
  for (const auto& [body, message] : cases) {
    auto page = ParsePage(json::parse(body));
    ASSERT_FALSE(page.ok()) << body;
    EXPECT_EQ(page.status().code(), absl::StatusCode::kInternal) << body;
    EXPECT_THAT(std::string(page.status().message()), StartsWith(message)) << body;
  }
  EXPECT_EQ(ParsePage(json::array()).status().code(), absl::StatusCode::kInternal);
}

// ---------------------------------------------------------------------------------------------
// B4: nulls in list items.

TEST(ConnectionTest, B4NullNumericAndBooleanFieldsAreUnset) {
  auto env = ParseJsonBody(
      R"({"code":"Success","data":{"items":[
        {"id":"con_1","service":"postgres","schema":"pg_main","sync_frequency":360,"paused":false,
         "status":{"setup_state":"connected","sync_state":"scheduled"}},
        {"id":"con_2","service":"s3","schema":"s3_new","sync_frequency":null,"paused":null,
         "succeeded_at":null,"failed_at":null,"pause_after_trial":null,"data_delay_threshold":null,
         "service_version":null,"status":{"setup_state":"incomplete","sync_state":"paused"}}],
        "next_cursor":null}})",
      200, "application/json");
  ASSERT_TRUE(env.ok()) << env.status();
  auto page = ParsePage(*env);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_EQ(page->next_cursor, "");

  auto c1 = ConnectionFromJson(page->items[0]);
  ASSERT_TRUE(c1.ok()) << c1.status();
  EXPECT_EQ(c1->id(), "con_1");
  ASSERT_TRUE(c1->has_sync_frequency());
  EXPECT_EQ(c1->sync_frequency(), 360);
  ASSERT_TRUE(c1->has_paused());
  EXPECT_FALSE(c1->paused());
  EXPECT_EQ(c1->status().setup_state(), v1::SETUP_STATE_CONNECTED);
  EXPECT_EQ(c1->status().sync_state(), v1::SYNC_STATE_SCHEDULED);

  auto c2 = ConnectionFromJson(page->items[1]);
  ASSERT_TRUE(c2.ok()) << c2.status();
  EXPECT_EQ(c2->id(), "con_2");
  EXPECT_EQ(c2->service(), "s3");
  EXPECT_EQ(c2->schema(), "s3_new");
  EXPECT_FALSE(c2->has_sync_frequency());
  EXPECT_FALSE(c2->has_paused());
  EXPECT_FALSE(c2->has_pause_after_trial());
  EXPECT_FALSE(c2->has_data_delay_threshold());
  EXPECT_FALSE(c2->has_service_version());
  EXPECT_FALSE(c2->has_succeeded_at());
  EXPECT_FALSE(c2->has_failed_at());
  EXPECT_FALSE(c2->has_config());
  EXPECT_EQ(c2->status().setup_state(), v1::SETUP_STATE_INCOMPLETE);
  EXPECT_EQ(c2->status().setup_state_raw(), "incomplete");
  EXPECT_EQ(c2->status().sync_state(), v1::SYNC_STATE_PAUSED);
  EXPECT_EQ(c2->status().update_state(), v1::UPDATE_STATE_UNSPECIFIED);
  EXPECT_EQ(c2->status().update_state_raw(), "");
}

TEST(ConnectionTest, NullMessagesAndArraysAreAbsent) {
  auto c = ConnectionFromJson(json::parse(R"({"id":"con_n","status":null,"setup_tests":null,
      "config":null,"connect_card":null,"connect_card_config":null,
      "destination_configuration":null,"source_sync_details":null,"schedule_type":null,
      "connected_by":null,"daily_sync_time":null})"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->has_status());
  EXPECT_EQ(c->setup_tests_size(), 0);
  EXPECT_FALSE(c->has_config());
  EXPECT_FALSE(c->has_connect_card());
  EXPECT_FALSE(c->has_connect_card_config());
  EXPECT_FALSE(c->has_destination_configuration());
  EXPECT_FALSE(c->has_source_sync_details());
  EXPECT_FALSE(c->has_connected_by());
  EXPECT_FALSE(c->has_daily_sync_time());
  EXPECT_EQ(c->schedule_type(), v1::SCHEDULE_TYPE_UNSPECIFIED);
  EXPECT_EQ(c->schedule_type_raw(), "");
}

// ---------------------------------------------------------------------------------------------
// B5: unknown service and enum values.

TEST(ConnectionTest, B5UnknownServiceAndEnumsKeepRaw) {
  v1::Connection c = ConnectionFromBody(
      R"({"code":"Success","data":{"id":"con_7","service":"brand_new_src","schema":"bn",
          "schedule_type":"cron_like_future_value","data_delay_sensitivity":"EXTREME",
          "networking_method":"CarrierPigeon","destination_schema_names":"MIXED_NAMING",
          "status":{"setup_state":"half_done","sync_state":"future_state",
                    "update_state":"on_schedule"},
          "setup_tests":[{"title":"Quantum check","status":"MAYBE"}]}})");
  EXPECT_EQ(c.id(), "con_7");
  EXPECT_EQ(c.service(), "brand_new_src");
  EXPECT_EQ(c.schema(), "bn");
  EXPECT_EQ(c.schedule_type(), v1::SCHEDULE_TYPE_UNSPECIFIED);
  EXPECT_EQ(c.schedule_type_raw(), "cron_like_future_value");
  EXPECT_EQ(c.data_delay_sensitivity(), v1::DATA_DELAY_SENSITIVITY_UNSPECIFIED);
  EXPECT_EQ(c.data_delay_sensitivity_raw(), "EXTREME");
  EXPECT_EQ(c.networking_method(), v1::NETWORKING_METHOD_UNSPECIFIED);
  EXPECT_EQ(c.networking_method_raw(), "CarrierPigeon");
  EXPECT_EQ(c.destination_schema_names(), v1::DESTINATION_SCHEMA_NAMES_UNSPECIFIED);
  EXPECT_EQ(c.destination_schema_names_raw(), "MIXED_NAMING");
  EXPECT_EQ(c.status().setup_state(), v1::SETUP_STATE_UNSPECIFIED);
  EXPECT_EQ(c.status().setup_state_raw(), "half_done");
  EXPECT_EQ(c.status().sync_state(), v1::SYNC_STATE_UNSPECIFIED);
  EXPECT_EQ(c.status().sync_state_raw(), "future_state");
  EXPECT_EQ(c.status().update_state(), v1::UPDATE_STATE_ON_SCHEDULE);
  EXPECT_EQ(c.status().update_state_raw(), "on_schedule");
  ASSERT_EQ(c.setup_tests_size(), 1);
  EXPECT_EQ(c.setup_tests(0).status(), v1::SETUP_TEST_STATUS_UNSPECIFIED);
  EXPECT_EQ(c.setup_tests(0).status_raw(), "MAYBE");
}

TEST(ConnectionTest, EnumMatchingIsExact) {
  auto c = ConnectionFromJson(WithId({{"schedule_type", "Manual"}, {"networking_method", ""}}));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->schedule_type(), v1::SCHEDULE_TYPE_UNSPECIFIED);
  EXPECT_EQ(c->schedule_type_raw(), "Manual");
  EXPECT_EQ(c->networking_method(), v1::NETWORKING_METHOD_UNSPECIFIED);
  EXPECT_EQ(c->networking_method_raw(), "");
}

// ---------------------------------------------------------------------------------------------
// B6: config type drift is passed through.

TEST(ConnectionTest, B6ConfigValueTypesPassThrough) {
  v1::Connection created = ConnectionFromBody(
      R"({"code":"Success","data":{"id":"con_3","service":"postgres","config":{
          "host":"db.example.test","port":5432,"is_private_key_encrypted":false,"apps":[101],
          "password":"******","custom_tables":[{"name":"t1"}],"tunnel":{"hops":[]}}}})");
  v1::Connection later = ConnectionFromBody(
      R"({"code":"Success","data":{"id":"con_3","service":"postgres","config":{
          "host":"db.example.test","port":"5432","is_private_key_encrypted":"false",
          "apps":"101","custom_tables":{"name":"t1"}}}})");

  const auto& f1 = created.config().fields();
  EXPECT_EQ(f1.at("port").number_value(), 5432);
  EXPECT_EQ(f1.at("is_private_key_encrypted").kind_case(), Value::kBoolValue);
  EXPECT_EQ(f1.at("apps").list_value().values(0).number_value(), 101);
  EXPECT_EQ(f1.at("password").string_value(), "******");
  // An array where another response had an object passes through unchanged.
  EXPECT_EQ(f1.at("custom_tables").kind_case(), Value::kListValue);
  EXPECT_EQ(JsonFromStruct(created.config()), json::parse(R"({"host":"db.example.test","port":5432,
                "is_private_key_encrypted":false,"apps":[101],"password":"******",
                "custom_tables":[{"name":"t1"}],"tunnel":{"hops":[]}})"));

  const auto& f2 = later.config().fields();
  EXPECT_EQ(f2.at("port").string_value(), "5432");
  EXPECT_EQ(f2.at("is_private_key_encrypted").string_value(), "false");
  EXPECT_EQ(f2.at("apps").string_value(), "101");
  EXPECT_EQ(f2.at("custom_tables").kind_case(), Value::kStructValue);
  EXPECT_EQ(JsonFromStruct(later.config())["port"], json("5432"));
}

TEST(ConnectionTest, ConfigNotAnObjectIsInternalButSourceSyncDetailsIsIgnored) {
  auto bad = ConnectionFromJson(WithId({{"config", json::array({1, 2})}}));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(bad.status().message(), "connection.config: expected an object, got array");

  auto ok = ConnectionFromJson(WithId({{"source_sync_details", "not an object"}}));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_FALSE(ok->has_source_sync_details());
}

// ---------------------------------------------------------------------------------------------
// B10 / B2: error bodies.

TEST(FivetranErrorTest, B10AndB2ErrorBodies) {
  FivetranError forbidden = ParseFivetranError(
      R"({"code":"Forbidden","message":"Access denied. Required permission: ACCOUNT_READ"})");
  EXPECT_EQ(forbidden.code, "Forbidden");
  EXPECT_EQ(forbidden.message, "Access denied. Required permission: ACCOUNT_READ");

  FivetranError auth =
      ParseFivetranError(R"({"code":"AuthFailed","message":"Invalid credentials"})");
  EXPECT_EQ(auth.code, "AuthFailed");
  EXPECT_EQ(auth.message, "Invalid credentials");

  FivetranError quota = ParseFivetranError(
      R"({"code":"TooManyRequests","message":"Max 20000 api calls allowed in one-hour rolling time period"})");
  EXPECT_EQ(quota.code, "TooManyRequests");
  EXPECT_EQ(quota.message, "Max 20000 api calls allowed in one-hour rolling time period");

  FivetranError not_found = ParseFivetranError(
      R"({"code":"NotFound_Connection","message":"Connection with id 'no_such' does not exist."})");
  EXPECT_EQ(not_found.code, "NotFound_Connection");
}

TEST(FivetranErrorTest, UnusableBodiesGiveEmptyFields) {
  for (const char* body : {"", "<html><body>Bad Gateway</body></html>", "[1,2]", "\"text\"",
                           "{\"code\":", R"({"code":404,"message":null})"}) {
    FivetranError e = ParseFivetranError(body);
    EXPECT_EQ(e.code, "") << body;
    EXPECT_EQ(e.message, "") << body;
  }
  FivetranError partial = ParseFivetranError(R"({"code":{"x":1},"message":"kept"})");
  EXPECT_EQ(partial.code, "");
  EXPECT_EQ(partial.message, "kept");

  FivetranError longmsg =
      ParseFivetranError(json({{"code", "X"}, {"message", std::string(5000, 'm')}}).dump());
  EXPECT_EQ(longmsg.message.size(), 1000u);
}

// ---------------------------------------------------------------------------------------------
// B15: files echo with nulls.

TEST(ConnectionTest, B15FilesEchoWithNullsPassesThrough) {
  const std::string config =
      R"({"files":[{"table_name":"orders","file_pattern":null,"archive_pattern":null,"email_subject":null},
                   {"table_name":"tags","file_pattern":null,"archive_pattern":null,"email_subject":null}],
          "password":"******"})";
  v1::Connection c = ConnectionFromBody(
      absl::StrCat(R"({"code":"Success","data":{"id":"con_11","config":)", config, "}}"));
  EXPECT_EQ(c.id(), "con_11");
  const auto& files = c.config().fields().at("files").list_value();
  ASSERT_EQ(files.values_size(), 2);
  const auto& first = files.values(0).struct_value().fields();
  EXPECT_EQ(first.at("table_name").string_value(), "orders");
  EXPECT_EQ(first.at("file_pattern").kind_case(), Value::kNullValue);
  EXPECT_EQ(first.at("email_subject").kind_case(), Value::kNullValue);
  EXPECT_EQ(JsonFromStruct(c.config()), json::parse(config));
}

// ---------------------------------------------------------------------------------------------
// B20: timestamps.

TEST(TimestampTest, B20FractionDigitsAndOffsets) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"2026-03-01T06:00:00Z", "2026-03-01T06:00:00Z"},
      {"2026-03-20T10:00:00.000Z", "2026-03-20T10:00:00Z"},
      {"2025-06-01T04:03:55.118204Z", "2025-06-01T04:03:55.118204Z"},
      {"2025-06-01T04:03:55.118204123Z", "2025-06-01T04:03:55.118204123Z"},
      {"2025-06-01T04:03:55.1Z", "2025-06-01T04:03:55.100Z"},
      {"2025-06-01t04:03:55z", "2025-06-01T04:03:55Z"},
      {"2025-06-01T06:03:55+02:00", "2025-06-01T04:03:55Z"},
      {"2025-06-01T00:33:55.5-03:30", "2025-06-01T04:03:55.500Z"},
      {"2024-02-29T23:59:59Z", "2024-02-29T23:59:59Z"},
      {"2000-02-29T00:00:00Z", "2000-02-29T00:00:00Z"},
      {"1969-12-31T23:59:59.999Z", "1969-12-31T23:59:59.999Z"},
      {"0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"},
      {"9999-12-31T23:59:59.999999999Z", "9999-12-31T23:59:59.999999999Z"},
      {"2016-12-31T23:59:60Z", "2017-01-01T00:00:00Z"},
  };
  for (const auto& [in, want] : cases) {
    auto ts = ParseTimestamp(in);
    ASSERT_TRUE(ts.ok()) << in << ": " << ts.status();
    EXPECT_EQ(FormatTimestamp(*ts), want) << in;
    EXPECT_EQ(TimeUtil::ToString(*ts), want) << in;
  }
  auto ts = ParseTimestamp("2025-06-01T04:03:55.118204Z");
  ASSERT_TRUE(ts.ok());
  EXPECT_EQ(ts->seconds(), 1748750635);
  EXPECT_EQ(ts->nanos(), 118204000);
}

TEST(TimestampTest, RejectsEverythingElse) {
  for (const std::string bad : {
           "",
           "2026-03-01",
           "2026-03-01T06:00:00",              // no zone
           "2026-03-01 06:00:00Z",             // space separator
           "2026-03-01T06:00Z",                // no seconds
           "2026-03-01T06:00:00.Z",            // empty fraction
           "2026-03-01T06:00:00.1234567890Z",  // 10 digits
           "2026-03-01T06:00:00+0200",         // offset without colon
           "2026-03-01T06:00:00+24:00",        // offset hours
           "2026-03-01T06:00:00Z ",            // trailing space
           " 2026-03-01T06:00:00Z",            // leading space
           "2026-02-30T06:00:00Z",             // no such day
           "2023-02-29T06:00:00Z",             // not a leap year
           "1900-02-29T06:00:00Z",             // not a leap year
           "2026-13-01T06:00:00Z",
           "2026-00-01T06:00:00Z",
           "2026-03-00T06:00:00Z",
           "2026-03-01T24:00:00Z",
           "2026-03-01T06:60:00Z",
           "2026-03-01T06:00:61Z",
           "0000-12-31T23:59:59Z",       // before 0001-01-01
           "0001-01-01T00:00:00+01:00",  // before 0001-01-01 UTC
           "9999-12-31T23:59:59-01:00",  // after 9999-12-31 UTC
           "+2026-03-01T06:00:00Z",
           "2026-3-01T06:00:00Z",
           "1748750635",
       }) {
    auto ts = ParseTimestamp(bad);
    EXPECT_FALSE(ts.ok()) << "accepted: " << bad;
    EXPECT_EQ(ts.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ConnectionTest, B20NullTimestampsAreUnsetAndBadOnesAreInternal) {
  v1::Connection c = ConnectionFromBody(
      R"({"code":"Success","data":{"id":"con_2","succeeded_at":"2026-03-01T06:00:00.000Z",
          "failed_at":null,"created_at":""}})");
  ASSERT_TRUE(c.has_succeeded_at());
  EXPECT_EQ(c.succeeded_at(), Ts("2026-03-01T06:00:00Z"));
  EXPECT_FALSE(c.has_failed_at());
  EXPECT_FALSE(c.has_created_at());  // "" is treated like null

  v1::Connection fresh = ConnectionFromBody(
      R"({"code":"Success","data":{"id":"con_0","succeeded_at":null,"failed_at":null}})");
  EXPECT_FALSE(fresh.has_succeeded_at());
  EXPECT_FALSE(fresh.has_failed_at());

  auto bad = ConnectionFromJson(WithId({{"failed_at", "yesterday"}}));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(bad.status().message(),
            "connection.failed_at: expected an RFC 3339 timestamp, got string \"yesterday\"");
  auto number = ConnectionFromJson(WithId({{"status", {{"rescheduled_for", 1748750635}}}}));
  ASSERT_FALSE(number.ok());
  EXPECT_EQ(number.status().message(),
            "connection.status.rescheduled_for: expected an RFC 3339 timestamp, got integer "
            "1748750635");
}

// ---------------------------------------------------------------------------------------------
// Full connection: every field.

TEST(ConnectionTest, FullFixtureMapsEveryField) {
  json env = Fixture("connection_full.json");
  auto data = DataObject(env);
  ASSERT_TRUE(data.ok()) << data.status();
  auto parsed = ConnectionFromJson(*data);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  v1::Connection c = *parsed;

  // Every field of Connection (and of its typed sub-messages) is set by the fixture.
  const auto* d = v1::Connection::descriptor();
  const auto* refl = v1::Connection::GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const auto* f = d->field(i);
    if (f->is_repeated()) {
      EXPECT_GT(refl->FieldSize(c, f), 0) << f->name();
    } else if (f->has_presence()) {
      EXPECT_TRUE(refl->HasField(c, f)) << f->name();
    } else if (f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_STRING) {
      EXPECT_NE(refl->GetString(c, f), "") << f->name();
    } else if (f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_ENUM) {
      EXPECT_NE(refl->GetEnumValue(c, f), 0) << f->name();
    }
  }

  // Free-form parts, checked as JSON.
  EXPECT_EQ(JsonFromStruct(c.config()), (*data)["config"]);
  EXPECT_EQ(JsonFromStruct(c.source_sync_details()), json({{"last_synced_file", "orders_42.csv"}}));
  ASSERT_EQ(c.setup_tests_size(), 2);
  EXPECT_FALSE(c.setup_tests(0).has_details());
  EXPECT_EQ(JsonFromValue(c.setup_tests(1).details()),
            json::parse(R"({"matched":0,"dirs":["in","out"]})"));
  ASSERT_EQ(c.status().tasks_size(), 1);
  EXPECT_EQ(JsonFromValue(c.status().tasks(0).details()), json({{"attempts", 3}}));
  ASSERT_EQ(c.status().warnings_size(), 1);
  EXPECT_EQ(JsonFromValue(c.status().warnings(0).details()), json("table orders"));
  c.clear_config();
  c.clear_source_sync_details();
  c.mutable_setup_tests(1)->clear_details();
  c.mutable_status()->mutable_tasks(0)->clear_details();
  c.mutable_status()->mutable_warnings(0)->clear_details();

  v1::Connection want;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"pb(
        id: "quiet_heron"
        group_id: "amber_fjord"
        service: "ftp"
        service_version: 1
        schema: "ftp_ingest.orders"
        connected_by: "mended_kettle"
        created_at { seconds: 1740906847 nanos: 512031000 }
        succeeded_at { seconds: 1748750635 nanos: 118204000 }
        failed_at { seconds: 1748577662 }
        paused: false
        pause_after_trial: true
        sync_frequency: 1440
        daily_sync_time: "04:00"
        schedule_type: SCHEDULE_TYPE_MANUAL
        schedule_type_raw: "manual"
        data_delay_sensitivity: DATA_DELAY_SENSITIVITY_CUSTOM
        data_delay_sensitivity_raw: "CUSTOM"
        data_delay_threshold: 90
        networking_method: NETWORKING_METHOD_SSH_TUNNEL
        networking_method_raw: "SshTunnel"
        proxy_agent_id: "proxy_kiwi"
        private_link_id: "link_otter"
        hybrid_deployment_agent_id: "agent_lynx"
        external_secrets_manager_id: "esm_walrus"
        destination_schema_names: DESTINATION_SCHEMA_NAMES_SOURCE_NAMING
        destination_schema_names_raw: "SOURCE_NAMING"
        destination_configuration { virtual_warehouse: "LOAD_WH" }
        status {
          setup_state: SETUP_STATE_CONNECTED
          setup_state_raw: "connected"
          sync_state: SYNC_STATE_RESCHEDULED
          sync_state_raw: "rescheduled"
          update_state: UPDATE_STATE_DELAYED
          update_state_raw: "delayed"
          is_historical_sync: false
          schema_status: "ready"
          rescheduled_for { seconds: 1748754000 nanos: 250000000 }
          tasks { code: "reconnect_needed" message: "Reconnect needed" }
          warnings { code: "resync_table_warning" message: "Resync Table Warning" }
        }
        setup_tests {
          title: "Connecting to FTP server"
          status: SETUP_TEST_STATUS_PASSED
          status_raw: "PASSED"
          message: ""
        }
        setup_tests {
          title: "Listing files"
          status: SETUP_TEST_STATUS_WARNING
          status_raw: "WARNING"
          message: "No file matched the pattern"
        }
        connect_card {
          token: "cc_tok_invented"
          uri: "https://connect.example.test/card/quiet_heron"
        }
        connect_card_config {
          redirect_uri: "https://app.example.test/done"
          hide_setup_guide: true
          all_fields: false
        }
      )pb",
      &want));
  EXPECT_EQ(want.created_at(), Ts("2025-03-02T09:14:07.512031Z"));
  EXPECT_EQ(want.failed_at(), Ts("2025-05-30T04:01:02Z"));
  EXPECT_EQ(want.status().rescheduled_for(), Ts("2025-06-01T05:00:00.250Z"));
  std::string diff;
  google::protobuf::util::MessageDifferencer differ;
  differ.ReportDifferencesToString(&diff);
  EXPECT_TRUE(differ.Compare(want, c)) << diff;
  // Explicit false values are present (not confused with unset).
  EXPECT_TRUE(c.has_paused());
  EXPECT_TRUE(c.status().has_is_historical_sync());
  EXPECT_TRUE(c.connect_card_config().has_all_fields());
}

TEST(ConnectionTest, ScalarsGivenAsStringsAreAccepted) {
  auto c = ConnectionFromJson(WithId({{"sync_frequency", "360"},
                                      {"paused", "true"},
                                      {"pause_after_trial", "FALSE"},
                                      {"service_version", 2.0},
                                      {"data_delay_threshold", ""},
                                      {"schema", 42}}));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->sync_frequency(), 360);
  EXPECT_TRUE(c->paused());
  ASSERT_TRUE(c->has_pause_after_trial());
  EXPECT_FALSE(c->pause_after_trial());
  EXPECT_EQ(c->service_version(), 2);
  EXPECT_FALSE(c->has_data_delay_threshold());
  EXPECT_EQ(c->schema(), "42");
}

TEST(ConnectionTest, WrongTypesAreInternalNamingTheField) {
  const std::vector<std::pair<json, std::string>> cases = {
      {WithId({{"paused", {{"a", 1}}}}), "connection.paused: expected a boolean, got object"},
      {WithId({{"paused", 1}}), "connection.paused: expected a boolean, got integer 1"},
      {WithId({{"sync_frequency", "abc"}}),
       "connection.sync_frequency: expected a 32-bit integer, got string \"abc\""},
      {WithId({{"sync_frequency", 1.5}}),
       "connection.sync_frequency: expected a 32-bit integer, got number 1.5"},
      {WithId({{"service_version", 4294967296}}),
       "connection.service_version: expected a 32-bit integer, got integer 4294967296"},
      {WithId({{"schedule_type", 2}}),
       "connection.schedule_type: expected a string, got integer 2"},
      {WithId({{"service", json::array()}}), "connection.service: expected a string, got array"},
      {WithId({{"status", "connected"}}),
       "connection.status: expected an object, got string \"connected\""},
      {WithId({{"status", {{"tasks", {{"code", "x"}}}}}}),
       "connection.status.tasks: expected an array, got object"},
      {WithId({{"status", {{"warnings", json::array({"w"})}}}}),
       "connection.status.warnings[0]: expected an object, got string \"w\""},
      {WithId({{"setup_tests", json::array({json::object(), json({{"status", true}})})}}),
       "connection.setup_tests[1].status: expected a string, got boolean true"},
      {WithId({{"connect_card_config", {{"all_fields", "sometimes"}}}}),
       "connection.connect_card_config.all_fields: expected a boolean, got string \"sometimes\""},
      {WithId({{"destination_configuration", {{"virtual_warehouse", json::object()}}}}),
       "connection.destination_configuration.virtual_warehouse: expected a string, got object"},
      {json({{"service", "ftp"}}), "connection.id is missing"},
      {json({{"id", 12}}), "connection.id: expected a non-empty string, got integer 12"},
      {json({{"id", nullptr}}), "connection.id: expected a non-empty string, got null"},
      {json({{"id", ""}}), "connection.id: expected a non-empty string, got string \"\""},
      {json::array({1}), "connection: expected an object, got array"},
  };
  for (const auto& [in, message] : cases) {
    auto c = ConnectionFromJson(in);
    ASSERT_FALSE(c.ok()) << in.dump();
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInternal) << in.dump();
    EXPECT_EQ(c.status().message(), message) << in.dump();
  }
}

TEST(ConnectionTest, ErrorMessagesAreShortAndHideSecretValues) {
  auto c = ConnectionFromJson(WithId({{"sync_frequency", std::string(5000, 'x') + "\n\x01"}}));
  ASSERT_FALSE(c.ok());
  EXPECT_LT(c.status().message().size(), 150u);
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("xxx..."));

  // connect_card.token is a secret: its value is never quoted.
  auto t =
      ConnectionFromJson(WithId({{"connect_card", {{"token", json::array({"tok-d0nt-leak"})}}}}));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(), "connection.connect_card.token: expected a string, got array");
  auto g = GroupFromJson(json({{"id", "g"}, {"created_at", "tok-d0nt-leak"}}));
  ASSERT_FALSE(g.ok());
  EXPECT_THAT(std::string(g.status().message()), HasSubstr("group.created_at"));
}

// ---------------------------------------------------------------------------------------------
// Groups and users.

TEST(GroupTest, ListGroupsFixture) {
  auto page = ParsePage(Fixture("groups_page.json"));
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->next_cursor, "");
  ASSERT_EQ(page->items.size(), 2u);
  auto g0 = GroupFromJson(page->items[0]);
  ASSERT_TRUE(g0.ok()) << g0.status();
  EXPECT_EQ(g0->id(), "amber_fjord");
  EXPECT_EQ(g0->name(), "Staging");
  EXPECT_EQ(g0->created_at(), Ts("2018-12-20T11:59:35.089589Z"));
  auto g1 = GroupFromJson(page->items[1]);
  ASSERT_TRUE(g1.ok()) << g1.status();
  EXPECT_EQ(g1->id(), "mossy_delta");
  EXPECT_EQ(g1->name(), "Production");
  EXPECT_EQ(g1->created_at(), Ts("2024-01-01T00:00:00Z"));

  auto missing = GroupFromJson(json({{"name", "x"}}));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(missing.status().message(), "group.id is missing");
}

TEST(UserTest, ListUsersFixtureWithNulls) {
  auto page = ParsePage(Fixture("users_page.json"));
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->next_cursor, "eyJza2lwIjoyfQ");
  ASSERT_EQ(page->items.size(), 2u);

  auto u0 = UserFromJson(page->items[0]);
  ASSERT_TRUE(u0.ok()) << u0.status();
  v1::User want;
  ASSERT_TRUE(
      google::protobuf::TextFormat::ParseFromString(R"pb(
                                                      id: "mended_kettle"
                                                      email: "ana@example.com"
                                                      given_name: "Ana"
                                                      family_name: "Ruiz"
                                                      verified: true
                                                      invited: false
                                                      active: true
                                                      role: "Account Administrator"
                                                      picture: "https://img.example.test/ana.png"
                                                      phone: "+1 555 0100"
                                                    )pb",
                                                    &want));
  *want.mutable_logged_in_at() = Ts("2025-05-30T17:22:10.401200Z");
  *want.mutable_created_at() = Ts("2021-02-11T08:01:44.900311Z");
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(want, *u0)) << u0->DebugString();

  auto u1 = UserFromJson(page->items[1]);
  ASSERT_TRUE(u1.ok()) << u1.status();
  EXPECT_EQ(u1->id(), "shy_lantern");
  EXPECT_EQ(u1->given_name(), "Bo");
  EXPECT_FALSE(u1->has_family_name());
  EXPECT_FALSE(u1->has_role());
  EXPECT_FALSE(u1->has_picture());
  EXPECT_FALSE(u1->has_phone());
  EXPECT_FALSE(u1->has_logged_in_at());
  ASSERT_TRUE(u1->has_verified());
  EXPECT_FALSE(u1->verified());
  EXPECT_TRUE(u1->invited());
  EXPECT_EQ(u1->created_at(), Ts("2025-06-02T12:00:00Z"));

  auto bad = UserFromJson(json({{"id", "u"}, {"active", "yes"}}));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "user.active: expected a boolean, got string \"yes\"");
}

// ---------------------------------------------------------------------------------------------
// Envelope.

TEST(EnvelopeTest, HtmlBodyIsInternalWithShortSanitisedSnippet) {
  const std::string html =
      "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\n<body>\t"
      "<center><h1>503 Service Temporarily Unavailable</h1></center>\x01\xff" +
      std::string(2000, 'z') + "</body></html>";
  auto r = ParseJsonBody(html, 503, "text/html");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInternal);
  const std::string msg(r.status().message());
  EXPECT_THAT(msg, StartsWith("Fivetran returned a non-JSON body (HTTP 503, text/html): "
                              "<html> <head><title>503 Service Temporarily Unavailable"));
  EXPECT_THAT(msg, Not(HasSubstr("\n")));
  EXPECT_THAT(msg, Not(HasSubstr("\t")));
  EXPECT_LT(msg.size(), 160u);
  for (char ch : msg) {
    EXPECT_TRUE(ch >= 0x20 && ch < 0x7f) << static_cast<int>(ch);
  }

  auto empty = ParseJsonBody("", 502, "");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().message(),
            "Fivetran returned a non-JSON body (HTTP 502, no content type): <empty>");
  auto truncated = ParseJsonBody(R"({"code":"Success","data":{)", 200, "application/json");
  EXPECT_EQ(truncated.status().code(), absl::StatusCode::kInternal);
}

// A body that is JSON, or reads as the start of it, is described and never
// quoted: its first characters may be a secret member (the adversarial run
// of stop 21 got a config's api_key echoed for a body nested too deep).
TEST(EnvelopeTest, AJsonBodyItRefusesIsNeverQuoted) {
  std::string deep =
      R"({"code":"Success","data":{"items":[{"config":{"a_password":98765432109876,)";
  deep += R"("z":)";
  for (int i = 0; i < 120; ++i) deep += R"({"k":)";
  deep += "1";
  for (int i = 0; i < 120; ++i) deep += "}";
  deep += "}}]}}";
  const std::vector<std::pair<std::string, std::string>> bodies = {
      {deep, "98765432109876"},
      {R"([{"id":"a","token":"SuperSecretTok123"}])", "SuperSecretTok123"},
      {R"("SuperSecretTok123")", "SuperSecretTok123"},
      {R"({"code":"Success","data":{"config":{"password":"hunter2-truncat)", "hunter2"},
      {R"(  [ {"password": "hunter2-in-an-array" )", "hunter2"},
      // Whatever comes before it (second adversarial run): a byte-order mark,
      // an XSSI prefix, a comment, a stray word.
      {"\xEF\xBB\xBF{\"code\":\"Success\",\"data\":{\"config\":{\"password\":\"hunter2-bom",
       "hunter2"},
      {")]}'\n{\"password\":\"hunter2-xssi\"}", "hunter2"},
      {"/* c */ {\"password\":\"hunter2-comment\"}", "hunter2"},
      {"true {\"password\":\"hunter2-after\"}", "hunter2"},
      {"\xC2\xA0{\"token\":\"hunter2-nbsp\"}", "hunter2"},
  };
  for (const auto& [body, secret] : bodies) {
    auto r = ParseJsonBody(body, 200, "application/json");
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInternal);
    const std::string msg(r.status().message());
    EXPECT_THAT(msg,
                StartsWith("Fivetran returned a non-JSON body (HTTP 200, application/json): "));
    EXPECT_THAT(msg, Not(HasSubstr(secret))) << msg;
    EXPECT_THAT(msg, HasSubstr(absl::StrCat(body.size(), " bytes"))) << msg;
  }
  EXPECT_THAT(std::string(ParseJsonBody(deep, 200, "").status().message()),
              HasSubstr("nested deeper than 100 levels"));
  EXPECT_THAT(std::string(ParseJsonBody("[1]", 200, "").status().message()),
              HasSubstr("JSON array, not an object"));
}

TEST(EnvelopeTest, JsonThatIsNotAnObjectIsInternal) {
  for (const char* body : {R"([{"id":"a"}])", "42", "\"Success\"", "null", "true"}) {
    auto r = ParseJsonBody(body, 200, "application/json");
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInternal);
    EXPECT_THAT(std::string(r.status().message()),
                StartsWith("Fivetran returned a non-JSON body (HTTP 200, application/json): "))
        << body;
  }
  std::string deep;
  for (int i = 0; i < 5000; ++i) deep += "{\"a\":[";
  auto r = ParseJsonBody(deep, 200, "application/json");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInternal);
  std::string nested = "{\"data\":";
  for (int i = 0; i < 150; ++i) nested += "[";
  for (int i = 0; i < 150; ++i) nested += "]";
  nested += "}";
  EXPECT_EQ(ParseJsonBody(nested, 200, "application/json").status().code(),
            absl::StatusCode::kInternal);
}

TEST(EnvelopeTest, DataObject) {
  auto ok = DataObject(json::parse(R"({"code":"Success","data":{"id":"x"}})"));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(*ok, json({{"id", "x"}}));

  auto missing = DataObject(json::parse(R"({"code":"Success","message":"done"})"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(missing.status().message(), "response.data is missing");

  auto null_data = DataObject(json::parse(R"({"code":"Success","data":null})"));
  EXPECT_EQ(null_data.status().message(), "response.data: expected an object, got null");
  auto array_data = DataObject(json::parse(R"({"code":"Success","data":[]})"));
  EXPECT_EQ(array_data.status().message(), "response.data: expected an object, got array");
  auto not_object = DataObject(json::array());
  EXPECT_EQ(not_object.status().code(), absl::StatusCode::kInternal);
}

// ---------------------------------------------------------------------------------------------
// Value / Struct.

TEST(ValueTest, JsonToValueAndBack) {
  const json in = json::parse(
      R"({"s":"x","i":21,"neg":-7,"f":2.5,"t":true,"n":null,"a":[1,"b",[],{}],"o":{"k":{"z":0}}})");
  auto s = StructFromJson(in);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->fields().at("i").number_value(), 21.0);
  EXPECT_EQ(s->fields().at("n").kind_case(), Value::kNullValue);
  const json out = JsonFromStruct(*s);
  EXPECT_EQ(out, in);
  EXPECT_TRUE(out["i"].is_number_integer());
  EXPECT_EQ(out["i"].dump(), "21");
  EXPECT_TRUE(out["f"].is_number_float());

  EXPECT_FALSE(StructFromJson(json::array()).ok());
  EXPECT_EQ(StructFromJson(json("x")).status().code(), absl::StatusCode::kInvalidArgument);

  // Scalars of any type.
  EXPECT_EQ(ValueFromJson(json("abc")).string_value(), "abc");
  EXPECT_EQ(ValueFromJson(json(nullptr)).kind_case(), Value::kNullValue);
  EXPECT_TRUE(ValueFromJson(json(true)).bool_value());
  EXPECT_EQ(ValueFromJson(json::parse("18446744073709551615")).number_value(),
            18446744073709551615.0);
  // Beyond 2^53 precision is lost (documented).
  EXPECT_EQ(ValueFromJson(json::parse("9007199254740993")).number_value(), 9007199254740992.0);
}

TEST(ValueTest, IntegralDoublesBecomeJsonIntegers) {
  Value port;
  port.set_number_value(21.0);
  EXPECT_EQ(JsonFromValue(port).dump(), "21");
  Value neg;
  neg.set_number_value(-3.0);
  EXPECT_EQ(JsonFromValue(neg).dump(), "-3");
  Value frac;
  frac.set_number_value(0.25);
  EXPECT_EQ(JsonFromValue(frac).dump(), "0.25");
  Value big;
  big.set_number_value(1e300);
  EXPECT_TRUE(JsonFromValue(big).is_number_float());
  Value nan;
  nan.set_number_value(std::nan(""));
  EXPECT_TRUE(JsonFromValue(nan).is_null());
  Value inf;
  inf.set_number_value(std::numeric_limits<double>::infinity());
  EXPECT_TRUE(JsonFromValue(inf).is_null());
  EXPECT_TRUE(JsonFromValue(Value()).is_null());
}

// ---------------------------------------------------------------------------------------------
// Enum tables.

template <typename E>
void CheckEnumTable(const google::protobuf::EnumDescriptor* d) {
  for (int i = 0; i < d->value_count(); ++i) {
    const E v = static_cast<E>(d->value(i)->number());
    const absl::string_view name = FivetranEnumString(v);
    if (d->value(i)->number() == 0) {
      EXPECT_EQ(name, "") << d->value(i)->name();
      continue;
    }
    ASSERT_NE(name, "") << d->value(i)->name();
    E back = static_cast<E>(0);
    EXPECT_TRUE(ParseFivetranEnum(name, &back)) << name;
    EXPECT_EQ(back, v) << name;
  }
  EXPECT_EQ(FivetranEnumString(static_cast<E>(99)), "");
  E untouched = static_cast<E>(0);
  EXPECT_FALSE(ParseFivetranEnum("no_such_value", &untouched));
  EXPECT_FALSE(ParseFivetranEnum("", &untouched));
  EXPECT_EQ(untouched, static_cast<E>(0));
}

TEST(EnumTest, TablesCoverEveryValueBothWays) {
  CheckEnumTable<v1::SetupState>(v1::SetupState_descriptor());
  CheckEnumTable<v1::SyncState>(v1::SyncState_descriptor());
  CheckEnumTable<v1::UpdateState>(v1::UpdateState_descriptor());
  CheckEnumTable<v1::ScheduleType>(v1::ScheduleType_descriptor());
  CheckEnumTable<v1::DataDelaySensitivity>(v1::DataDelaySensitivity_descriptor());
  CheckEnumTable<v1::NetworkingMethod>(v1::NetworkingMethod_descriptor());
  CheckEnumTable<v1::DestinationSchemaNames>(v1::DestinationSchemaNames_descriptor());
  CheckEnumTable<v1::SetupTestStatus>(v1::SetupTestStatus_descriptor());
  CheckEnumTable<v1::FtpFileType>(v1::FtpFileType_descriptor());
  CheckEnumTable<v1::FtpCompression>(v1::FtpCompression_descriptor());
  CheckEnumTable<v1::FtpOnError>(v1::FtpOnError_descriptor());
  CheckEnumTable<v1::FtpAppendFileOption>(v1::FtpAppendFileOption_descriptor());
  CheckEnumTable<v1::FtpJsonDeliveryMode>(v1::FtpJsonDeliveryMode_descriptor());
  CheckEnumTable<v1::FtpFileMappingMethod>(v1::FtpFileMappingMethod_descriptor());
}

TEST(EnumTest, ExactFivetranSpellings) {
  EXPECT_EQ(FivetranEnumString(v1::SCHEDULE_TYPE_AUTO), "auto");
  EXPECT_EQ(FivetranEnumString(v1::SCHEDULE_TYPE_MANUAL), "manual");
  EXPECT_EQ(FivetranEnumString(v1::DATA_DELAY_SENSITIVITY_SYNC_FREQUENCY), "SYNC_FREQUENCY");
  EXPECT_EQ(FivetranEnumString(v1::NETWORKING_METHOD_DIRECTLY), "Directly");
  EXPECT_EQ(FivetranEnumString(v1::NETWORKING_METHOD_SSH_TUNNEL), "SshTunnel");
  EXPECT_EQ(FivetranEnumString(v1::NETWORKING_METHOD_PRIVATE_LINK), "PrivateLink");
  EXPECT_EQ(FivetranEnumString(v1::NETWORKING_METHOD_PROXY_AGENT), "ProxyAgent");
  EXPECT_EQ(FivetranEnumString(v1::NETWORKING_METHOD_UNMANAGED_PROXY_AGENT), "UnmanagedProxyAgent");
  EXPECT_EQ(FivetranEnumString(v1::NETWORKING_METHOD_UNKNOWN), "Unknown");
  EXPECT_EQ(FivetranEnumString(v1::DESTINATION_SCHEMA_NAMES_FIVETRAN_NAMING), "FIVETRAN_NAMING");
  EXPECT_EQ(FivetranEnumString(v1::SETUP_TEST_STATUS_JOB_FAILED), "JOB_FAILED");
  EXPECT_EQ(FivetranEnumString(v1::SYNC_STATE_RESCHEDULED), "rescheduled");
  EXPECT_EQ(FivetranEnumString(v1::UPDATE_STATE_ON_SCHEDULE), "on_schedule");
  EXPECT_EQ(FivetranEnumString(v1::FTP_COMPRESSION_TAR_GZ), "tar_gz");
  EXPECT_EQ(FivetranEnumString(v1::FTP_APPEND_FILE_OPTION_UPSERT_FILE_WITH_PRIMARY_KEYS),
            "upsert_file_with_primary_keys");
  EXPECT_EQ(FivetranEnumString(v1::FTP_JSON_DELIVERY_MODE_UNPACKED), "Unpacked");
  EXPECT_EQ(FivetranEnumString(v1::FTP_FILE_MAPPING_METHOD_DEFINE_PER_TABLE), "DEFINE_PER_TABLE");
  EXPECT_EQ(FivetranEnumString(v1::FTP_FILE_TYPE_SPREADSHEET), "spreadsheet");
  EXPECT_EQ(FivetranEnumString(v1::FTP_ON_ERROR_FAIL), "fail");
}

// ---------------------------------------------------------------------------------------------
// Request bodies.

// Every secret used in request tests contains this marker.
constexpr absl::string_view kLeak = "d0nt-leak";

v1::CreateConnectionRequest FullCreateRequest() {
  v1::CreateConnectionRequest req;
  req.set_group_id("amber_fjord");
  req.set_service("postgres");
  auto s = StructFromJson(json::parse(R"({"schema":"pg_main","host":"db.example.test",
      "port":5432,"user":"loader","password":"pg-d0nt-leak","ratio":2.5,
      "tunnel":{"enabled":false,"hops":[1,"two",null]}})"));
  EXPECT_TRUE(s.ok());
  *req.mutable_config() = *s;
  auto a = StructFromJson(json::parse(
      R"({"client_access":{"client_id":"cid_invented","client_secret":"auth-d0nt-leak"}})"));
  EXPECT_TRUE(a.ok());
  *req.mutable_auth() = *a;
  auto* o = req.mutable_options();
  o->set_run_setup_tests(false);
  o->set_trust_certificates(true);
  o->set_trust_fingerprints(false);
  o->set_paused(true);
  o->set_pause_after_trial(false);
  o->set_sync_frequency(1440);
  o->set_daily_sync_time("04:00");
  o->set_schedule_type(v1::SCHEDULE_TYPE_MANUAL);
  o->set_data_delay_sensitivity(v1::DATA_DELAY_SENSITIVITY_CUSTOM);
  o->set_data_delay_threshold(120);
  o->set_networking_method(v1::NETWORKING_METHOD_SSH_TUNNEL);
  o->set_proxy_agent_id("proxy_kiwi");
  o->set_private_link_id("link_otter");
  o->set_hybrid_deployment_agent_id("agent_lynx");
  o->set_external_secrets_manager_id("esm_walrus");
  o->set_destination_schema_names(v1::DESTINATION_SCHEMA_NAMES_FIVETRAN_NAMING);
  o->mutable_destination_configuration()->set_virtual_warehouse("LOAD_WH");
  o->mutable_connect_card_config()->set_redirect_uri("https://app.example.test/done");
  o->mutable_connect_card_config()->set_hide_setup_guide(true);
  o->mutable_connect_card_config()->set_all_fields(false);
  return req;
}

v1::FtpConfig FullFtpConfig() {
  v1::FtpConfig c;
  c.set_schema("ftp_ingest");
  c.set_table("orders");
  c.set_table_group_name("order_files");
  c.set_host("ftp.example.net");
  c.set_port(21);
  c.set_user("loader");
  c.set_password("ftp-d0nt-leak");
  c.set_is_secure(true);
  c.set_prefix("exports/orders");
  c.set_pattern("orders_.*\\.csv");
  c.set_file_type(v1::FTP_FILE_TYPE_CSV);
  c.set_compression(v1::FTP_COMPRESSION_TAR_GZ);
  c.set_on_error(v1::FTP_ON_ERROR_SKIP);
  c.set_append_file_option(v1::FTP_APPEND_FILE_OPTION_UPSERT_FILE_WITH_PRIMARY_KEYS);
  c.set_archive_pattern(".*\\.csv");
  c.set_null_sequence("NULL");
  c.set_delimiter(";");
  c.set_escape_char("\\");
  c.set_skip_before(2);
  c.set_skip_after(1);
  c.set_empty_header(false);
  c.set_line_separator("\r\n");
  c.set_quote_char("'");
  c.set_quote_character_enabled(true);
  c.set_json_delivery_mode(v1::FTP_JSON_DELIVERY_MODE_PACKED);
  c.set_selected_range("'Sheet1'!A1");
  c.set_use_pgp_encryption_options(true);
  c.set_pgp_secret_key("pgp-key-d0nt-leak");
  c.set_pgp_pass_phrase("pgp-phrase-d0nt-leak");
  c.set_signer_public_key("signer-public-key-invented");
  c.set_file_mapping_method(v1::FTP_FILE_MAPPING_METHOD_DEFINE_PER_TABLE);
  auto* f = c.add_files();
  f->set_table_name("orders");
  f->set_file_pattern("orders_.*\\.csv");
  f->set_archive_pattern("orders/.*");
  f->set_selected_range("'Sheet1'!A1");
  c.add_files()->set_table_name("tags");
  c.set_extraction_pattern("(?<table>[a-z]+)_\\d+\\.csv");
  return c;
}

v1::CreateFtpConnectionRequest MinimalFtpRequest() {
  v1::CreateFtpConnectionRequest req;
  req.set_group_id("amber_fjord");
  auto* c = req.mutable_config();
  c->set_schema("ftp_ingest");
  c->set_table("orders");
  c->set_host("ftp.example.net");
  c->set_user("loader");
  c->set_password("ftp-d0nt-leak");
  c->set_pgp_pass_phrase("pgp-phrase-d0nt-leak");
  return req;
}

TEST(RequestTest, FullCreateConnectionBodyMatchesFixture) {
  FieldViolation v;
  auto body = CreateConnectionBody(FullCreateRequest(), &v);
  ASSERT_TRUE(body.ok()) << body.status();
  const json want = json::parse(ReadTestdata("create_connection_body.json"));
  EXPECT_EQ(*body, want) << body->dump(2);
  EXPECT_EQ((*body)["config"]["port"].dump(), "5432");  // sent as an integer
  EXPECT_EQ(v.field, "");
}

TEST(RequestTest, FullFtpConfigMatchesFixture) {
  const v1::FtpConfig c = FullFtpConfig();
  // The fixture-based test is only complete if FullFtpConfig sets every field.
  const auto* d = v1::FtpConfig::descriptor();
  const auto* refl = v1::FtpConfig::GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const auto* f = d->field(i);
    if (f->is_repeated()) {
      EXPECT_GT(refl->FieldSize(c, f), 0) << f->name();
    } else if (f->has_presence()) {
      EXPECT_TRUE(refl->HasField(c, f)) << f->name();
    } else if (f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_STRING) {
      EXPECT_NE(refl->GetString(c, f), "") << f->name();
    } else if (f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_ENUM) {
      EXPECT_NE(refl->GetEnumValue(c, f), 0) << f->name();
    }
  }
  const json want = json::parse(ReadTestdata("ftp_config_full.json"));
  const json got = FtpConfigToJson(c);
  EXPECT_EQ(got, want) << got.dump(2);
  EXPECT_EQ(got.size(), static_cast<size_t>(d->field_count()));

  v1::CreateFtpConnectionRequest req;
  req.set_group_id("amber_fjord");
  *req.mutable_config() = c;
  req.mutable_options()->set_schedule_type(v1::SCHEDULE_TYPE_MANUAL);
  req.mutable_options()->set_trust_certificates(true);
  FieldViolation v;
  auto body = CreateFtpConnectionBody(req, &v);
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(*body, json({{"group_id", "amber_fjord"},
                         {"service", "ftp"},
                         {"run_setup_tests", true},
                         {"trust_certificates", true},
                         {"schedule_type", "manual"},
                         {"config", want}}));
}

TEST(RequestTest, UnsetFieldsAreOmittedAndRunSetupTestsDefaultsToTrue) {
  v1::CreateConnectionRequest req;
  req.set_group_id("amber_fjord");
  req.set_service("criteo");
  (*req.mutable_config()->mutable_fields())["schema"].set_string_value("criteo_ads");
  auto body = CreateConnectionBody(req, nullptr);
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(*body, json::parse(R"({"group_id":"amber_fjord","service":"criteo",
      "run_setup_tests":true,"config":{"schema":"criteo_ads"}})"));

  // Empty strings, UNSPECIFIED enums and an empty destination_configuration are not sent.
  auto* o = req.mutable_options();
  o->set_daily_sync_time("");
  o->set_proxy_agent_id("");
  o->mutable_destination_configuration();
  o->set_schedule_type(v1::SCHEDULE_TYPE_UNSPECIFIED);
  o->set_run_setup_tests(true);
  body = CreateConnectionBody(req, nullptr);
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(body->size(), 4u) << body->dump();
  EXPECT_EQ((*body)["run_setup_tests"], json(true));

  o->set_run_setup_tests(false);
  body = CreateConnectionBody(req, nullptr);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ((*body)["run_setup_tests"], json(false));

  auto ftp = CreateFtpConnectionBody(MinimalFtpRequest(), nullptr);
  ASSERT_TRUE(ftp.ok()) << ftp.status();
  EXPECT_EQ((*ftp)["run_setup_tests"], json(true));
  EXPECT_EQ((*ftp)["config"], json::parse(R"({"schema":"ftp_ingest","table":"orders",
      "host":"ftp.example.net","user":"loader","password":"ftp-d0nt-leak",
      "pgp_pass_phrase":"pgp-phrase-d0nt-leak"})"));
}

TEST(RequestTest, FtpAlternativesToTableAreAccepted) {
  auto group = MinimalFtpRequest();
  group.mutable_config()->clear_table();
  group.mutable_config()->set_table_group_name("order_files");
  EXPECT_TRUE(CreateFtpConnectionBody(group, nullptr).ok());

  auto extract = MinimalFtpRequest();
  extract.mutable_config()->clear_table();
  extract.mutable_config()->set_file_mapping_method(v1::FTP_FILE_MAPPING_METHOD_EXTRACT_TABLES);
  extract.mutable_config()->set_extraction_pattern("(?<table>[a-z]+)\\.csv");
  auto body = CreateFtpConnectionBody(extract, nullptr);
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ((*body)["config"]["file_mapping_method"], json("EXTRACT_TABLES"));
  EXPECT_FALSE((*body)["config"].contains("table"));

  auto ports = MinimalFtpRequest();
  ports.mutable_config()->set_port(65535);
  ports.mutable_config()->set_skip_before(0);
  body = CreateFtpConnectionBody(ports, nullptr);
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ((*body)["config"]["port"], json(65535));
  EXPECT_EQ((*body)["config"]["skip_before"], json(0));
}

struct ViolationCase {
  std::string name;
  std::function<void(v1::CreateConnectionRequest*)> mutate;
  std::string field;
  std::string message;
};

TEST(RequestTest, CreateConnectionValidationNamesTheField) {
  const std::vector<ViolationCase> cases = {
      {"group_id", [](auto* r) { r->clear_group_id(); }, "group_id", "group_id is required"},
      {"service", [](auto* r) { r->clear_service(); }, "service", "service is required"},
      {"no config", [](auto* r) { r->clear_config(); }, "config.schema",
       "config.schema is required (a non-empty string)"},
      {"schema number",
       [](auto* r) { (*r->mutable_config()->mutable_fields())["schema"].set_number_value(1); },
       "config.schema", "config.schema is required (a non-empty string)"},
      {"frequency 0", [](auto* r) { r->mutable_options()->set_sync_frequency(0); },
       "options.sync_frequency", "options.sync_frequency must be a positive number of minutes"},
      {"frequency negative", [](auto* r) { r->mutable_options()->set_sync_frequency(-5); },
       "options.sync_frequency", "options.sync_frequency must be a positive number of minutes"},
      {"daily too long",
       [](auto* r) { r->mutable_options()->set_daily_sync_time(std::string(33, '0')); },
       "options.daily_sync_time", "options.daily_sync_time is longer than 32 bytes"},
      {"daily without 1440",
       [](auto* r) {
         r->mutable_options()->set_sync_frequency(360);
         r->mutable_options()->set_daily_sync_time("04:00");
       },
       "options.daily_sync_time", "options.daily_sync_time requires options.sync_frequency 1440"},
      {"schedule enum",
       [](auto* r) { r->mutable_options()->set_schedule_type(static_cast<v1::ScheduleType>(9)); },
       "options.schedule_type", "options.schedule_type has an unknown value 9"},
      {"sensitivity enum",
       [](auto* r) {
         r->mutable_options()->set_data_delay_sensitivity(
             static_cast<v1::DataDelaySensitivity>(42));
       },
       "options.data_delay_sensitivity", "options.data_delay_sensitivity has an unknown value 42"},
      {"threshold", [](auto* r) { r->mutable_options()->set_data_delay_threshold(-1); },
       "options.data_delay_threshold", "options.data_delay_threshold must be >= 0"},
      {"method enum",
       [](auto* r) {
         r->mutable_options()->set_networking_method(static_cast<v1::NetworkingMethod>(77));
       },
       "options.networking_method", "options.networking_method has an unknown value 77"},
      {"schema names enum",
       [](auto* r) {
         r->mutable_options()->set_destination_schema_names(
             static_cast<v1::DestinationSchemaNames>(5));
       },
       "options.destination_schema_names",
       "options.destination_schema_names has an unknown value 5"},
      {"card without uri",
       [](auto* r) { r->mutable_options()->mutable_connect_card_config()->clear_redirect_uri(); },
       "options.connect_card_config.redirect_uri",
       "options.connect_card_config.redirect_uri is required"},
  };
  for (const auto& c : cases) {
    v1::CreateConnectionRequest req = FullCreateRequest();
    c.mutate(&req);
    FieldViolation v;
    auto body = CreateConnectionBody(req, &v);
    ASSERT_FALSE(body.ok()) << c.name;
    EXPECT_EQ(body.status().code(), absl::StatusCode::kInvalidArgument) << c.name;
    EXPECT_EQ(body.status().message(), c.message) << c.name;
    EXPECT_EQ(v.field, c.field) << c.name;
    EXPECT_EQ(v.description, c.message) << c.name;
    EXPECT_THAT(std::string(body.status().message()), Not(HasSubstr(std::string(kLeak)))) << c.name;
    // A null violation pointer is fine too.
    EXPECT_EQ(CreateConnectionBody(req, nullptr).status(), body.status()) << c.name;
  }
}

struct FtpViolationCase {
  std::string name;
  std::function<void(v1::CreateFtpConnectionRequest*)> mutate;
  std::string field;
  std::string message;
};

TEST(RequestTest, CreateFtpConnectionValidationNamesTheField) {
  const std::vector<FtpViolationCase> cases = {
      {"group_id", [](auto* r) { r->clear_group_id(); }, "group_id", "group_id is required"},
      {"config", [](auto* r) { r->clear_config(); }, "config", "config is required"},
      {"schema", [](auto* r) { r->mutable_config()->clear_schema(); }, "config.schema",
       "config.schema is required"},
      {"host", [](auto* r) { r->mutable_config()->clear_host(); }, "config.host",
       "config.host is required"},
      {"user", [](auto* r) { r->mutable_config()->clear_user(); }, "config.user",
       "config.user is required"},
      {"password", [](auto* r) { r->mutable_config()->clear_password(); }, "config.password",
       "config.password is required"},
      {"table", [](auto* r) { r->mutable_config()->clear_table(); }, "config.table",
       "config.table or config.table_group_name is required unless config.file_mapping_method "
       "is set"},
      {"files",
       [](auto* r) {
         r->mutable_config()->set_file_mapping_method(v1::FTP_FILE_MAPPING_METHOD_DEFINE_PER_TABLE);
       },
       "config.files", "config.files is required with file_mapping_method DEFINE_PER_TABLE"},
      {"files table_name",
       [](auto* r) {
         r->mutable_config()->set_file_mapping_method(v1::FTP_FILE_MAPPING_METHOD_DEFINE_PER_TABLE);
         r->mutable_config()->add_files()->set_table_name("orders");
         r->mutable_config()->add_files()->set_file_pattern("x");
       },
       "config.files[1].table_name", "config.files[1].table_name is required"},
      {"extraction",
       [](auto* r) {
         r->mutable_config()->set_file_mapping_method(v1::FTP_FILE_MAPPING_METHOD_EXTRACT_TABLES);
       },
       "config.extraction_pattern",
       "config.extraction_pattern is required with file_mapping_method EXTRACT_TABLES"},
      {"port 0", [](auto* r) { r->mutable_config()->set_port(0); }, "config.port",
       "config.port must be in 1..65535"},
      {"port high", [](auto* r) { r->mutable_config()->set_port(65536); }, "config.port",
       "config.port must be in 1..65535"},
      {"skip_before", [](auto* r) { r->mutable_config()->set_skip_before(-1); },
       "config.skip_before", "config.skip_before must be >= 0"},
      {"skip_after", [](auto* r) { r->mutable_config()->set_skip_after(-3); }, "config.skip_after",
       "config.skip_after must be >= 0"},
      {"pgp", [](auto* r) { r->mutable_config()->set_use_pgp_encryption_options(true); },
       "config.pgp_secret_key",
       "config.pgp_secret_key is required with use_pgp_encryption_options"},
      {"file_type",
       [](auto* r) { r->mutable_config()->set_file_type(static_cast<v1::FtpFileType>(99)); },
       "config.file_type", "config.file_type has an unknown value 99"},
      {"compression",
       [](auto* r) { r->mutable_config()->set_compression(static_cast<v1::FtpCompression>(99)); },
       "config.compression", "config.compression has an unknown value 99"},
      {"on_error",
       [](auto* r) { r->mutable_config()->set_on_error(static_cast<v1::FtpOnError>(3)); },
       "config.on_error", "config.on_error has an unknown value 3"},
      {"append",
       [](auto* r) {
         r->mutable_config()->set_append_file_option(static_cast<v1::FtpAppendFileOption>(4));
       },
       "config.append_file_option", "config.append_file_option has an unknown value 4"},
      {"json mode",
       [](auto* r) {
         r->mutable_config()->set_json_delivery_mode(static_cast<v1::FtpJsonDeliveryMode>(-1));
       },
       "config.json_delivery_mode", "config.json_delivery_mode has an unknown value -1"},
      {"mapping",
       [](auto* r) {
         r->mutable_config()->set_file_mapping_method(static_cast<v1::FtpFileMappingMethod>(8));
       },
       "config.file_mapping_method", "config.file_mapping_method has an unknown value 8"},
      {"options frequency", [](auto* r) { r->mutable_options()->set_sync_frequency(0); },
       "options.sync_frequency", "options.sync_frequency must be a positive number of minutes"},
  };
  for (const auto& c : cases) {
    v1::CreateFtpConnectionRequest req = MinimalFtpRequest();
    c.mutate(&req);
    FieldViolation v;
    auto body = CreateFtpConnectionBody(req, &v);
    ASSERT_FALSE(body.ok()) << c.name;
    EXPECT_EQ(body.status().code(), absl::StatusCode::kInvalidArgument) << c.name;
    EXPECT_EQ(body.status().message(), c.message) << c.name;
    EXPECT_EQ(v.field, c.field) << c.name;
    EXPECT_EQ(v.description, c.message) << c.name;
    EXPECT_THAT(std::string(body.status().message()), Not(HasSubstr(std::string(kLeak)))) << c.name;
  }
}

TEST(RequestTest, NoSecretValueInAnyMessage) {
  // A request full of secrets that fails on its last check still never echoes them.
  v1::CreateFtpConnectionRequest req;
  req.set_group_id("amber_fjord");
  *req.mutable_config() = FullFtpConfig();
  req.mutable_config()->set_port(-21);
  FieldViolation v;
  auto body = CreateFtpConnectionBody(req, &v);
  ASSERT_FALSE(body.ok());
  EXPECT_EQ(v.field, "config.port");
  for (const std::string secret :
       {"ftp-d0nt-leak", "pgp-key-d0nt-leak", "pgp-phrase-d0nt-leak", "d0nt-leak"}) {
    EXPECT_THAT(std::string(body.status().message()), Not(HasSubstr(secret)));
    EXPECT_THAT(v.description, Not(HasSubstr(secret)));
  }
  v1::CreateConnectionRequest generic = FullCreateRequest();
  generic.mutable_options()->set_sync_frequency(0);
  auto g = CreateConnectionBody(generic, &v);
  ASSERT_FALSE(g.ok());
  EXPECT_THAT(std::string(g.status().message()), Not(HasSubstr(std::string(kLeak))));
  // ... while a valid body does carry them, for Fivetran only; RedactSecrets hides them for logs.
  auto ok = CreateConnectionBody(FullCreateRequest(), nullptr);
  ASSERT_TRUE(ok.ok());
  EXPECT_THAT(ok->dump(), HasSubstr(std::string(kLeak)));
  EXPECT_THAT(RedactSecrets(*ok).dump(), Not(HasSubstr(std::string(kLeak))));
  auto ftp_ok = CreateFtpConnectionBody(MinimalFtpRequest(), nullptr);
  ASSERT_TRUE(ftp_ok.ok());
  EXPECT_THAT(RedactSecrets(*ftp_ok).dump(), Not(HasSubstr(std::string(kLeak))));
}

// Issue 11 / N9: values that are Fivetran's to decide are sent as given (Fivetran's 400 is
// INVALID_ARGUMENT); only what protects the gateway is checked locally.
TEST(RequestTest, FivetransValuesAreSentAsGiven) {
  struct Case {
    std::string name;
    std::function<void(v1::CreateConnectionOptions*)> mutate;
    std::string key;
    json sent;
  };
  const std::vector<Case> cases = {
      {"new frequency",
       [](auto* o) {
         o->clear_daily_sync_time();
         o->set_sync_frequency(2);
       },
       "sync_frequency", 2},
      {"odd frequency",
       [](auto* o) {
         o->clear_daily_sync_time();
         o->set_sync_frequency(7);
       },
       "sync_frequency", 7},
      {"two days",
       [](auto* o) {
         o->clear_daily_sync_time();
         o->set_sync_frequency(2880);
       },
       "sync_frequency", 2880},
      {"half hour", [](auto* o) { o->set_daily_sync_time("04:30"); }, "daily_sync_time", "04:30"},
      {"24:00", [](auto* o) { o->set_daily_sync_time("24:00"); }, "daily_sync_time", "24:00"},
      {"one digit", [](auto* o) { o->set_daily_sync_time("4:00"); }, "daily_sync_time", "4:00"},
      {"unmanaged",
       [](auto* o) { o->set_networking_method(v1::NETWORKING_METHOD_UNMANAGED_PROXY_AGENT); },
       "networking_method", "UnmanagedProxyAgent"},
      {"unknown method", [](auto* o) { o->set_networking_method(v1::NETWORKING_METHOD_UNKNOWN); },
       "networking_method", "Unknown"},
      {"card scheme",
       [](auto* o) { o->mutable_connect_card_config()->set_redirect_uri("myapp://done"); },
       "connect_card_config", json{{"redirect_uri", "myapp://done"}}},
  };
  for (const auto& c : cases) {
    v1::CreateConnectionRequest req = FullCreateRequest();
    req.mutable_options()->clear_connect_card_config();
    c.mutate(req.mutable_options());
    FieldViolation v;
    auto body = CreateConnectionBody(req, &v);
    ASSERT_TRUE(body.ok()) << c.name << ": " << body.status();
    EXPECT_EQ((*body)[c.key], c.sent) << c.name;

    v1::CreateFtpConnectionRequest ftp = MinimalFtpRequest();
    *ftp.mutable_options() = req.options();
    auto ftp_body = CreateFtpConnectionBody(ftp, &v);
    ASSERT_TRUE(ftp_body.ok()) << c.name << ": " << ftp_body.status();
    EXPECT_EQ((*ftp_body)[c.key], c.sent) << c.name;
  }
}

// ---------------------------------------------------------------------------------------------
// N13: lone surrogate escapes and bytes that are not UTF-8.

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

constexpr char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD

std::vector<v1::User> UsersFromBody(const std::string& body) {
  std::vector<v1::User> users;
  auto env = ParseJsonBody(body, 200, "application/json");
  EXPECT_TRUE(env.ok()) << env.status();
  if (!env.ok()) return users;
  auto page = ParsePage(*env);
  EXPECT_TRUE(page.ok()) << page.status();
  if (!page.ok()) return users;
  for (const auto& item : page->items) {
    auto u = UserFromJson(item);
    EXPECT_TRUE(u.ok()) << u.status();
    if (u.ok()) users.push_back(*u);
  }
  return users;
}

TEST(Utf8Test, N13LoneSurrogateEscapeBecomesReplacementAndThePageIsServed) {
  const std::string body =
      R"({"code":"Success","data":{"items":[)"
      R"({"id":"usr_a","given_name":"Ana","family_name":"Ruiz"},)"
      R"({"id":"usr_b","given_name":"Ra\udc00ul","family_name":"smile \ud83d\ude00"}],)"
      R"("next_cursor":null}})";
  std::vector<v1::User> users = UsersFromBody(body);
  ASSERT_EQ(users.size(), 2u);
  EXPECT_EQ(users[0].given_name(), "Ana");
  EXPECT_EQ(users[1].given_name(), absl::StrCat("Ra", kReplacement, "ul"));
  EXPECT_EQ(users[1].family_name(), "smile \xF0\x9F\x98\x80");  // the pair stays the emoji
  for (const auto& u : users) EXPECT_TRUE(AllStringsUtf8(u));
}

TEST(Utf8Test, N13EveryKindOfLoneSurrogate) {
  struct Case {
    std::string escaped;   // JSON string contents
    std::string expected;  // UTF-8
  };
  const std::string r = kReplacement;
  const std::vector<Case> cases = {
      {R"(\ud800)", r},                                   // high, at the end
      {R"(\uD800x)", r + "x"},                            // upper-case hex
      {R"(\udfff)", r},                                   // low alone
      {R"(\ud800\ud800)", r + r},                         // two highs
      {R"(\ud83d\ud83d\ude00)", r + "\xF0\x9F\x98\x80"},  // high, then a good pair
      {R"(\ude00\ud83d)", r + r},                         // reversed pair
      {R"(\ud800\n)", r + "\n"},                          // high before another escape
      {R"(\ud800\u0041)", r + "A"},                       // high before a non-surrogate
      {R"(\\ud800)", "\\ud800"},                          // an escaped backslash: text
      {R"(\\\ud800)", "\\" + r},                          // backslash, then a lone high
      {R"(a\"\udc00\"b)", "a\"" + r + "\"b"},             // inside quotes
      {R"(\u00e9\u20ac)", "\xC3\xA9\xE2\x82\xAC"},        // ordinary escapes untouched
  };
  for (const Case& c : cases) {
    const std::string body =
        absl::StrCat(R"({"data":{"id":"con_u","schema":")", c.escaped, R"(","config":{")",
                     c.escaped, R"(":")", c.escaped, R"("}}})");
    v1::Connection conn = ConnectionFromBody(body);
    EXPECT_EQ(conn.schema(), c.expected) << c.escaped;
    EXPECT_EQ(conn.config().fields().count(c.expected), 1u) << c.escaped;
    EXPECT_TRUE(AllStringsUtf8(conn)) << c.escaped;
  }
}

TEST(Utf8Test, N13RawBytesThatAreNotUtf8BecomeReplacement) {
  const std::string r = kReplacement;
  struct Case {
    std::string raw;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"Ra\xFFul", "Ra" + r + "ul"},        // never valid
      {"\xC3\xA9t\xC3", "\xC3\xA9t" + r},   // cut at the end
      {"\xE2\x82x", r + "x"},               // truncated sequence: one U+FFFD
      {"\xC0\xAF", r + r},                  // overlong
      {"\xED\xA0\x80", r + r + r},          // a surrogate encoded in UTF-8
      {"\xF4\x90\x80\x80", r + r + r + r},  // above U+10FFFF
      {"\x80\x80", r + r},                  // stray continuation bytes
      {"ok \xF0\x9F\x98\x80 \xE2\x82\xAC", "ok \xF0\x9F\x98\x80 \xE2\x82\xAC"},  // valid, kept
  };
  for (const Case& c : cases) {
    const std::string body =
        absl::StrCat(R"({"code":"Success","data":{"items":[{"id":"usr_x","given_name":")", c.raw,
                     R"(","email":"a\ud800@example.test"}]}})");
    std::vector<v1::User> users = UsersFromBody(body);
    ASSERT_EQ(users.size(), 1u);
    EXPECT_EQ(users[0].given_name(), c.expected);
    EXPECT_EQ(users[0].email(), "a" + r + "@example.test");
    EXPECT_TRUE(AllStringsUtf8(users[0]));
  }
}

TEST(Utf8Test, N13GroupsAndFivetranErrorsToo) {
  auto env = ParseJsonBody(R"({"code":"Success","data":{"items":[{"id":"grp_\udbff","name":"Sales )"
                           "\xFE"
                           R"("}]}})",
                           200, "application/json");
  ASSERT_TRUE(env.ok()) << env.status();
  auto page = ParsePage(*env);
  ASSERT_TRUE(page.ok());
  auto g = GroupFromJson(page->items.at(0));
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->id(), absl::StrCat("grp_", kReplacement));
  EXPECT_EQ(g->name(), absl::StrCat("Sales ", kReplacement));

  FivetranError e = ParseFivetranError(R"({"code":"InvalidInput","message":"bad \udc00 )"
                                       "\xC3"
                                       R"("})");
  EXPECT_EQ(e.code, "InvalidInput");
  EXPECT_EQ(e.message, absl::StrCat("bad ", kReplacement, " ", kReplacement));
}

TEST(Utf8Test, N13StillRefusesWhatIsNotJson) {
  for (const std::string& body :
       {std::string("{\"a\":\"\\ud800"), std::string("{\"a\":\xFF}"), std::string("\xFF"),
        std::string("{\"a\":\"x\\q\"}"), std::string("{\"a\":\"\\u12\"}")}) {
    auto r = ParseJsonBody(body, 200, "application/json");
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInternal) << body;
    EXPECT_THAT(std::string(r.status().message()), StartsWith("Fivetran returned a non-JSON body"));
  }
}

// ---------------------------------------------------------------------------------------------
// Issue 11: validating a large create body takes time linear in its size.

// A create request of about `bytes` bytes: `config` holds one key of half that size (or short
// keys, for the control) whose value is a list of `item_bytes`-character strings filling the
// other half.
v1::CreateConnectionRequest SizedCreateRequest(size_t bytes, bool huge_key,
                                               size_t item_bytes = 60) {
  v1::CreateConnectionRequest req;
  req.set_group_id("amber_fjord");
  req.set_service("postgres");
  auto& fields = *req.mutable_config()->mutable_fields();
  fields["schema"].set_string_value("pg_big");
  const std::string item(item_bytes, 'v');
  const size_t items = bytes / 2 / item.size();
  if (huge_key) {
    auto* list = fields[std::string(bytes / 2, 'k')].mutable_list_value();
    for (size_t i = 0; i < items; ++i) list->add_values()->set_string_value(item);
  } else {
    auto* list = fields["list"].mutable_list_value();
    for (size_t i = 0; i < items; ++i) list->add_values()->set_string_value(item);
    for (size_t i = 0; i < bytes / 2 / 100; ++i) {
      fields[absl::StrCat("key_", i, std::string(90, 'k'))].set_bool_value(true);
    }
  }
  return req;
}

// Best of `runs` wall-clock times of CreateConnectionBody, in seconds.
double ValidationSeconds(const v1::CreateConnectionRequest& req, absl::StatusCode expected,
                         int runs = 3) {
  double best = 1e9;
  for (int i = 0; i < runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    FieldViolation v;
    auto body = CreateConnectionBody(req, &v);
    best = std::min(
        best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    EXPECT_EQ(body.status().code(), expected) << body.status();
    EXPECT_LT(v.description.size(), 200u);  // a huge key is never echoed whole
  }
  return best;
}

TEST(RequestSizeTest, HugeKeyOfAnOversizedRequestIsRefusedQuickly) {
  const auto huge = SizedCreateRequest(3500 << 10, true);
  const auto control = SizedCreateRequest(3500 << 10, false);
  const double t_huge = ValidationSeconds(huge, absl::StatusCode::kInvalidArgument);
  const double t_control = ValidationSeconds(control, absl::StatusCode::kInvalidArgument);
  EXPECT_LT(t_huge, 2.0);
  EXPECT_LT(t_huge, 3 * t_control + 0.05) << "huge key " << t_huge << " s, control " << t_control;
  FieldViolation v;
  auto body = CreateConnectionBody(huge, &v);
  EXPECT_EQ(v.field, "config");
  EXPECT_THAT(std::string(body.status().message()), HasSubstr("exceed"));
}

TEST(RequestSizeTest, ViolationDeepUnderAHugeKeyNamesAShortenedPath) {
  v1::CreateConnectionRequest req = SizedCreateRequest(200 << 10, true);
  auto& fields = *req.mutable_config()->mutable_fields();
  for (auto& [k, v] : fields) {
    if (k.size() > 1000) v.mutable_list_value()->add_values()->set_number_value(NAN);
  }
  FieldViolation v;
  auto body = CreateConnectionBody(req, &v);
  ASSERT_EQ(body.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(v.field, StartsWith("config.kkkk"));
  EXPECT_THAT(v.field, HasSubstr("...[1706]"));
  EXPECT_LT(v.field.size(), 100u);
  EXPECT_EQ(std::string(body.status().message()), v.field + " must be a finite number");
}

TEST(RequestSizeTest, NestingLimitOfConfigAndAuth) {
  // A chain of `levels` members "a", the innermost holding 1.
  auto nested = [](int levels) {
    Value v;
    v.set_number_value(1);
    for (int i = 0; i < levels; ++i) {
      Value outer;
      (*outer.mutable_struct_value()->mutable_fields())["a"] = v;
      v = outer;
    }
    return v.struct_value();
  };
  for (bool in_auth : {false, true}) {
    v1::CreateConnectionRequest req = FullCreateRequest();
    if (in_auth) {
      *req.mutable_auth() = nested(kMaxConfigDepth);  // the number sits at depth 32
    } else {
      *(*req.mutable_config()->mutable_fields())["deep"].mutable_struct_value() =
          nested(kMaxConfigDepth - 1);
    }
    EXPECT_TRUE(CreateConnectionBody(req, nullptr).ok()) << in_auth;
  }
  v1::CreateConnectionRequest req = FullCreateRequest();
  *req.mutable_auth() = nested(kMaxConfigDepth + 1);
  FieldViolation v;
  auto body = CreateConnectionBody(req, &v);
  std::string path = "auth";
  for (int i = 0; i <= kMaxConfigDepth; ++i) path += ".a";
  EXPECT_EQ(v.field, path);
  EXPECT_EQ(std::string(body.status().message()), path + " is nested more than 32 levels deep");

  Value list;
  list.set_number_value(1);
  for (int i = 0; i < kMaxConfigDepth; ++i) {
    Value outer;
    *outer.mutable_list_value()->add_values() = list;
    list = outer;
  }
  req = FullCreateRequest();
  (*req.mutable_config()->mutable_fields())["l"] = list;  // the number sits at depth 33
  body = CreateConnectionBody(req, &v);
  ASSERT_FALSE(body.ok());
  EXPECT_EQ(
      v.field, "config.l" + [] {
        std::string s;
        for (int i = 0; i < kMaxConfigDepth; ++i) s += "[0]";
        return s;
      }());
}

}  // namespace
}  // namespace fivetran_gateway::fivetran
