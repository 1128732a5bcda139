// RestFivetranApi against a scripted transport: what each operation sends
// (method, path, query, body) and how Fivetran's answers are mapped.
#include "server/fivetran/rest_api.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "google/protobuf/util/message_differencer.h"
#include "google/rpc/error_details.pb.h"
#include "server/common/status.h"
#include "server/fivetran/connection_page_reader.h"
#include "server/fivetran/scripted_transport.h"

namespace fivetran_gateway::fivetran {
namespace {

using ::google::protobuf::util::MessageDifferencer;

template <typename T>
struct Result {
  std::optional<absl::StatusOr<T>> value;
  UpstreamInfo info;
  ApiCallback<T> Into() {
    return [this](absl::StatusOr<T> v, const UpstreamInfo& i) {
      value = std::move(v);
      info = i;
    };
  }
};

google::rpc::ErrorInfo InfoOf(const absl::Status& s) {
  google::rpc::ErrorInfo info;
  if (auto p = s.GetPayload(kErrorInfoUrl)) info.ParseFromString(std::string(*p));
  return info;
}

class RestApiTest : public ::testing::Test {
 protected:
  RestApiTest() : client_(Options(), &transport_), api_(&client_) {}
  static ClientOptions Options() {
    ClientOptions o;
    o.base_url = "http://upstream.test/v1/";
    o.api_key = "key";
    o.api_secret = "secret";
    return o;
  }
  HttpRequest Only() {
    auto requests = transport_.requests();
    EXPECT_EQ(requests.size(), 1u);
    return requests.empty() ? HttpRequest{} : requests[0];
  }

  ScriptedTransport transport_;
  FivetranClient client_;
  RestFivetranApi api_;
};

constexpr char kConnection[] = R"({"code":"Success","data":{"id":"decent_dropsy",
    "group_id":"projected_sickle","service":"ftp","schema":"ftp_in","paused":false,
    "status":{"setup_state":"connected","sync_state":"scheduled"}}})";

TEST_F(RestApiTest, GetConnectionReadsOneConnectionByEncodedId) {
  transport_.Script({Http(200, kConnection)});
  Result<v1::Connection> r;
  api_.GetConnection("a b/c", kCachedReadOk, absl::InfiniteFuture(), r.Into());
  HttpRequest req = Only();
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.url, "http://upstream.test/v1/connections/a%20b%2Fc");
  ASSERT_TRUE(r.value.has_value());
  ASSERT_TRUE(r.value->ok()) << r.value->status();
  EXPECT_EQ((*r.value)->id(), "decent_dropsy");
  EXPECT_EQ((*r.value)->status().setup_state(), v1::SETUP_STATE_CONNECTED);
  EXPECT_EQ(r.info.http_status, 200);
  EXPECT_EQ(r.info.attempts, 1);
}

TEST_F(RestApiTest, GetConnectionPassesFivetransNotFoundThrough) {
  transport_.Script({Http(
      404, R"({"code":"NotFound_Connection","message":"Connection with id 'x' not found"})")});
  Result<v1::Connection> r;
  api_.GetConnection("x", kCachedReadOk, absl::InfiniteFuture(), r.Into());
  ASSERT_TRUE(r.value.has_value());
  EXPECT_EQ(r.value->status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(InfoOf(r.value->status()).metadata().at("fivetran_code"), "NotFound_Connection");
}

// The RPC's way: the same connection in wire form, never built as a message
// on the way.
TEST_F(RestApiTest, GetSerializedConnectionAnswersTheSameConnectionInWireForm) {
  transport_.Script({Http(200, kConnection), Http(200, kConnection)});
  Result<v1::Connection> message;
  api_.GetConnection("a b/c", kCachedReadOk, absl::InfiniteFuture(), message.Into());
  Result<SerializedConnection> wire;
  api_.GetSerializedConnection("a b/c", kCachedReadOk, absl::InfiniteFuture(), wire.Into());
  std::vector<HttpRequest> requests = transport_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].method, "GET");
  EXPECT_EQ(requests[1].url, "http://upstream.test/v1/connections/a%20b%2Fc");
  ASSERT_TRUE(message.value.has_value() && message.value->ok());
  ASSERT_TRUE(wire.value.has_value());
  ASSERT_TRUE(wire.value->ok()) << wire.value->status();
  v1::Connection parsed;
  ASSERT_TRUE(SerializedConnection::ParseInto((*wire.value)->bytes, &parsed));
  EXPECT_EQ(parsed.id(), "decent_dropsy");
  EXPECT_EQ(parsed.status().sync_state(), v1::SYNC_STATE_SCHEDULED);
  EXPECT_TRUE(MessageDifferencer::Equals(parsed, **message.value));
  EXPECT_EQ(wire.info.http_status, 200);
  EXPECT_EQ(wire.info.attempts, 1);
}

