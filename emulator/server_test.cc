#include "emulator/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <regex>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "emulator/http_util.h"
#include "emulator/seed.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"

namespace fivetran_emulator {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    AccountOptions account_options;
    account_options.sync_duration = absl::Milliseconds(300);
    absl::StatusOr<std::unique_ptr<Account>> account =
        Account::Create(BuiltinSeed(), account_options);
    ASSERT_TRUE(account.ok());
    ServerOptions options;
    options.port = 0;
    options.keep_alive_timeout_sec = 1;
    options.rate_limit_per_hour = 500;
    emulator_ = std::make_unique<Emulator>(options, std::move(*account));
    ASSERT_TRUE(emulator_->Start().ok());
    ASSERT_GT(emulator_->port(), 0);
    cli_ = NewClient();
    cli_->set_basic_auth("demo_api_key", "demo_api_secret");
  }
  void TearDown() override {
    cli_.reset();
    emulator_->Stop();
  }

  std::unique_ptr<httplib::Client> NewClient() {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", emulator_->port());
    c->set_read_timeout(5, 0);
    c->set_connection_timeout(2, 0);
    return c;
  }

  static json Body(const httplib::Result& r) {
    EXPECT_TRUE(r) << "transport error " << httplib::to_string(r.error());
    if (!r) return json();
    json j = json::parse(r->body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r->body;
    return j;
  }

  httplib::Result Post(const std::string& path, const std::string& body) {
    return cli_->Post(path.c_str(), body, "application/json");
  }

  httplib::Result Admin(const std::string& path, const json& body) {
    auto c = NewClient();
    return c->Post(path.c_str(), body.dump(), "application/json");
  }

  std::unique_ptr<Emulator> emulator_;
  std::unique_ptr<httplib::Client> cli_;
};

TEST_F(ServerTest, AuthRequiredAndNeverEchoed) {
  auto anon = NewClient();
  httplib::Result r = anon->Get("/v1/groups");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(Body(r), json({{"code", "AuthFailed"}, {"message", "Invalid credentials"}}));
  anon->set_basic_auth("demo_api_key", "wrong_secret_value");
  r = anon->Get("/v1/groups");
  EXPECT_EQ(r->status, 401);
  EXPECT_THAT(r->body, Not(HasSubstr("wrong_secret_value")));
  anon->set_bearer_token_auth("demo_api_key");
  EXPECT_EQ(anon->Get("/v1/groups")->status, 401);
}

TEST_F(ServerTest, DetailsShapeAndLegacyPath) {
  httplib::Result r = cli_->Get("/v1/connections/decent_dropsy");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  json j = Body(r);
  EXPECT_EQ(j["code"], "Success");
  EXPECT_EQ(j["data"]["id"], "decent_dropsy");
  EXPECT_EQ(j["data"]["config"]["password"], "******");
  EXPECT_THAT(r->body, Not(HasSubstr("ftp-loader-pass")));
  const std::regex ts(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)");
  EXPECT_TRUE(std::regex_match(j["data"]["created_at"].get<std::string>(), ts));
  EXPECT_TRUE(j["data"]["failed_at"].is_null());
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  EXPECT_FALSE(r->get_header_value("X-Rate-Limit").empty());

  httplib::Result legacy = cli_->Get("/v1/connectors/decent_dropsy");
  ASSERT_TRUE(legacy);
  EXPECT_EQ(Body(legacy)["data"]["id"], "decent_dropsy");

  httplib::Result missing = cli_->Get("/v1/connections/no_such");
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(Body(missing), json({{"code", "NotFound_Connection"},
                                 {"message", "Connection with id 'no_such' does not exist."}}));
}

