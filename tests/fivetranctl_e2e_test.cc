// End-to-end: the fivetranctl binary, run as a subprocess against the real gateway in front of
// the real emulator. JSON output is compared with the emulator's REST data; errors with the
// documented exit codes (client/fivetranctl/README.md).
#include <fcntl.h>
#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/ctl_harness.h"
#include "tests/harness.h"

namespace fivetran_gateway::testing {
namespace {

using google::protobuf::util::TimeUtil;
using nlohmann::json;

json ParseJson(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << text.substr(0, 500);
  return j;
}

// A loopback port nobody listens on.
int ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

void ExpectSameTime(const json& got, const json& rest, const std::string& what) {
  if (rest.is_null() || rest == "") {
    EXPECT_TRUE(got.is_null()) << what << ": " << got;
    return;
  }
  ASSERT_TRUE(got.is_string()) << what;
  google::protobuf::Timestamp a, b;
  ASSERT_TRUE(TimeUtil::FromString(got.get<std::string>(), &a)) << got;
  ASSERT_TRUE(TimeUtil::FromString(rest.get<std::string>(), &b)) << rest;
  EXPECT_EQ(a, b) << what;
}

// fivetranctl's proto3 JSON of a connection == Fivetran's JSON from the emulator.
void ExpectConnectionMatchesRest(const json& got, const json& rest) {
  SCOPED_TRACE(rest.value("id", "?"));
  EXPECT_EQ(got["id"], rest["id"]);
  EXPECT_EQ(got["group_id"], rest["group_id"]);
  EXPECT_EQ(got["service"], rest["service"]);
  EXPECT_EQ(got["schema"], rest["schema"]);
  EXPECT_EQ(got["status"]["setup_state_raw"], rest["status"]["setup_state"]);
  EXPECT_EQ(got["status"]["sync_state_raw"], rest["status"]["sync_state"]);
  for (const char* key : {"paused", "sync_frequency"}) {
    json want = rest.value(key, json());
    // Fivetran may send "360" or "true" (the gateway accepts both).
    if (want.is_string() && want.get<std::string>().empty()) want = nullptr;
    if (want.is_string()) {
      std::string s = want.get<std::string>();
      want = std::string(key) == "paused" ? json(s == "true" || s == "TRUE" || s == "True")
                                          : json(std::stoi(s));
    }
    if (!want.is_null()) {
      EXPECT_EQ(got.value(key, json()), want) << key;
    } else {
      EXPECT_FALSE(got.contains(key)) << key;
    }
  }
  EXPECT_EQ(got.value("schedule_type_raw", ""), rest.value("schedule_type", ""));
  ExpectSameTime(got.value("created_at", json()), rest.value("created_at", json()), "created_at");
  ExpectSameTime(got.value("succeeded_at", json()), rest.value("succeeded_at", json()),
                 "succeeded_at");
  ExpectSameTime(got.value("failed_at", json()), rest.value("failed_at", json()), "failed_at");
  if (rest.contains("config") && rest["config"].is_object()) {
    EXPECT_EQ(got["config"], rest["config"]);
  }
}

// The POST .../sync requests the emulator received.
std::vector<json> SyncRequestsOf(Emulator* emulator) {
  std::vector<json> out;
  for (const json& r : emulator->Requests()) {
    const std::string path = r["path"];
    if (r["method"] == "POST" && path.size() > 5 && path.substr(path.size() - 5) == "/sync") {
      out.push_back(r);
    }
  }
  return out;
}

class FivetranctlE2ETest : public StackTest {
 protected:
  static void SetUpTestSuite() { StartStack(); }

  // fivetranctl --server <gateway> args...
  static Result Ctl(std::vector<std::string> args, std::map<std::string, std::string> env = {},
                    const std::string& stdin_file = "/dev/null") {
    args.insert(args.begin(), {"--server", gateway_->address()});
    return RunCtl(args, std::move(env), stdin_file);
  }

  static std::vector<json> SyncRequests() { return SyncRequestsOf(emulator_); }
  static json RestConnection(const std::string& id) {
    HttpReply r = emulator_->Rest("GET", "/v1/connections/" + id);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json["data"];
  }