// Secrets are masked alike, and a body the wire writer declines (a repeated
// key) is read by the general path and serialized: the same connection
// either way.
TEST_F(RestApiTest, GetSerializedConnectionMasksAndFallsBackAsGetConnection) {
  const std::string masked = R"({"code":"Success","data":{"id":"c1","schema":"hunter2hunter2",)"
                             R"("config":{"password":"hunter2hunter2","host":"ftp.example.com"}}})";
  const std::string repeated =
      R"({"code":"Success","data":{"id":"c2","config":{"x":1,"x":2,"password":"p4ssw0rd-long"}}})";
  for (const std::string& body : {masked, repeated}) {
    transport_.Script({Http(200, body), Http(200, body)});
    Result<v1::Connection> message;
    api_.GetConnection("c", kCachedReadOk, absl::InfiniteFuture(), message.Into());
    Result<SerializedConnection> wire;
    api_.GetSerializedConnection("c", kCachedReadOk, absl::InfiniteFuture(), wire.Into());
    ASSERT_TRUE(message.value.has_value() && message.value->ok()) << body;
    ASSERT_TRUE(wire.value.has_value() && wire.value->ok()) << body;
    v1::Connection parsed;
    ASSERT_TRUE(SerializedConnection::ParseInto((*wire.value)->bytes, &parsed));
    // Equal as messages: the writer keeps `config`'s keys in Fivetran's
    // order, protobuf writes a map in its own.
    EXPECT_TRUE(MessageDifferencer::Equals(parsed, **message.value))
        << body << "\n"
        << parsed.DebugString() << (*message.value)->DebugString();
    EXPECT_EQ(parsed.config().fields().at("password").string_value(), "******") << body;
    EXPECT_EQ((*wire.value)->bytes.find("hunter2"), std::string::npos);
    EXPECT_EQ((*wire.value)->bytes.find("p4ssw0rd"), std::string::npos);
  }
  ASSERT_TRUE(ReadConnectionBytes(masked, {}).has_value());     // the wire writer's
  EXPECT_FALSE(ReadConnectionBytes(repeated, {}).has_value());  // the general path's
}

TEST_F(RestApiTest, GetSerializedConnectionErrorsAreGetConnections) {
  transport_.Script(
      {Http(404, R"({"code":"NotFound_Connection","message":"Connection with id 'x' not found"})"),
       Http(200, R"({"code":"Success"})")});
  Result<SerializedConnection> missing, empty;
  api_.GetSerializedConnection("x", kCachedReadOk, absl::InfiniteFuture(), missing.Into());
  api_.GetSerializedConnection("x", kCachedReadOk, absl::InfiniteFuture(), empty.Into());
  ASSERT_TRUE(missing.value.has_value() && empty.value.has_value());
  EXPECT_EQ(missing.value->status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(InfoOf(missing.value->status()).metadata().at("fivetran_code"), "NotFound_Connection");
  EXPECT_EQ(empty.value->status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(InfoOf(empty.value->status()).reason(), "FIVETRAN_BAD_RESPONSE");
}

TEST_F(RestApiTest, ConnectionWithoutDataIsABadResponse) {
  transport_.Script({Http(200, R"({"code":"Success"})")});
  Result<v1::Connection> r;
  api_.GetConnection("x", kCachedReadOk, absl::InfiniteFuture(), r.Into());
  ASSERT_TRUE(r.value.has_value());
  EXPECT_EQ(r.value->status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(InfoOf(r.value->status()).reason(), "FIVETRAN_BAD_RESPONSE");
  EXPECT_EQ(InfoOf(r.value->status()).metadata().at("http_status"), "200");
}

TEST_F(RestApiTest, ListGroupConnectionsSendsPagingAndTheSchemaFilter) {
  transport_.Script({Http(200, R"({"code":"Success","data":{"items":[
      {"id":"c1","group_id":"g"},{"id":"c2","group_id":"g"}],"next_cursor":"n&2"}})")});
  Result<Page<SerializedConnection>> r;
  api_.ListGroupConnections("g 1", "s=x", PageRequest{50, "c/1"}, kCachedReadOk,
                            absl::InfiniteFuture(), r.Into());
  EXPECT_EQ(Only().url,
            "http://upstream.test/v1/groups/g%201/connections?limit=50&cursor=c%2F1&schema=s%3Dx");
  ASSERT_TRUE(r.value.has_value() && r.value->ok());
  ASSERT_EQ((*r.value)->items.size(), 2u);
  EXPECT_EQ((*r.value)->items[1].Parse().id(), "c2");
  EXPECT_EQ((*r.value)->next_cursor, "n&2");
}

// The cursor goes back to Fivetran as sent, by both readers, even when it
// equals a secret on its page (the first page: the fast reader; the second,
// whose config repeats a key, the general path through FivetranClient).
TEST_F(RestApiTest, ACursorEqualToASecretOfItsPageIsKept) {
  transport_.Script({Http(200, R"({"code":"Success","data":{"items":[
          {"id":"c1","config":{"password":"cursor-abc-123"}}],"next_cursor":"cursor-abc-123"}})"),
                     Http(200, R"({"code":"Success","data":{"items":[
          {"id":"c2","config":{"x":1,"x":2,"password":"cursor-def-456"}}],
          "next_cursor":"cursor-def-456"}})")});
  for (const char* expected : {"cursor-abc-123", "cursor-def-456"}) {
    Result<Page<SerializedConnection>> r;
    api_.ListGroupConnections("g", "", PageRequest{1, "c0"}, kCachedReadOk, absl::InfiniteFuture(),
                              r.Into());
    ASSERT_TRUE(r.value.has_value() && r.value->ok());
    EXPECT_EQ((*r.value)->next_cursor, expected);
    EXPECT_EQ((*r.value)->items[0].Parse().config().fields().at("password").string_value(),
              "******");
  }
}