TEST_F(ServerTest, SpecialSeedShapes) {
  json crane = Body(cli_->Get("/v1/connections/unfinished_crane"))["data"];
  EXPECT_TRUE(crane["sync_frequency"].is_null());
  EXPECT_TRUE(crane["paused"].is_null());
  EXPECT_EQ(crane["status"]["setup_state"], "incomplete");
  json fox = Body(cli_->Get("/v1/connections/future_fox"))["data"];
  EXPECT_EQ(fox["service"], "brand_new_src");
  EXPECT_EQ(fox["status"]["sync_state"], "future_state");
  EXPECT_EQ(Body(cli_->Get("/v1/connections/drifting_port"))["data"]["config"]["port"], "5432");
  EXPECT_EQ(Body(cli_->Get("/v1/connections/terse_clock"))["data"]["succeeded_at"],
            "2026-03-01T06:00:00.000Z");
  json heron = Body(cli_->Get("/v1/connections/waiting_heron"))["data"];
  EXPECT_EQ(heron["status"]["sync_state"], "rescheduled");
  EXPECT_EQ(heron["schedule_type"], "manual");
  EXPECT_EQ(Body(cli_->Get("/v1/connections/cracked_vase"))["data"]["status"]["setup_state"],
            "broken");
  EXPECT_EQ(Body(cli_->Get("/v1/connections/sleepy_badger"))["data"]["paused"], true);
}

TEST_F(ServerTest, AcceptAndContentType) {
  for (const char* accept :
       {"*/*", "application/json", "application/json;version=2", "application/json; version=2"}) {
    EXPECT_EQ(cli_->Get("/v1/groups", {{"Accept", accept}})->status, 200) << accept;
  }
  for (const char* accept : {"text/html", "application/xml", "application/json;version=3"}) {
    httplib::Result r = cli_->Get("/v1/groups", {{"Accept", accept}});
    EXPECT_EQ(r->status, 406) << accept;
    EXPECT_EQ(Body(r)["code"], "NotAcceptable");
  }
  EXPECT_EQ(cli_->Post("/v1/connections/decent_dropsy/sync", "{}", "text/plain")->status, 415);
  EXPECT_EQ(
      cli_->Post("/v1/connections/decent_dropsy/sync", "{}", "application/json;version=2")->status,
      200);
  EXPECT_EQ(
      cli_->Post("/v1/connections/decent_dropsy/sync", "{}", "application/json; charset=utf-8")
          ->status,
      200);
  httplib::Result bad = Post("/v1/connections", "{not json");
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(Body(bad)["code"], "InvalidInput");
  EXPECT_EQ(Post("/v1/connections", "[1,2]")->status, 400);
  EXPECT_EQ(Post("/v1/connections", "\"text\"")->status, 400);
  EXPECT_EQ(Post("/v1/connections/decent_dropsy/sync", "[]")->status, 400);
  EXPECT_EQ(Post("/v1/connections", std::string(10000, '[') + std::string(10000, ']'))->status,
            400);
}

TEST_F(ServerTest, UnknownPathsAndMethods) {
  httplib::Result r = cli_->Get("/v1/nothing/here");
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(Body(r)["code"], "NotFound");
  r = cli_->Delete("/v1/groups");
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(Body(r)["code"], "MethodNotAllowed");
  EXPECT_EQ(cli_->Get("/v1/connections/decent_dropsy/sync")->status, 405);
  EXPECT_EQ(cli_->Put("/v1/users", "{}", "application/json")->status, 405);
  EXPECT_EQ(cli_->Get("/v1/groups/nope/connections")->status, 404);
  EXPECT_EQ(Body(cli_->Get("/v1/groups/nope/connections"))["code"], "NotFound_Group");
  EXPECT_EQ(cli_->Get("/v1/connections/")->status, 200);  // trailing slash = list
  for (const std::string& path : std::vector<std::string>{
           "/v1//groups", "/v1/groups/../users", "/v1/%ff%00", "/%", "/v1/connections/%zz",
           "/v1/connections/a/b/c/d", std::string("/v1/") + std::string(7000, 'x')}) {
    httplib::Result weird = cli_->Get(path.c_str());
    ASSERT_TRUE(weird) << path;
    EXPECT_EQ(weird->status, 404) << path;
  }
}