  // The bodies of the POST /v1/connections requests the emulator received.
  static std::vector<json> CreateBodies() {
    std::vector<json> out;
    for (const json& r : emulator_->Requests()) {
      if (r["method"] == "POST" && r["path"] == "/v1/connections") {
        out.push_back(json::parse(r["body"].get<std::string>()));
      }
    }
    return out;
  }
};

TEST_F(FivetranctlE2ETest, GetPrintsTheConnectionAsJson) {
  for (const char* id : {"decent_dropsy", "fresh_otter", "sleepy_badger", "unfinished_crane"}) {
    Result r = Ctl({"connections", "get", id, "--output", "json"});
    ASSERT_EQ(r.code, 0) << Describe(r);
    ExpectConnectionMatchesRest(ParseJson(r.out), RestConnection(id));
  }
  // `connectors` is an alias; jsonl is the same object on one line; flags may come first.
  Result r = Ctl({"-o", "jsonl", "connectors", "get", "sleepy_badger"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  ASSERT_EQ(Lines(r.out).size(), 1u);
  json got = ParseJson(r.out);
  ExpectConnectionMatchesRest(got, RestConnection("sleepy_badger"));
  EXPECT_EQ(got["paused"], true);
}

TEST_F(FivetranctlE2ETest, GetTableShowsStatesTimesAndConfig) {
  Result r = Ctl({"connections", "get", "decent_dropsy"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  EXPECT_NE(r.out.find("decent_dropsy"), std::string::npos) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("setup state: +connected"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("last success: +\\d{4}-\\d\\d-\\d\\dT")))
      << r.out;
  EXPECT_NE(r.out.find("password: ******"), std::string::npos) << r.out;
  r = Ctl({"connections", "get", "sleepy_badger"});
  EXPECT_TRUE(std::regex_search(r.out, std::regex("paused: +yes"))) << r.out;
}

TEST_F(FivetranctlE2ETest, GroupsListPagesAndAllMatchRest) {
  std::vector<json> expected = emulator_->ListAll("/v1/groups");
  ASSERT_GE(expected.size(), 3u);

  Result r = Ctl({"groups", "list", "--all", "--page-size", "2", "-o", "json"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  json all = ParseJson(r.out);
  ASSERT_EQ(all["groups"].size(), expected.size()) << r.out;
  EXPECT_EQ(all["next_page_token"], "");
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(all["groups"][i]["id"], expected[i]["id"]);
    EXPECT_EQ(all["groups"][i]["name"], expected[i]["name"]);
    ExpectSameTime(all["groups"][i]["created_at"], expected[i]["created_at"], "created_at");
  }

  // One page by default, with the token of the next one.
  r = Ctl({"groups", "list", "--page-size", "2", "-o", "json"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  json page1 = ParseJson(r.out);
  ASSERT_EQ(page1["groups"].size(), 2u);
  std::string token = page1["next_page_token"];
  ASSERT_FALSE(token.empty());
  r = Ctl({"groups", "list", "--page-size", "2", "--page-token", token, "-o", "jsonl"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(ParseJson(lines[0])["id"], expected[2]["id"]);

  // Table: a header, aligned rows, the next token on stderr.
  r = Ctl({"groups", "list", "--page-size", "2"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  EXPECT_EQ(lines[0].rfind("ID", 0), 0u);
  EXPECT_EQ(lines[0].find("NAME"), lines[1].find(expected[0]["name"].get<std::string>()));
  EXPECT_NE(r.err.find("--page-token "), std::string::npos) << r.err;
}

TEST_F(FivetranctlE2ETest, AllReturnsEveryConnectionOfA260ConnectionGroupOnce) {
  std::vector<json> expected = emulator_->ListAll("/v1/groups/amber_fjord/connections");
  ASSERT_GE(expected.size(), 250u);
  std::map<std::string, json> by_id;
  for (const json& c : expected) by_id[c["id"]] = c;
  emulator_->ClearRequests();

  Result r =
      Ctl({"groups", "connections", "amber_fjord", "--all", "--page-size", "100", "-o", "jsonl"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), expected.size());
  std::multiset<std::string> seen;
  for (const std::string& line : lines) {
    json c = ParseJson(line);
    seen.insert(c["id"].get<std::string>());
    ASSERT_TRUE(by_id.count(c["id"])) << c["id"];
    ExpectConnectionMatchesRest(c, by_id[c["id"]]);
  }
  for (const auto& [id, c] : by_id) EXPECT_EQ(seen.count(id), 1u) << id;
  // Three pages of 100 went upstream.
  int pages = 0;
  for (const json& req : emulator_->Requests()) {
    pages += req["path"] == "/v1/groups/amber_fjord/connections";
  }
  EXPECT_EQ(pages, 3);

  // JSON: one document with every row; table: one row per connection, nothing cut (stdout is
  // not a terminal). --all without --page-size asks for the largest pages (1000): one request
  // upstream for these ~260 connections, not three, of the account's hourly budget.
  emulator_->ClearRequests();
  r = Ctl({"groups", "connections", "amber_fjord", "--all", "-o", "json"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  json doc = ParseJson(r.out);
  EXPECT_EQ(doc["connections"].size(), expected.size());
  EXPECT_EQ(doc["next_page_token"], "");
  pages = 0;
  for (const json& req : emulator_->Requests()) {
    if (req["path"] == "/v1/groups/amber_fjord/connections") {
      ++pages;
      EXPECT_EQ(req["query"], "limit=1000");
    }
  }
  EXPECT_EQ(pages, 1);
  r = Ctl({"groups", "connections", "amber_fjord", "--all", "--page-size", "100"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  lines = Lines(r.out);
  EXPECT_EQ(lines.size(), expected.size() + 1);
  for (const std::string& line : lines) EXPECT_EQ(line.find('~'), std::string::npos) << line;
  EXPECT_EQ(lines[0].rfind("ID", 0), 0u);
  EXPECT_NE(lines[0].find("LAST SUCCESS"), std::string::npos);
  EXPECT_EQ(r.err.find("--page-token"), std::string::npos) << r.err;
}

// A page of 1,000 connections with large configs is bigger than gRPC's default
// 4 MB receive limit; fivetranctl takes any page its gateway sends (an
// adversarial run got RESOURCE_EXHAUSTED: "Received message larger than max").
TEST(FivetranctlLargePageTest, AllReadsPagesOverFourMegabytes) {
  json seed = {{"groups", json::array({{{"id", "big_group"},
                                        {"name", "Big"},
                                        {"created_at", "2024-01-01T00:00:00.000000Z"}}})},
               {"users", json::array()},
               {"connections", json::array()}};
  const int n = 1100;
  for (int i = 0; i < n; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "big_%04d", i);
    seed["connections"].push_back({{"id", id},
                                   {"group_id", "big_group"},
                                   {"service", "postgres"},
                                   {"schema", id},
                                   {"status", {{"setup_state", "connected"}}},
                                   {"config", {{"blob", std::string(5000, 'x')}}}});
  }
  Emulator emulator({"--seed_file=" + WriteTemp("big_seed.json", seed.dump())});
  Gateway gateway(emulator.base_url(), Emulator::kApiKey, Emulator::kApiSecret);
  Result r = RunCtl({"--server", gateway.address(), "groups", "connections", "big_group", "--all",
                     "-o", "jsonl"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), static_cast<size_t>(n));
  EXPECT_EQ(ParseJson(lines[0])["config"]["blob"], std::string(5000, 'x'));
  EXPECT_EQ(ParseJson(lines[n - 1])["id"], "big_1099");
}

// --all fetches the next page while it prints the current one: every item still comes once, in
// the server's order; an error on a later page comes after the pages before it, with its exit
// code, in every output format.
TEST_F(FivetranctlE2ETest, AllPagesPipelinedInOrderAndAnErrorMidListingKeepsEarlierPages) {
  std::vector<json> expected = emulator_->ListAll("/v1/groups/amber_fjord/connections");
  ASSERT_GE(expected.size(), 250u);
  Result r =
      Ctl({"groups", "connections", "amber_fjord", "--all", "--page-size", "7", "-o", "jsonl"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), expected.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(ParseJson(lines[i])["id"], expected[i]["id"]) << "line " << i;
  }
  EXPECT_TRUE(r.err.empty()) << r.err;

  // Pages 1 and 2 (of 100) are served, page 3 is refused upstream (403: PERMISSION_DENIED):
  // twice, for the gateway's read-ahead of page 3 (started when page 2 came) may be refused
  // first, and a failed read-ahead is not kept: the CLI's own read of page 3 is sent then.
  auto fail_third_page = [] {
    emulator_->ClearFaults();
    const std::string path = "/v1/groups/amber_fjord/connections";
    emulator_->AddFault(
        {{"kind", "latency"}, {"latency_ms", 0}, {"path_prefix", path}, {"count", 2}});
    emulator_->AddFault({{"kind", "status"},
                         {"status", 403},
                         {"code", "Forbidden"},
                         {"message", "Access denied"},
                         {"path_prefix", path},
                         {"count", 2}});
  };
  auto expect_error_line = [](const Result& r) {
    EXPECT_EQ(r.code, 5) << Describe(r);
    std::vector<std::string> err = Lines(r.err);
    ASSERT_EQ(err.size(), 1u) << r.err;
    EXPECT_EQ(err[0].rfind("fivetranctl: error: PERMISSION_DENIED", 0), 0u) << err[0];
  };
  fail_third_page();
  r = Ctl({"groups", "connections", "amber_fjord", "--all", "--page-size", "100", "-o", "jsonl"});
  expect_error_line(r);
  lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 200u) << Describe(r);
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(ParseJson(lines[i])["id"], expected[i]["id"]) << "line " << i;
  }

  // JSON: the document is left open after the rows printed (no closing bracket: not a listing).
  fail_third_page();
  r = Ctl({"groups", "connections", "amber_fjord", "--all", "--page-size", "100", "-o", "json"});
  expect_error_line(r);
  EXPECT_EQ(r.out.rfind("{\"connections\": [\n  {", 0), 0u) << r.out.substr(0, 100);
  EXPECT_FALSE(json::accept(r.out));
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 200) << Describe(r);
  EXPECT_EQ(r.out.back(), '}');

  // Table: the header and the rows of the first two pages.
  fail_third_page();
  r = Ctl({"groups", "connections", "amber_fjord", "--all", "--page-size", "100"});
  expect_error_line(r);
  lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 201u) << Describe(r);
  EXPECT_EQ(lines[0].rfind("ID", 0), 0u);
  EXPECT_EQ(lines[200].rfind(expected[199]["id"].get<std::string>() + " ", 0), 0u) << lines[200];
  emulator_->ClearFaults();
}

TEST_F(FivetranctlE2ETest, GroupConnectionsFiltersBySchema) {
  std::vector<json> expected = emulator_->ListAll("/v1/groups/projected_sickle/connections");
  ASSERT_FALSE(expected.empty());
  const std::string schema = expected[0]["schema"];
  Result r = Ctl({"groups", "connections", "projected_sickle", "--schema", schema, "-o", "json"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  json doc = ParseJson(r.out);
  ASSERT_EQ(doc["connections"].size(), 1u) << r.out;
  ExpectConnectionMatchesRest(doc["connections"][0], expected[0]);

  r = Ctl({"groups", "connections", "projected_sickle", "-o", "json"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  doc = ParseJson(r.out);
  ASSERT_EQ(doc["connections"].size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    ExpectConnectionMatchesRest(doc["connections"][i], expected[i]);
  }
}

TEST_F(FivetranctlE2ETest, UsersListMatchesRestWithFilters) {
  std::vector<json> expected = emulator_->ListAll("/v1/users");
  ASSERT_GT(expected.size(), 100u);
  Result r = Ctl({"users", "list", "--all", "-o", "jsonl"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), expected.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    json u = ParseJson(lines[i]);
    EXPECT_EQ(u["id"], expected[i]["id"]);
    EXPECT_EQ(u["email"], expected[i]["email"]);
    EXPECT_EQ(u.value("active", json()), expected[i]["active"]);
    ExpectSameTime(u.value("logged_in_at", json()), expected[i]["logged_in_at"], "logged_in_at");
  }

  for (bool active : {true, false}) {
    std::vector<std::string> want;
    for (const json& u : expected) {
      if (u["active"] == active) want.push_back(u["id"]);
    }
    r = Ctl({"users", "list", "--all", active ? "--active" : "--suspended", "-o", "json"});
    ASSERT_EQ(r.code, 0) << Describe(r);
    std::vector<std::string> got;
    const json doc = ParseJson(r.out);
    for (const json& u : doc["users"]) got.push_back(u["id"]);
    EXPECT_EQ(got, want) << (active ? "--active" : "--suspended");
  }

  // Default: one page (100) and the next token.
  r = Ctl({"users", "list", "-o", "json"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  json page = ParseJson(r.out);
  EXPECT_EQ(page["users"].size(), 100u);
  EXPECT_FALSE(page["next_page_token"].get<std::string>().empty());
}

TEST_F(FivetranctlE2ETest, CreateSendsEveryOptionAndGetReturnsTheConnection) {
  std::string config = WriteTemp(
      "pg.json",
      R"({"schema":"ctl_pg_ok","host":"db.example.test","port":5432,"password":"pg-ctl-pw-1"})");
  Result r = Ctl({"connections",
                  "create",
                  "--group",
                  "quiet_harbor",
                  "--service",
                  "postgres",
                  "--config",
                  config,
                  "--paused",
                  "--sync-frequency",
                  "1440",
                  "--daily-sync-time",
                  "14:00",
                  "--schedule-type",
                  "manual",
                  "--data-delay-sensitivity",
                  "custom",
                  "--data-delay-threshold",
                  "90",
                  "--networking-method",
                  "Directly",
                  "--trust-certificates",
                  "--trust-fingerprints",
                  "--destination-schema-names",
                  "SOURCE_NAMING",
                  "--hybrid-deployment-agent-id",
                  "hda_1",
                  "-o",
                  "json"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  json created = ParseJson(r.out);
  EXPECT_EQ(created["ready"], true);
  const std::string id = created["connection"]["id"];
  EXPECT_EQ(created["connection"]["status"]["setup_state"], "SETUP_STATE_CONNECTED");
  EXPECT_FALSE(created["connection"]["setup_tests"].empty());
  EXPECT_EQ(r.out.find("pg-ctl-pw-1"), std::string::npos);

  std::vector<json> bodies = CreateBodies();
  ASSERT_EQ(bodies.size(), 1u);
  const json& body = bodies[0];
  EXPECT_EQ(body["group_id"], "quiet_harbor");
  EXPECT_EQ(body["service"], "postgres");
  EXPECT_EQ(body["paused"], true);
  EXPECT_EQ(body["sync_frequency"], 1440);
  EXPECT_EQ(body["daily_sync_time"], "14:00");
  EXPECT_EQ(body["schedule_type"], "manual");
  EXPECT_EQ(body["data_delay_sensitivity"], "CUSTOM");
  EXPECT_EQ(body["data_delay_threshold"], 90);
  EXPECT_EQ(body["networking_method"], "Directly");
  EXPECT_EQ(body["trust_certificates"], true);
  EXPECT_EQ(body["trust_fingerprints"], true);
  EXPECT_EQ(body["run_setup_tests"], true);
  EXPECT_EQ(body["destination_schema_names"], "SOURCE_NAMING");
  EXPECT_EQ(body["hybrid_deployment_agent_id"], "hda_1");
  EXPECT_EQ(body["config"]["port"], 5432);
  EXPECT_EQ(body["config"]["password"], "pg-ctl-pw-1");

  r = Ctl({"connections", "get", id, "-o", "json"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  json got = ParseJson(r.out);
  ExpectConnectionMatchesRest(got, RestConnection(id));
  EXPECT_EQ(got["schema"], "ctl_pg_ok");
  EXPECT_EQ(got["paused"], true);

  // Config from stdin, setup tests skipped.
  std::string stdin_config =
      WriteTemp("s3.json", R"({"schema":"ctl_s3_stdin","bucket":"b","role_arn":"arn:x"})");
  emulator_->ClearRequests();
  r = Ctl({"connections", "create", "--group", "quiet_harbor", "--service", "s3", "--config", "-",
           "--no-setup-tests", "-o", "json"},
          {}, stdin_config);
  bodies = CreateBodies();
  ASSERT_EQ(bodies.size(), 1u) << Describe(r);
  EXPECT_EQ(bodies[0]["run_setup_tests"], false);
  EXPECT_EQ(bodies[0]["config"]["bucket"], "b");
  json no_tests = ParseJson(r.out);
  ASSERT_TRUE(no_tests.contains("connection")) << r.out;
  EXPECT_EQ(r.code, no_tests["ready"] == true ? 0 : 8) << Describe(r);
}

TEST_F(FivetranctlE2ETest, CreateWithFailingSetupTestExitsNotReady) {
  std::string config =
      WriteTemp("pg_fail.json", R"({"schema":"ctl_pg_fail","host":"fail.example.test"})");
  Result r = Ctl({"connections", "create", "--group", "quiet_harbor", "--service", "postgres",
                  "--config", config});
  EXPECT_EQ(r.code, 8) << Describe(r);
  // The failed test is marked in the output, and stderr says why the exit code is 8.
  EXPECT_TRUE(std::regex_search(r.out, std::regex("!! FAILED +\\S"))) << r.out;
  EXPECT_NE(r.err.find("NOT ready"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("incomplete"), std::string::npos) << r.err;

  config = WriteTemp("pg_fail2.json", R"({"schema":"ctl_pg_fail2","host":"fail.example.test"})");
  r = Ctl({"connections", "create", "--group", "quiet_harbor", "--service", "postgres", "--config",
           config, "-o", "json"});
  ASSERT_EQ(r.code, 8) << Describe(r);
  json created = ParseJson(r.out);
  EXPECT_EQ(created["ready"], false);
  const std::string id = created["connection"]["id"];
  r = Ctl({"connections", "get", id, "-o", "json"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  EXPECT_EQ(ParseJson(r.out)["status"]["setup_state_raw"], "incomplete");
}

TEST_F(FivetranctlE2ETest, CreateFtpFromFlagsWithPasswordFile) {
  std::string password = WriteTemp("ftp.pw", "ftp-ctl-secret-7\n");
  Result r = Ctl({"connectors",
                  "create-ftp",
                  "--group",
                  "quiet_harbor",
                  "--schema",
                  "ctl_ftp",
                  "--table",
                  "orders",
                  "--host",
                  "ftp.example.test",
                  "--user",
                  "loader",
                  "--password-file",
                  password,
                  "--port",
                  "2121",
                  "--secure",
                  "--prefix",
                  "exports/orders",
                  "--pattern",
                  "orders_.*\\.csv",
                  "--file-type",
                  "csv",
                  "--compression",
                  "tar_gz",
                  "--on-error",
                  "skip",
                  "--append-file-option",
                  "upsert_file_with_primary_keys",
                  "--archive-pattern",
                  ".*\\.csv",
                  "--null-sequence",
                  "NULL",
                  "--delimiter",
                  ";",
                  "--escape-char",
                  "\\",
                  "--skip-before",
                  "2",
                  "--skip-after",
                  "1",
                  "--empty-header",
                  "--line-separator",
                  "\\n",
                  "--quote-char",
                  "'",
                  "--quote-character-enabled",
                  "--json-delivery-mode",
                  "unpacked",
                  "--sync-frequency",
                  "60",
                  "--schedule-type",
                  "manual",
                  "-o",
                  "json"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  EXPECT_EQ(r.out.find("ftp-ctl-secret-7"), std::string::npos);
  EXPECT_EQ(r.err.find("ftp-ctl-secret-7"), std::string::npos);
  json created = ParseJson(r.out);
  EXPECT_EQ(created["ready"], true);
  EXPECT_EQ(created["connection"]["service"], "ftp");

  std::vector<json> bodies = CreateBodies();
  ASSERT_EQ(bodies.size(), 1u);
  const json& c = bodies[0]["config"];
  EXPECT_EQ(bodies[0]["service"], "ftp");
  EXPECT_EQ(bodies[0]["schedule_type"], "manual");
  EXPECT_EQ(bodies[0]["sync_frequency"], 60);
  EXPECT_EQ(c["schema"], "ctl_ftp");
  EXPECT_EQ(c["table"], "orders");
  EXPECT_EQ(c["host"], "ftp.example.test");
  EXPECT_EQ(c["user"], "loader");
  EXPECT_EQ(c["password"], "ftp-ctl-secret-7");
  EXPECT_EQ(c["port"], 2121);
  EXPECT_EQ(c["is_secure"], true);
  EXPECT_EQ(c["prefix"], "exports/orders");
  EXPECT_EQ(c["pattern"], "orders_.*\\.csv");
  EXPECT_EQ(c["file_type"], "csv");
  EXPECT_EQ(c["compression"], "tar_gz");
  EXPECT_EQ(c["on_error"], "skip");
  EXPECT_EQ(c["append_file_option"], "upsert_file_with_primary_keys");
  EXPECT_EQ(c["archive_pattern"], ".*\\.csv");
  EXPECT_EQ(c["null_sequence"], "NULL");
  EXPECT_EQ(c["delimiter"], ";");
  EXPECT_EQ(c["escape_char"], "\\");
  EXPECT_EQ(c["skip_before"], 2);
  EXPECT_EQ(c["skip_after"], 1);
  EXPECT_EQ(c["empty_header"], true);
  EXPECT_EQ(c["line_separator"], "\\n");
  EXPECT_EQ(c["quote_char"], "'");
  EXPECT_EQ(c["quote_character_enabled"], true);
  EXPECT_EQ(c["json_delivery_mode"], "Unpacked");

  const std::string id = created["connection"]["id"];
  r = Ctl({"connections", "get", id, "-o", "json"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  json got = ParseJson(r.out);
  ExpectConnectionMatchesRest(got, RestConnection(id));
  EXPECT_EQ(got["config"]["password"], "******");
  EXPECT_EQ(got["config"]["compression"], "tar_gz");
}

TEST_F(FivetranctlE2ETest, CreateFtpFromConfigFileWithPasswordFromEnvironment) {
  std::string config = WriteTemp("ftp.json", R"({
    "schema": "ctl_ftp_cfg", "table": "from_file", "host": "ftp2.example.test",
    "user": "cfg_user", "port": "21", "compression": "gz", "file_type": "FTP_FILE_TYPE_TSV",
    "file_mapping_method": "DEFINE_PER_TABLE",
    "files": [{"table_name": "a", "file_pattern": "a_.*"}]})");
  Result r = Ctl({"connections", "create-ftp", "--group", "quiet_harbor", "--config", config,
                  "--table", "overridden", "--file", "b=b_.*", "-o", "jsonl"},
                 {{"FIVETRAN_FTP_PASSWORD", "env-ftp-pw-9"}});
  ASSERT_EQ(r.code, 0) << Describe(r);
  ASSERT_EQ(Lines(r.out).size(), 1u);
  std::vector<json> bodies = CreateBodies();
  ASSERT_EQ(bodies.size(), 1u);
  const json& c = bodies[0]["config"];
  EXPECT_EQ(c["schema"], "ctl_ftp_cfg");
  EXPECT_EQ(c["table"], "overridden");
  EXPECT_EQ(c["user"], "cfg_user");
  EXPECT_EQ(c["port"], 21);
  EXPECT_EQ(c["password"], "env-ftp-pw-9");
  EXPECT_EQ(c["compression"], "gz");
  EXPECT_EQ(c["file_type"], "tsv");
  EXPECT_EQ(c["file_mapping_method"], "DEFINE_PER_TABLE");
  ASSERT_EQ(c["files"].size(), 2u);
  EXPECT_EQ(c["files"][1]["table_name"], "b");
  EXPECT_EQ(c["files"][1]["file_pattern"], "b_.*");

  const std::string id = ParseJson(r.out)["connection"]["id"];
  r = Ctl({"connections", "get", id, "-o", "json"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  ExpectConnectionMatchesRest(ParseJson(r.out), RestConnection(id));
}

TEST_F(FivetranctlE2ETest, CreateFtpNeverSendsWithoutPasswordOrRequiredFields) {
  // stdin is not a terminal, no file, no environment: no prompt, a usage error.
  Result r = Ctl({"connections", "create-ftp", "--group", "quiet_harbor", "--schema", "s",
                  "--table", "t", "--host", "h", "--user", "u"});
  EXPECT_EQ(r.code, 2) << Describe(r);
  EXPECT_NE(r.err.find("password"), std::string::npos) << r.err;
  r = Ctl({"connections", "create-ftp", "--group", "quiet_harbor", "--schema", "s", "--table", "t",
           "--user", "u"},
          {{"FIVETRAN_FTP_PASSWORD", "pw"}});
  EXPECT_EQ(r.code, 2) << Describe(r);
  EXPECT_NE(r.err.find("--host"), std::string::npos) << r.err;
  // There is no flag taking the password itself.
  r = Ctl({"connections", "create-ftp", "--group", "quiet_harbor", "--schema", "s", "--table", "t",
           "--host", "h", "--user", "u", "--password", "pw"});
  EXPECT_EQ(r.code, 2) << Describe(r);
  EXPECT_TRUE(emulator_->Requests().empty());
}

TEST_F(FivetranctlE2ETest, SyncLogsOneTimestampedLine) {
  Result r = Ctl({"connections", "sync", "fresh_otter"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  std::vector<std::string> lines = Lines(r.err);
  ASSERT_EQ(lines.size(), 1u) << r.err;
  EXPECT_TRUE(std::regex_search(
      lines[0], std::regex("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ sync triggered "
                           "connection=fresh_otter force=false")))
      << lines[0];
  std::vector<json> requests = SyncRequests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0]["path"], "/v1/connections/fresh_otter/sync");
  EXPECT_EQ(json::parse(requests[0]["body"].get<std::string>())["force"], false);

  emulator_->ClearRequests();
  r = Ctl({"connectors", "sync", "decent_dropsy", "--force", "-o", "json"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  json response = ParseJson(r.out);
  EXPECT_NE(response["message"].get<std::string>().find("decent_dropsy"), std::string::npos);
  EXPECT_TRUE(response.contains("triggered_at"));
  EXPECT_NE(r.err.find("force=true"), std::string::npos);
  requests = SyncRequests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(json::parse(requests[0]["body"].get<std::string>())["force"], true);

  // A failed run also logs one timestamped line, and the exit code says why.
  r = Ctl({"connections", "sync", "no_such_connection"});
  EXPECT_EQ(r.code, 3) << Describe(r);
  lines = Lines(r.err);
  ASSERT_EQ(lines.size(), 1u) << r.err;
  EXPECT_TRUE(std::regex_search(
      lines[0], std::regex("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ sync failed "
                           "connection=no_such_connection force=false: NOT_FOUND")))
      << lines[0];
}

TEST_F(FivetranctlE2ETest, EachErrorClassHasItsExitCodeAndOneLine) {
  struct Case {
    const char* name;
    std::vector<std::string> args;
    json fault;  // null = none
    int code;
    std::vector<std::string> in_message;
  };
  std::vector<Case> cases = {
      {"not found",
       {"connections", "get", "no_such_connection"},
       nullptr,
       3,
       {"NOT_FOUND", "no_such_connection", "fivetran_code=NotFound_Connection"}},
      {"group not found", {"groups", "connections", "no_such_group"}, nullptr, 3, {"NOT_FOUND"}},
      {"invalid id", {"connections", "get", "../x"}, nullptr, 4, {"INVALID_ARGUMENT"}},
      {"rate limited",
       {"users", "list"},
       {{"kind", "status"},
        {"status", 429},
        {"code", "TooManyRequests"},
        {"message", "Max api calls"},
        {"retry_after", "30"},
        {"path_prefix", "/v1/users"},
        {"count", 1}},
       7,
       {"RESOURCE_EXHAUSTED", "retry_after=30s", "fivetran_code=TooManyRequests"}},
      {"permission",
       {"users", "list"},
       {{"kind", "status"},
        {"status", 403},
        {"code", "Forbidden"},
        {"message", "Access denied. Required permission: ACCOUNT_READ"},
        {"path_prefix", "/v1/users"},
        {"count", 1}},
       5,
       {"PERMISSION_DENIED", "ACCOUNT_READ", "fivetran_code=Forbidden"}},
      {"authentication",
       {"groups", "list"},
       {{"kind", "status"},
        {"status", 401},
        {"code", "AuthFailed"},
        {"path_prefix", "/v1/groups"},
        {"count", 1}},
       5,
       {"UNAUTHENTICATED"}},
      {"internal",
       {"connections", "get", "decent_dropsy"},
       {{"kind", "status"},
        {"status", 500},
        {"code", "InternalError"},
        {"path_prefix", "/v1/connections"},
        {"count", -1}},  // GETs are retried once on a 500.
       1,
       {"INTERNAL"}},
      {"deadline",
       {"--timeout", "300ms", "groups", "list"},
       {{"kind", "latency"}, {"latency_ms", 3000}, {"path_prefix", "/v1/groups"}, {"count", 1}},
       6,
       {"DEADLINE_EXCEEDED"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    emulator_->ClearFaults();
    if (!c.fault.is_null()) emulator_->AddFault(c.fault);
    Result r = Ctl(c.args);
    EXPECT_EQ(r.code, c.code) << Describe(r);
    EXPECT_TRUE(r.out.empty()) << r.out;
    std::vector<std::string> lines = Lines(r.err);
    ASSERT_EQ(lines.size(), 1u) << r.err;
    EXPECT_EQ(lines[0].rfind("fivetranctl: error: ", 0), 0u) << lines[0];
    for (const std::string& part : c.in_message) {
      EXPECT_NE(lines[0].find(part), std::string::npos) << part << " in " << lines[0];
    }
    // A 429 stops these credentials until its Retry-After: go on with a fresh gateway.
    if (c.code == 7) RestartGateway();
  }
  emulator_->ClearFaults();

  // Nothing listens: UNAVAILABLE.
  Result r = RunCtl({"--server", "127.0.0.1:" + std::to_string(ClosedPort()), "--timeout", "5s",
                     "connections", "get", "decent_dropsy"});
  EXPECT_EQ(r.code, 6) << Describe(r);
  EXPECT_NE(r.err.find("UNAVAILABLE"), std::string::npos) << r.err;
  EXPECT_EQ(Lines(r.err).size(), 1u) << r.err;
}

TEST_F(FivetranctlE2ETest, BadFlagsAreUsageErrorsWithoutContactingTheServer) {
  std::string config = WriteTemp("ok.json", R"({"schema":"never_sent"})");
  std::string not_json = WriteTemp("bad.json", "{not json");
  const std::vector<std::vector<std::string>> cases = {
      {},
      {"bogus"},
      {"connections"},
      {"connections", "get"},
      {"connections", "get", "a", "b"},
      {"connections", "sync"},
      {"connections", "sync", "decent_dropsy", "--forse"},
      {"--output", "xml", "groups", "list"},
      {"--timeout", "soon", "groups", "list"},
      {"--timeout", "-5s", "groups", "list"},
      {"groups", "list", "--page-size", "-1"},
      {"groups", "list", "--page-size", "abc"},
      {"groups", "list", "--all", "--page-token", "x"},
      {"groups", "connections"},
      {"users", "list", "--active", "--suspended"},
      {"connections", "create", "--group", "quiet_harbor", "--service", "postgres"},
      {"connections", "create", "--group", "quiet_harbor", "--config", config},
      {"connections", "create", "--group", "quiet_harbor", "--service", "postgres", "--config",
       config, "--sync-frequency", "0"},
      {"connections", "create", "--group", "quiet_harbor", "--service", "postgres", "--config",
       config, "--schedule-type", "sometimes"},
      {"connections", "create", "--group", "quiet_harbor", "--service", "postgres", "--config",
       config, "--sync-frequency", "-3"},
      {"connections", "create", "--group", "quiet_harbor", "--service", "postgres", "--config",
       not_json},
      {"connections", "create", "--group", "quiet_harbor", "--service", "postgres", "--config",
       "/nonexistent/config.json"},
      {"connections", "create-ftp", "--group", "quiet_harbor", "--schema", "s", "--table", "t",
       "--host", "h", "--user", "u", "--port", "70000"},
      {"connections", "create-ftp", "--group", "quiet_harbor", "--schema", "s", "--table", "t",
       "--host", "h", "--user", "u", "--compression", "rar"},
      {"connections", "create-ftp", "--group", "quiet_harbor", "--config", not_json},
      {"connections", "create-ftp", "--group", "quiet_harbor", "--config", config, "--host", "h",
       "--user", "u", "--table", "t", "--file", "no_equals_sign"},
  };
  for (const auto& args : cases) {
    std::string joined;
    for (const std::string& a : args) joined += a + " ";
    SCOPED_TRACE(joined);
    Result r = Ctl(args, {{"FIVETRAN_FTP_PASSWORD", "pw"}});
    EXPECT_EQ(r.code, 2) << Describe(r);
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_NE(r.err.find("usage error"), std::string::npos) << r.err;
  }
  EXPECT_TRUE(emulator_->Requests().empty());
}

TEST_F(FivetranctlE2ETest, HelpDocumentsCommandsExamplesAndExitCodes) {
  Result r = RunCtl({"--help"});
  EXPECT_EQ(r.code, 0) << Describe(r);
  for (const char* part : {"connections", "groups", "users", "--server", "--timeout", "--output",
                           "--quiet", "Exit codes", "rate limited", "not ready", "Examples"}) {
    EXPECT_NE(r.out.find(part), std::string::npos) << part;
  }
  r = RunCtl({"help", "connections", "create"});
  EXPECT_EQ(r.code, 0) << Describe(r);
  for (const char* part :
       {"--group", "--service", "--config", "--paused", "--no-setup-tests", "--trust-certificates",
        "--trust-fingerprints", "--sync-frequency", "--daily-sync-time", "--schedule-type",
        "--data-delay-sensitivity", "--networking-method", "--proxy-agent-id", "--private-link-id",
        "--hybrid-deployment-agent-id", "Examples"}) {
    EXPECT_NE(r.out.find(part), std::string::npos) << part;
  }
  r = RunCtl({"connectors", "create-ftp", "--help"});
  EXPECT_EQ(r.code, 0) << Describe(r);
  for (const char* part : {"--password-file", "FIVETRAN_FTP_PASSWORD", "--append-file-option",
                           "--file-mapping-method", "--extraction-pattern", "Examples"}) {
    EXPECT_NE(r.out.find(part), std::string::npos) << part;
  }
  r = RunCtl({"connections", "sync", "--help"});
  EXPECT_NE(r.out.find("0 */4 * * * fivetranctl connections sync"), std::string::npos) << r.out;
}

TEST_F(FivetranctlE2ETest, ServerAddressFromTheEnvironment) {
  Result r = RunCtl({"groups", "list", "-o", "json", "--quiet"},
                    {{"FIVETRAN_GATEWAY_ADDR", gateway_->address()}});
  ASSERT_EQ(r.code, 0) << Describe(r);
  EXPECT_FALSE(ParseJson(r.out)["groups"].empty());
  EXPECT_TRUE(r.err.empty()) << r.err;
}

// sync --wait and watch (WatchConnectionSync): outcomes as exit codes.
class FivetranctlWaitTest : public StackTest {
 protected:
  static void SetUpTestSuite() {
    StartStack({"--sync_duration=300ms"}, {"--sync_poll_min_interval=50ms"});
  }
  void SetUp() override { emulator_->Admin("POST", "/_emulator/reset"); }
  static Result Ctl(std::vector<std::string> args) {
    args.insert(args.begin(), {"--server", gateway_->address()});
    return RunCtl(args);
  }
  static std::vector<json> SyncRequests() { return SyncRequestsOf(emulator_); }
  static json RestConnection(const std::string& id) {
    HttpReply r = emulator_->Rest("GET", "/v1/connections/" + id);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json["data"];
  }
};

TEST_F(FivetranctlWaitTest, WaitSucceeded) {
  // The sync runs until the CLI has printed it running, however slow the
  // machine (a fixed 400 ms window could pass between two polls), then ends.
  emulator_->SetSyncOutcome("decent_dropsy", "success", 600000);
  RunningCtl wait = StartCtl({"--server", gateway_->address(), "connections", "sync",
                              "decent_dropsy", "--wait", "--poll-interval", "100ms"},
                             {}, "/dev/null", "wait");
  WaitForText(wait.err_path, "sync_state=syncing");
  EXPECT_TRUE(emulator_->EndSync("decent_dropsy"));
  Result r = WaitCtl(wait);
  EXPECT_EQ(r.code, 0) << Describe(r);
  EXPECT_NE(r.err.find("sync triggered connection=decent_dropsy"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("sync_state=syncing"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("sync succeeded connection=decent_dropsy succeeded_at="), std::string::npos)
      << r.err;
  // The printed succeeded_at is the emulator's new one.
  HttpReply rest = emulator_->Rest("GET", "/v1/connections/decent_dropsy");
  std::string succeeded = rest.json["data"]["succeeded_at"].get<std::string>().substr(0, 19);
  EXPECT_NE(r.err.find("succeeded_at=" + succeeded), std::string::npos) << r.err << succeeded;
}

TEST_F(FivetranctlWaitTest, WaitOutcomesHaveTheirExitCodes) {
  emulator_->SetSyncOutcome("decent_dropsy", "failure", 200);
  Result failed =
      Ctl({"connections", "sync", "decent_dropsy", "--wait", "--poll-interval", "100ms"});
  EXPECT_EQ(failed.code, 9) << Describe(failed);
  EXPECT_NE(failed.err.find("sync failed connection=decent_dropsy failed_at="), std::string::npos);

  emulator_->SetSyncOutcome("decent_dropsy", "reschedule", 200);
  Result rescheduled =
      Ctl({"connections", "sync", "decent_dropsy", "--wait", "--poll-interval", "100ms"});
  EXPECT_EQ(rescheduled.code, 10) << Describe(rescheduled);
  EXPECT_NE(rescheduled.err.find("manual schedule"), std::string::npos) << rescheduled.err;

  Result paused = Ctl({"connections", "sync", "sleepy_badger", "--wait"});
  EXPECT_EQ(paused.code, 11) << Describe(paused);
  Result watched = Ctl({"connections", "watch", "sleepy_badger"});
  EXPECT_EQ(watched.code, 11) << Describe(watched);

  emulator_->SetSyncOutcome("decent_dropsy", "success", 30000);
  Result timeout = Ctl({"--timeout", "1s", "connections", "sync", "decent_dropsy", "--wait",
                        "--poll-interval", "100ms"});
  EXPECT_EQ(timeout.code, 12) << Describe(timeout);
  EXPECT_NE(timeout.err.find("DEADLINE_EXCEEDED"), std::string::npos) << timeout.err;
}

TEST_F(FivetranctlWaitTest, ABrokenConnectionIsSyncedWithANote) {  // Field report N1.
  Result r = Ctl({"connections", "sync", "cracked_vase", "-o", "json"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  EXPECT_EQ(ParseJson(r.out)["setup_state_at_trigger"], "SETUP_STATE_BROKEN");
  EXPECT_NE(r.err.find("connection=cracked_vase force=false: the connection was broken; this "
                       "sync is a recovery attempt"),
            std::string::npos)
      << r.err;
  std::vector<json> requests = SyncRequests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0]["path"], "/v1/connections/cracked_vase/sync");
}

TEST_F(FivetranctlWaitTest, ATriggerWhileSyncingSaysSoAndForceRestarts) {  // Field report N2.
  emulator_->SetSyncOutcome("decent_dropsy", "success", 600000);
  ASSERT_EQ(Ctl({"connections", "sync", "decent_dropsy"}).code, 0);
  Result again = Ctl({"connections", "sync", "decent_dropsy", "-o", "json"});
  ASSERT_EQ(again.code, 0) << Describe(again);
  EXPECT_EQ(ParseJson(again.out)["already_syncing"], true);
  EXPECT_NE(again.err.find("a sync was already running"), std::string::npos) << again.err;
  Result forced = Ctl({"connections", "sync", "decent_dropsy", "--force", "-o", "json"});
  ASSERT_EQ(forced.code, 0) << Describe(forced);
  EXPECT_EQ(ParseJson(forced.out)["already_syncing"], false);
  EXPECT_EQ(forced.err.find("already running"), std::string::npos) << forced.err;
  EXPECT_EQ(SyncRequests().size(), 3u);
}

TEST_F(FivetranctlWaitTest, WatchJsonlStreamsEveryUpdate) {
  // A sync that runs until the test ends it, so the watch sees it running.
  const json before = RestConnection("decent_dropsy");
  ASSERT_TRUE(before["failed_at"].is_null());  // The baseline is succeeded_at.
  emulator_->SetSyncOutcome("decent_dropsy", "success", 600000);
  Result sync = Ctl({"connections", "sync", "decent_dropsy"});
  ASSERT_EQ(sync.code, 0) << Describe(sync);
  ASSERT_EQ(RestConnection("decent_dropsy")["status"]["sync_state"], "syncing");

  RunningCtl watch = StartCtl({"--server", gateway_->address(), "--output", "jsonl", "connections",
                               "watch", "decent_dropsy", "--poll-interval", "100ms"},
                              {}, "/dev/null", "watch");
  // Each update is printed (and flushed) when it arrives: the first one while
  // the sync still runs.
  const std::string out = WaitForText(watch.out_path, "\n");
  if (out.find('\n') == std::string::npos) kill(watch.pid, SIGTERM);
  ASSERT_NE(out.find('\n'), std::string::npos) << "no update while the sync runs\n"
                                               << Describe(WaitCtl(watch));

  // End the sync now.
  ASSERT_TRUE(emulator_->EndSync("decent_dropsy"));
  Result r = WaitCtl(watch);
  EXPECT_EQ(r.code, 0) << Describe(r);
  const json after = RestConnection("decent_dropsy");

  // One line per state change: the running sync, then its end with the outcome.
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << Describe(r);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"SYNC_STATE_SYNCING", "SYNC_OUTCOME_UNSPECIFIED"},
      {"SYNC_STATE_SCHEDULED", "SYNC_OUTCOME_SUCCEEDED"}};
  google::protobuf::Timestamp previous_observed;
  for (size_t i = 0; i < lines.size(); ++i) {
    SCOPED_TRACE("line " + std::to_string(i + 1) + ": " + lines[i]);
    json line = ParseJson(lines[i]);
    ASSERT_TRUE(line.is_object());
    EXPECT_EQ(line["observation"]["sync_state"], expected[i].first);
    EXPECT_EQ(line["outcome"], expected[i].second);
    ExpectSameTime(line["baseline"], before["succeeded_at"], "baseline");
    EXPECT_EQ(line["trigger_required"], false);
    google::protobuf::Timestamp observed;
    ASSERT_TRUE(line["observation"]["observed_at"].is_string());
    ASSERT_TRUE(TimeUtil::FromString(line["observation"]["observed_at"], &observed));
    EXPECT_GT(observed, previous_observed);
    previous_observed = observed;
  }
  json running = ParseJson(lines[0]);
  ExpectSameTime(running["observation"]["succeeded_at"], before["succeeded_at"], "succeeded_at");
  json last = ParseJson(lines[1]);
  EXPECT_EQ(last["observation"]["sync_state_raw"], "scheduled");
  ExpectSameTime(last["observation"]["succeeded_at"], after["succeeded_at"], "succeeded_at");
  EXPECT_GT(after["succeeded_at"].get<std::string>(), before["succeeded_at"].get<std::string>());
}

TEST_F(FivetranctlWaitTest, PollIntervalNeedsWait) {
  Result r = Ctl({"connections", "sync", "decent_dropsy", "--poll-interval", "1s"});
  EXPECT_EQ(r.code, 2) << Describe(r);
  EXPECT_TRUE(emulator_->Requests().empty());
}

}  // namespace
}  // namespace fivetran_gateway::testing