TEST_F(RestApiTest, TheNextCursorIsHintedOnceBeforeTheAnswer) {
  std::vector<std::string> events;
  auto page_with_hint = [&events](const std::string& cursor) {
    PageRequest page{2, cursor};
    page.on_next_cursor = [&events](const std::string& next) { events.push_back("hint " + next); };
    return page;
  };
  auto answer = [&events](absl::StatusOr<Page<SerializedConnection>> r, const UpstreamInfo&) {
    events.push_back(r.ok() ? "page " + r->next_cursor : "error");
  };
  // The fast reader; a page it declines (an id that is not a string), which
  // the general path then fails; a last page; an error.
  transport_.Script(
      {Http(200, R"({"code":"Success","data":{"items":[{"id":"c1"}],"next_cursor":"n2"}})"),
       Http(200, R"({"code":"Success","data":{"items":[{"id":5}],"next_cursor":"n3"}})"),
       Http(200, R"({"code":"Success","data":{"items":[{"id":"c9"}]}})"),
       Http(404, R"({"code":"NotFound_Group","message":"no such group"})")});
  for (const char* cursor : {"n1", "n2", "n8", "n9"}) {
    api_.ListGroupConnections("g", "", page_with_hint(cursor), kCachedReadOk,
                              absl::InfiniteFuture(), answer);
  }
  EXPECT_EQ(events,
            (std::vector<std::string>{"hint n2", "page n2", "hint n3", "error", "page ", "error"}));

  // Groups (the general path only).
  events.clear();
  transport_.Script(
      {Http(200, R"({"code":"Success","data":{"items":[{"id":"g1"}],"next_cursor":"g2"}})")});
  PageRequest groups{1, ""};
  groups.on_next_cursor = [&events](const std::string& next) { events.push_back("hint " + next); };
  api_.ListGroups(groups, kCachedReadOk, absl::InfiniteFuture(),
                  [&events](absl::StatusOr<Page<v1::Group>> r, const UpstreamInfo&) {
                    events.push_back(r.ok() ? "page " + r->next_cursor : "error");
                  });
  EXPECT_EQ(events, (std::vector<std::string>{"hint g2", "page g2"}));
}