TEST_F(ServerTest, GroupConnectionsPaginationAndFilters) {
  std::set<std::string> ids;
  std::string cursor;
  int pages = 0;
  do {
    std::string path = "/v1/groups/amber_fjord/connections?limit=100";
    if (!cursor.empty()) path += "&cursor=" + cursor;
    json data = Body(cli_->Get(path.c_str()))["data"];
    ++pages;
    for (const json& c : data["items"]) ids.insert(c["id"].get<std::string>());
    cursor = data.contains("next_cursor") ? data["next_cursor"].get<std::string>() : "";
    if (data.contains("next_cursor")) {
      EXPECT_FALSE(cursor.empty());
    }
  } while (!cursor.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(ids.size(), 260u);

  json one = Body(cli_->Get("/v1/groups/projected_sickle/connections?schema=ftp_ingest.orders"));
  ASSERT_EQ(one["data"]["items"].size(), 1u);
  EXPECT_EQ(one["data"]["items"][0]["id"], "decent_dropsy");
  EXPECT_FALSE(one["data"].contains("next_cursor"));
  EXPECT_EQ(Body(cli_->Get("/v1/groups/empty_meadow/connectors"))["data"]["items"].size(), 0u);

  for (const char* bad : {"limit=0", "limit=1001", "limit=abc", "limit=-5", "limit=", "cursor=%%%",
                          "cursor=eyJza2lwIjozfQ", "limit=99999999999999999"}) {
    httplib::Result r =
        cli_->Get((std::string("/v1/groups/amber_fjord/connections?") + bad).c_str());
    EXPECT_EQ(r->status, 400) << bad;
    EXPECT_EQ(Body(r)["code"], "InvalidInput") << bad;
  }
  json all = Body(cli_->Get("/v1/connections?group_id=quiet_harbor"));
  EXPECT_EQ(all["data"]["items"].size(), 3u);
  EXPECT_EQ(cli_->Get("/v1/connections?group_id=nope")->status, 404);
}

// Listings are written from text made per item (WriteSuccessText): the body
// must be exactly what writing the parsed envelope gives, and every listed
// connection must equal its details.
TEST_F(ServerTest, ListingBodiesAreTheEnvelopeAsDumped) {
  for (const char* path :
       {"/v1/groups/amber_fjord/connections?limit=3", "/v1/groups/projected_sickle/connections",
        "/v1/groups/empty_meadow/connections", "/v1/connections?limit=2", "/v1/groups",
        "/v1/users?limit=2", "/v1/users?active=false"}) {
    httplib::Result r = cli_->Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 200) << path;
    const json body = Body(r);
    EXPECT_EQ(DumpJson(body), r->body) << path;
    EXPECT_EQ(body["code"], "Success") << path;
  }
  const json listed = Body(cli_->Get("/v1/groups/projected_sickle/connections"))["data"];
  ASSERT_FALSE(listed["items"].empty());
  for (const json& c : listed["items"]) {
    const std::string id = c["id"];
    EXPECT_EQ(c, Body(cli_->Get(("/v1/connections/" + id).c_str()))["data"]) << id;
  }
}

TEST_F(ServerTest, UsersActiveFilter) {
  int active = 0, inactive = 0, total = 0;
  for (const char* filter : {"true", "false", ""}) {
    std::string cursor;
    int count = 0;
    do {
      std::string path = std::string("/v1/users?limit=50") +
                         (*filter ? std::string("&active=") + filter : "") +
                         (cursor.empty() ? "" : "&cursor=" + cursor);
      json data = Body(cli_->Get(path.c_str()))["data"];
      for (const json& u : data["items"]) {
        ++count;
        if (*filter) {
          EXPECT_EQ(u["active"], std::string(filter) == "true");
        }
      }
      cursor = data.value("next_cursor", "");
    } while (!cursor.empty());
    (std::string(filter) == "true"    ? active
     : std::string(filter) == "false" ? inactive
                                      : total) = count;
  }
  EXPECT_GE(total, 120);
  EXPECT_GT(inactive, 0);
  EXPECT_EQ(active + inactive, total);
  EXPECT_EQ(cli_->Get("/v1/users?active=maybe")->status, 400);
}

TEST_F(ServerTest, CreateFtpConnection) {
  json body{{"group_id", "projected_sickle"},
            {"service", "ftp"},
            {"run_setup_tests", true},
            {"trust_certificates", "true"},
            {"schedule_type", "manual"},
            {"config",
             {{"schema", "ftp_new"},
              {"table", "orders"},
              {"host", "ftp.example.net"},
              {"port", 21},
              {"user", "loader"},
              {"password", "topsecret"},
              {"file_type", "csv"},
              {"compression", "uncompressed"},
              {"on_error", "fail"},
              {"append_file_option", "upsert_file"}}}};
  httplib::Result r = Post("/v1/connections", body.dump());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201);
  EXPECT_THAT(r->body, Not(HasSubstr("topsecret")));
  json c = Body(r)["data"];
  EXPECT_EQ(c["schema"], "ftp_new.orders");
  EXPECT_EQ(c["status"]["setup_state"], "connected");
  EXPECT_EQ(c["config"]["password"], "******");
  json listed = Body(cli_->Get("/v1/groups/projected_sickle/connections?schema=ftp_new.orders"));
  ASSERT_EQ(listed["data"]["items"].size(), 1u);
  EXPECT_EQ(listed["data"]["items"][0]["id"], c["id"]);
  httplib::Result dup = Post("/v1/connections", body.dump());
  EXPECT_EQ(dup->status, 409);
  EXPECT_EQ(Body(dup)["code"], "Conflict");

  body["config"].erase("host");
  httplib::Result missing = Post("/v1/connectors/", body.dump());
  EXPECT_EQ(missing->status, 400);
  EXPECT_EQ(Body(missing)["message"], "Field 'host' is required");
  EXPECT_EQ(Post("/v1/connections", R"({"group_id":"nope","service":"ftp"})")->status, 404);
}

TEST_F(ServerTest, SyncEndEndsTheRunningSyncNow) {
  // Nothing running: 200, "ended": false.
  httplib::Result idle = Admin("/_emulator/connections/fresh_otter/sync_end", json::object());
  ASSERT_TRUE(idle);
  EXPECT_EQ(idle->status, 200);
  EXPECT_EQ(Body(idle)["data"], json({{"id", "fresh_otter"}, {"ended", false}}));

  ASSERT_EQ(Admin("/_emulator/connections/fresh_otter/sync_outcome", json{{"duration_ms", 600000}})
                ->status,
            200);
  ASSERT_EQ(Post("/v1/connections/fresh_otter/sync", "{}")->status, 200);
  EXPECT_EQ(Body(cli_->Get("/v1/connections/fresh_otter"))["data"]["status"]["sync_state"],
            "syncing");
  httplib::Result ended = Admin("/_emulator/connections/fresh_otter/sync_end", json::object());
  ASSERT_TRUE(ended);
  EXPECT_EQ(ended->status, 200);
  EXPECT_EQ(Body(ended)["data"], json({{"id", "fresh_otter"}, {"ended", true}}));
  const json after = Body(cli_->Get("/v1/connections/fresh_otter"))["data"];
  EXPECT_EQ(after["status"]["sync_state"], "scheduled");
  EXPECT_FALSE(after["succeeded_at"].is_null());

  EXPECT_EQ(Admin("/_emulator/connections/nope/sync_end", json::object())->status, 404);
  EXPECT_EQ(NewClient()->Get("/_emulator/connections/fresh_otter/sync_end")->status, 405);
}

TEST_F(ServerTest, SyncLifecycleOverHttp) {
  const json before = Body(cli_->Get("/v1/connections/fresh_otter"))["data"];
  EXPECT_TRUE(before["succeeded_at"].is_null());
  httplib::Result r = Post("/v1/connections/fresh_otter/sync", R"({"force":false})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(Body(r), json({{"code", "Success"},
                           {"message",
                            "Sync has been successfully triggered for connection "
                            "with id 'fresh_otter'"}}));
  EXPECT_EQ(Body(cli_->Get("/v1/connections/fresh_otter"))["data"]["status"]["sync_state"],
            "syncing");
  absl::SleepFor(absl::Milliseconds(400));
  json after = Body(cli_->Get("/v1/connections/fresh_otter"))["data"];
  EXPECT_EQ(after["status"]["sync_state"], "scheduled");
  EXPECT_FALSE(after["succeeded_at"].is_null());

  ASSERT_EQ(Admin("/_emulator/connections/fresh_otter/sync_outcome",
                  json{{"outcome", "failure"}, {"duration_ms", 50}})
                ->status,
            200);
  // Legacy /force (no body at all, no Content-Length either).
  httplib::Result force = cli_->Post("/v1/connectors/fresh_otter/force", "", "application/json");
  EXPECT_EQ(force->status, 200);
  absl::SleepFor(absl::Milliseconds(150));
  json failed = Body(cli_->Get("/v1/connections/fresh_otter"))["data"];
  EXPECT_FALSE(failed["failed_at"].is_null());
  EXPECT_GT(failed["failed_at"].get<std::string>(), after["succeeded_at"].get<std::string>());

  EXPECT_EQ(Post("/v1/connections/unfinished_crane/sync", "")->status, 400);
  EXPECT_EQ(Post("/v1/connections/sleepy_badger/sync", "")->status, 200);
  EXPECT_EQ(Post("/v1/connections/nope/sync", "")->status, 404);
  EXPECT_EQ(Post("/v1/connections/fresh_otter/sync", R"({"force":"yes"})")->status, 400);
}