TEST_F(RestApiTest, TheSameCursorAgainStopsPaging) {  // Field report B1.
  transport_.Script({Http(200, R"({"code":"Success","data":{"items":[],"next_cursor":"c1"}})")});
  Result<Page<v1::Group>> r;
  api_.ListGroups(PageRequest{10, "c1"}, kCachedReadOk, absl::InfiniteFuture(), r.Into());
  EXPECT_EQ(Only().url, "http://upstream.test/v1/groups?limit=10&cursor=c1");
  ASSERT_TRUE(r.value.has_value());
  EXPECT_EQ(r.value->status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(InfoOf(r.value->status()).reason(), "FIVETRAN_BAD_RESPONSE");
}

TEST_F(RestApiTest, AnUnreadableItemFailsThePage) {
  transport_.Script({Http(200, R"({"code":"Success","data":{"items":[{"id":"u1"},{"id":5}]}})")});
  Result<Page<v1::User>> r;
  api_.ListUsers(false, PageRequest{100, ""}, kCachedReadOk, absl::InfiniteFuture(), r.Into());
  EXPECT_EQ(Only().url, "http://upstream.test/v1/users?limit=100&active=false");
  ASSERT_TRUE(r.value.has_value());
  EXPECT_EQ(InfoOf(r.value->status()).reason(), "FIVETRAN_BAD_RESPONSE");
}

TEST_F(RestApiTest, ListUsersWithoutAFilterSendsNone) {
  transport_.Script({Http(200, R"({"code":"Success","data":{"items":[{"id":"u1"}]}})")});
  Result<Page<v1::User>> r;
  api_.ListUsers(std::nullopt, PageRequest{3, ""}, kCachedReadOk, absl::InfiniteFuture(), r.Into());
  EXPECT_EQ(Only().url, "http://upstream.test/v1/users?limit=3");
  ASSERT_TRUE(r.value.has_value() && r.value->ok());
  EXPECT_EQ((*r.value)->items.at(0).id(), "u1");
  EXPECT_EQ((*r.value)->next_cursor, "");
}

TEST_F(RestApiTest, CreatePostsTheBodyAndMapsTheConnection) {
  v1::CreateConnectionRequest req;
  req.set_group_id("g");
  req.set_service("ftp");
  (*req.mutable_config()->mutable_fields())["schema"].set_string_value("ftp_in");
  absl::StatusOr<NewConnection> body = NewConnection::From(req);
  ASSERT_TRUE(body.ok()) << body.status();
  transport_.Script({Http(201, kConnection)});
  Result<v1::Connection> r;
  api_.CreateConnection(*body, absl::InfiniteFuture(), r.Into());
  HttpRequest sent = Only();
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.url, "http://upstream.test/v1/connections");
  EXPECT_EQ(nlohmann::json::parse(sent.body), body->body());
  ASSERT_TRUE(r.value.has_value() && r.value->ok());
  EXPECT_EQ((*r.value)->schema(), "ftp_in");
}

TEST_F(RestApiTest, ACreatedConnectionThatCannotBeReadSaysItWasApplied) {
  v1::CreateConnectionRequest req;
  req.set_group_id("g");
  req.set_service("ftp");
  (*req.mutable_config()->mutable_fields())["schema"].set_string_value("s");
  transport_.Script({Http(201, R"({"code":"Success","data":{"id":"new_one","paused":{}}})")});
  Result<v1::Connection> r;
  api_.CreateConnection(*NewConnection::From(req), absl::InfiniteFuture(), r.Into());
  ASSERT_TRUE(r.value.has_value());
  google::rpc::ErrorInfo info = InfoOf(r.value->status());
  EXPECT_EQ(info.reason(), "FIVETRAN_BAD_RESPONSE");
  EXPECT_EQ(info.metadata().at("outcome"), "applied");
  EXPECT_EQ(info.metadata().at("connection_id"), "new_one");
}

TEST_F(RestApiTest, AnInvalidCreateRequestNamesTheField) {
  v1::CreateConnectionRequest req;
  req.set_group_id("g");
  absl::StatusOr<NewConnection> body = NewConnection::From(req);
  ASSERT_FALSE(body.ok());
  EXPECT_EQ(body.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(InfoOf(body.status()).metadata().at("field"), "service");
  EXPECT_EQ(InfoOf(body.status()).reason(), "MISSING_FIELD");
}

TEST_F(RestApiTest, TriggerSyncPostsForceAndKeepsFivetransMessage) {
  transport_.Script({Http(200, R"({"code":"Success","message":"Sync has been triggered"})")});
  Result<SyncTriggered> r;
  api_.TriggerSync("decent_dropsy", true, absl::InfiniteFuture(), r.Into());
  HttpRequest sent = Only();
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.url, "http://upstream.test/v1/connections/decent_dropsy/sync");
  EXPECT_EQ(nlohmann::json::parse(sent.body), nlohmann::json({{"force", true}}));
  ASSERT_TRUE(r.value.has_value() && r.value->ok());
  EXPECT_EQ((*r.value)->message, "Sync has been triggered");
}

}  // namespace
}  // namespace fivetran_gateway::fivetran