// Sends `request` on a fresh socket and returns what came back before the
// server closed the connection or `timeout` passed.
std::string RawExchange(int port, const std::string& request, absl::Duration timeout) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return "";
  }
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(absl::ToInt64Seconds(timeout));
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  (void)!write(fd, request.data(), request.size());
  std::string out;
  char buf[4096];
  while (true) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.find("\r\n\r\n") != std::string::npos &&
        out.find("Content-Length: ") != std::string::npos) {
      const size_t header_end = out.find("\r\n\r\n") + 4;
      const size_t cl = out.find("Content-Length: ");
      const size_t len = std::stoul(out.substr(cl + 16));
      if (out.size() >= header_end + len) break;
    }
  }
  close(fd);
  return out;
}

TEST_F(ServerTest, PostWithoutContentLengthIsServedPromptly) {
  const absl::Time start = absl::Now();
  const std::string response =
      RawExchange(emulator_->port(),
                  "POST /v1/connections/decent_dropsy/sync HTTP/1.1\r\nHost: x\r\n"
                  "Authorization: Basic ZGVtb19hcGlfa2V5OmRlbW9fYXBpX3NlY3JldA==\r\n"
                  "Content-Type: application/json\r\n\r\n",
                  absl::Seconds(5));
  EXPECT_THAT(response, HasSubstr("HTTP/1.1 200"));
  EXPECT_THAT(response, HasSubstr("Sync has been successfully triggered"));
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
}

TEST_F(ServerTest, GarbageRequestsDoNotCrash) {
  for (const std::string& junk : std::vector<std::string>{
           "GARBAGE\r\n\r\n", "GET\r\n\r\n", std::string(20000, 'A') + "\r\n\r\n",
           "GET /v1/groups HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
           "POST /v1/connections HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n{"}) {
    RawExchange(emulator_->port(), junk, absl::Seconds(2));
  }
  EXPECT_EQ(cli_->Get("/v1/groups")->status, 200);
}

TEST_F(ServerTest, FaultsStatusHtmlDropTruncateLatency) {
  ASSERT_EQ(Admin("/_emulator/faults", json{{"path_prefix", "/v1/groups"},
                                            {"method", "GET"},
                                            {"count", 2},
                                            {"kind", "status"},
                                            {"status", 503},
                                            {"retry_after", "2"}})
                ->status,
            200);
  EXPECT_EQ(cli_->Get("/v1/users")->status, 200);  // other prefix unaffected
  for (int i = 0; i < 2; ++i) {
    httplib::Result r = cli_->Get("/v1/groups");
    EXPECT_EQ(r->status, 503);
    EXPECT_EQ(r->get_header_value("Retry-After"), "2");
    EXPECT_EQ(Body(r)["code"], "ServiceUnavailable");
  }
  EXPECT_EQ(cli_->Get("/v1/groups")->status, 200);

  Admin("/_emulator/faults", json{{"kind", "status"},
                                  {"status", 429},
                                  {"retry_after", "1800"},
                                  {"code", "TooManyRequests"},
                                  {"message", "Max 20000"}});
  httplib::Result limited = cli_->Get("/v1/groups");
  EXPECT_EQ(limited->status, 429);
  EXPECT_EQ(limited->get_header_value("Retry-After"), "1800");
  EXPECT_EQ(Body(limited)["message"], "Max 20000");

  Admin("/_emulator/faults", json{{"kind", "html"}, {"status", 502}});
  httplib::Result html = cli_->Get("/v1/groups");
  EXPECT_EQ(html->status, 502);
  EXPECT_THAT(html->get_header_value("Content-Type"), HasSubstr("text/html"));

  Admin("/_emulator/faults", json{{"kind", "drop"}});
  httplib::Result dropped = NewClient()->Get("/v1/groups");
  EXPECT_FALSE(dropped);
  Admin("/_emulator/faults", json{{"kind", "truncate"}});
  auto c = NewClient();
  c->set_basic_auth("demo_api_key", "demo_api_secret");
  httplib::Result cut = c->Get("/v1/groups");
  EXPECT_TRUE(!cut || json::parse(cut->body, nullptr, false).is_discarded());
  Admin("/_emulator/faults", json{{"kind", "truncate"}, {"mode", "cut_json"}});
  httplib::Result cut_json = cli_->Get("/v1/groups");
  ASSERT_TRUE(cut_json);
  EXPECT_EQ(cut_json->status, 200);
  EXPECT_TRUE(json::parse(cut_json->body, nullptr, false).is_discarded());

  Admin("/_emulator/faults", json{{"kind", "latency"}, {"latency_ms", 300}});
  const absl::Time start = absl::Now();
  EXPECT_EQ(cli_->Get("/v1/groups")->status, 200);
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(290));

  Admin("/_emulator/faults", json{{"kind", "status"}, {"count", -1}});
  EXPECT_EQ(cli_->Get("/v1/groups")->status, 503);
  EXPECT_EQ(cli_->Get("/v1/groups")->status, 503);
  EXPECT_EQ(NewClient()->Delete("/_emulator/faults")->status, 200);
  EXPECT_EQ(cli_->Get("/v1/groups")->status, 200);
  EXPECT_EQ(Admin("/_emulator/faults", json{{"kind", "explode"}})->status, 400);
  EXPECT_EQ(Admin("/_emulator/faults", json{{"count", 0}})->status, 400);
}

TEST_F(ServerTest, ApplyThenFailFaults) {
  const json create{{"group_id", "quiet_harbor"},
                    {"service", "postgres"},
                    {"config", {{"schema", "pg_applied"}, {"host", "h"}}}};
  auto schema_count = [&](const std::string& schema) {
    return Body(cli_->Get(
        ("/v1/groups/quiet_harbor/connections?schema=" + schema).c_str()))["data"]["items"]
        .size();
  };
  // A plain fault answers before the create is applied.
  ASSERT_EQ(Admin("/_emulator/faults", json{{"method", "POST"}, {"kind", "status"}})->status, 200);
  EXPECT_EQ(Post("/v1/connections", create.dump())->status, 503);
  EXPECT_EQ(schema_count("pg_applied"), 0u);

  // apply_first: the create is applied, then answered with a 503 HTML page.
  httplib::Result queued = Admin("/_emulator/faults", json{{"path_prefix", "/v1/connections"},
                                                           {"method", "POST"},
                                                           {"kind", "html"},
                                                           {"status", 503},
                                                           {"apply_first", true}});
  ASSERT_EQ(queued->status, 200);
  EXPECT_EQ(Body(queued)["data"]["apply_first"], true);
  httplib::Result failed = Post("/v1/connections", create.dump());
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, 503);
  EXPECT_THAT(failed->get_header_value("Content-Type"), HasSubstr("text/html"));
  EXPECT_THAT(failed->body, HasSubstr("503 Service Unavailable"));
  EXPECT_THAT(failed->body, Not(HasSubstr("pg_applied")));
  EXPECT_EQ(schema_count("pg_applied"), 1u);
  // So a client that sends the create again gets a conflict.
  EXPECT_EQ(Post("/v1/connections", create.dump())->status, 409);

  // apply_first drop: the sync is triggered, the client gets no answer at all.
  ASSERT_EQ(Admin("/_emulator/connections/fresh_otter/sync_outcome", json{{"duration_ms", 60000}})
                ->status,
            200);
  ASSERT_EQ(Admin("/_emulator/faults", json{{"path_prefix", "/v1/connections/fresh_otter/sync"},
                                            {"kind", "drop"},
                                            {"apply_first", true}})
                ->status,
            200);
  auto c = NewClient();
  c->set_basic_auth("demo_api_key", "demo_api_secret");
  EXPECT_FALSE(c->Post("/v1/connections/fresh_otter/sync", "{}", "application/json"));
  EXPECT_EQ(Body(cli_->Get("/v1/connections/fresh_otter"))["data"]["status"]["sync_state"],
            "syncing");

  // The request log tells what was applied and what the client got.
  json log = Body(NewClient()->Get("/_emulator/requests"));
  std::vector<json> posts;
  for (const json& r : log["requests"]) {
    if (r["method"] == "POST") posts.push_back(r);
  }
  ASSERT_EQ(posts.size(), 4u);
  EXPECT_EQ(posts[0]["status"], 503);
  EXPECT_EQ(posts[0]["fault"]["kind"], "status");
  EXPECT_EQ(posts[0]["fault"]["apply_first"], false);
  EXPECT_FALSE(posts[0]["fault"].contains("served_status"));
  EXPECT_EQ(posts[1]["status"], 503);
  EXPECT_EQ(posts[1]["fault"]["kind"], "html");
  EXPECT_EQ(posts[1]["fault"]["apply_first"], true);
  EXPECT_EQ(posts[1]["fault"]["served_status"], 201);
  EXPECT_EQ(posts[2]["status"], 409);
  EXPECT_TRUE(posts[2]["fault"].is_null());
  EXPECT_EQ(posts[3]["status"], 0);
  EXPECT_EQ(posts[3]["fault"]["kind"], "drop");
  EXPECT_EQ(posts[3]["fault"]["served_status"], 200);

  EXPECT_EQ(Admin("/_emulator/faults", json{{"apply_first", "yes"}})->status, 400);
  EXPECT_EQ(Admin("/_emulator/faults", json{{"kind", "truncate"}, {"apply_first", true}})->status,
            400);
  EXPECT_EQ(Body(NewClient()->Get("/_emulator/faults"))["data"]["items"].size(), 0u);
}

TEST_F(ServerTest, ApplyThenDelayOutlastsTheClient) {
  ASSERT_EQ(Admin("/_emulator/faults", json{{"method", "POST"},
                                            {"kind", "latency"},
                                            {"latency_ms", 1000},
                                            {"apply_first", true}})
                ->status,
            200);
  auto c = NewClient();
  c->set_basic_auth("demo_api_key", "demo_api_secret");
  c->set_read_timeout(0, 100000);  // 100 ms
  const json create{{"group_id", "quiet_harbor"},
                    {"service", "postgres"},
                    {"config", {{"schema", "pg_slow"}, {"host", "h"}}}};
  const absl::Time start = absl::Now();
  EXPECT_FALSE(c->Post("/v1/connections", create.dump(), "application/json"));
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(900));
  // The create is applied before the delay starts; on a loaded machine the
  // client may give up before that, so wait for it (well within the delay).
  size_t found = 0;
  while (true) {
    found = Body(cli_->Get("/v1/groups/quiet_harbor/connections?schema=pg_slow"))["data"]["items"]
                .size();
    if (found > 0 || absl::Now() - start > absl::Seconds(5)) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(found, 1u);
}

TEST_F(ServerTest, RequestLogNeverHoldsCredentials) {
  ASSERT_EQ(NewClient()->Delete("/_emulator/requests")->status, 200);
  cli_->Get("/v1/groups?limit=5", {{"User-Agent", "test-agent/1"}});
  cli_->Get("/v1/groups/x/../../users");
  json log = Body(NewClient()->Get("/_emulator/requests"));
  ASSERT_EQ(log["count"], 2);
  const json& first = log["requests"][0];
  EXPECT_EQ(first["method"], "GET");
  EXPECT_EQ(first["path"], "/v1/groups");
  EXPECT_EQ(first["query"], "limit=5");
  EXPECT_EQ(first["headers"]["user-agent"], "test-agent/1");
  EXPECT_EQ(first["headers"]["has_authorization"], true);
  EXPECT_EQ(first["status"], 200);
  EXPECT_FALSE(first["headers"].contains("authorization"));
  EXPECT_EQ(log["requests"][1]["path"], "/v1/groups/x/../../users");
  EXPECT_THAT(log.dump(), Not(HasSubstr("ZGVtb19hcGlfa2V5")));
  EXPECT_THAT(log.dump(), Not(HasSubstr("demo_api_secret")));
}

TEST_F(ServerTest, RequestLogIsBounded) {
  for (int i = 0; i < 1005; ++i) cli_->Get("/_nothing");
  json log = Body(NewClient()->Get("/_emulator/requests"));
  EXPECT_EQ(log["count"], 1000);
}

TEST_F(ServerTest, RateLimitHeadersAnd429) {
  httplib::Result a = cli_->Get("/v1/groups");
  httplib::Result b = cli_->Get("/v1/groups");
  EXPECT_EQ(a->get_header_value("X-Rate-Limit"), "500");
  EXPECT_EQ(std::stoi(a->get_header_value("X-Rate-Limit-Remaining")),
            std::stoi(b->get_header_value("X-Rate-Limit-Remaining")) + 1);
  ASSERT_EQ(Admin("/_emulator/rate_limit", json{{"limit_per_hour", 2}})->status, 200);
  EXPECT_EQ(cli_->Get("/v1/groups")->status, 200);
  EXPECT_EQ(cli_->Get("/v1/groups")->status, 200);
  httplib::Result limited = cli_->Get("/v1/groups");
  EXPECT_EQ(limited->status, 429);
  EXPECT_EQ(Body(limited)["code"], "TooManyRequests");
  EXPECT_EQ(limited->get_header_value("X-Rate-Limit-Remaining"), "0");
  EXPECT_GT(std::stoi(limited->get_header_value("Retry-After")), 3000);
  ASSERT_EQ(Admin("/_emulator/reset", json::object())->status, 200);
  EXPECT_EQ(cli_->Get("/v1/groups")->status, 200);
}

TEST_F(ServerTest, ResetRestoresSeed) {
  json body{{"group_id", "quiet_harbor"},
            {"service", "postgres"},
            {"config", {{"schema", "pg_reset"}, {"host", "h"}}}};
  json c = Body(Post("/v1/connections", body.dump()))["data"];
  EXPECT_EQ(cli_->Get(("/v1/connections/" + c["id"].get<std::string>()).c_str())->status, 200);
  ASSERT_EQ(Admin("/_emulator/reset", json::object())->status, 200);
  EXPECT_EQ(cli_->Get(("/v1/connections/" + c["id"].get<std::string>()).c_str())->status, 404);
}

TEST_F(ServerTest, KeepAliveReusesConnections) {
  ASSERT_EQ(NewClient()->Delete("/_emulator/requests")->status, 200);
  cli_->set_keep_alive(true);
  for (int i = 0; i < 20; ++i) ASSERT_EQ(cli_->Get("/v1/groups")->status, 200);
  // A second client has a connection of its own, so ports tell connections apart.
  auto other = NewClient();
  other->set_basic_auth("demo_api_key", "demo_api_secret");
  ASSERT_EQ(other->Get("/v1/users")->status, 200);

  const json log = Body(NewClient()->Get("/_emulator/requests"));
  ASSERT_EQ(log["count"], 21);
  std::set<int> ports;
  for (int i = 0; i < 20; ++i) {
    const json& r = log["requests"][i];
    EXPECT_EQ(r["path"], "/v1/groups");
    EXPECT_EQ(r["remote_addr"], "127.0.0.1");
    ports.insert(r["remote_port"].get<int>());
  }
  EXPECT_EQ(ports.size(), 1u) << "20 keep-alive requests came over " << ports.size()
                              << " connections";
  EXPECT_EQ(log["requests"][20]["path"], "/v1/users");
  EXPECT_EQ(ports.count(log["requests"][20]["remote_port"].get<int>()), 0u);
}

TEST(ListenAddress, Parses) {
  std::string host;
  int port = -1;
  ASSERT_TRUE(ParseListenAddress("127.0.0.1:0", &host, &port).ok());
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 0);
  ASSERT_TRUE(ParseListenAddress("[::1]:8089", &host, &port).ok());
  EXPECT_EQ(host, "::1");
  EXPECT_FALSE(ParseListenAddress("nohost", &host, &port).ok());
  EXPECT_FALSE(ParseListenAddress("h:99999", &host, &port).ok());
}

}  // namespace
}  // namespace fivetran_emulator
