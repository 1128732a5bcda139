#include "emulator/account.h"

#include <memory>
#include <set>
#include <string>

#include "absl/time/time.h"
#include "emulator/api_error.h"
#include "emulator/http_util.h"
#include "emulator/seed.h"
#include "emulator/setup_tests.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace fivetran_emulator {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

class AccountTest : public ::testing::Test {
 protected:
  void SetUp() override { Build(AccountOptions()); }

  void Build(AccountOptions options) {
    options.sync_duration = absl::Seconds(2);
    options.now = [this] { return now_; };
    absl::StatusOr<std::unique_ptr<Account>> a = Account::Create(BuiltinSeed(), options);
    ASSERT_TRUE(a.ok()) << a.status();
    account_ = std::move(*a);
  }

  // A listing's `data`, parsed; its text must be DumpJson's form of it.
  static json Data(const absl::StatusOr<std::string>& text) {
    EXPECT_TRUE(text.ok()) << text.status();
    if (!text.ok()) return json();
    json data = json::parse(*text);
    EXPECT_EQ(DumpJson(data), *text);
    return data;
  }

  json Get(const std::string& id) {
    absl::StatusOr<json> c = account_->GetConnection(id);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *c : json();
  }

  absl::Time now_ = absl::FromUnixSeconds(1800000000);  // 2027-01-15
  std::unique_ptr<Account> account_;
};

TEST(SeedTest, IsDeterministicAndLargeEnough) {
  const json seed = BuiltinSeed();
  EXPECT_EQ(seed, BuiltinSeed());
  EXPECT_GE(seed["groups"].size(), 3u);
  EXPECT_GE(seed["users"].size(), 120u);
  int amber = 0;
  for (const json& c : seed["connections"]) amber += c["group_id"] == "amber_fjord";
  EXPECT_EQ(amber, 260);
  int inactive = 0, no_login = 0, no_phone = 0, no_picture = 0;
  for (const json& u : seed["users"]) {
    inactive += u["active"] == false;
    no_login += u["logged_in_at"].is_null();
    no_phone += u["phone"].is_null();
    no_picture += u["picture"].is_null();
  }
  EXPECT_GT(inactive, 0);
  EXPECT_GT(no_login, 0);
  EXPECT_GT(no_phone, 0);
  EXPECT_GT(no_picture, 0);
}

TEST(SeedTest, IdMinterIsDeterministicAndUnique) {
  std::set<std::string> a_taken, b_taken;
  IdMinter a, b;
  for (int i = 0; i < 3000; ++i) {
    const std::string id = a.Next(&a_taken);
    EXPECT_EQ(id, b.Next(&b_taken));
  }
  EXPECT_EQ(a_taken.size(), 3000u);
}

TEST(SetupTestRule, FailWarnPass) {
  json tests = RunSetupTests("ftp", json{{"host", "FAIL.example.com"}, {"on_error", "fail"}});
  ASSERT_EQ(tests.size(), 3u);
  EXPECT_EQ(tests[0]["status"], "PASSED");
  EXPECT_EQ(tests[1]["status"], "FAILED");
  EXPECT_EQ(tests[2]["status"], "SKIPPED");
  tests = RunSetupTests("postgres", json{{"host", "warn.example.com"}});
  EXPECT_EQ(tests[2]["status"], "WARNING");
  // Enum values such as on_error=fail are not inspected.
  tests = RunSetupTests("ftp", json{{"host", "ok.example.com"}, {"on_error", "fail"}});
  for (const json& t : tests) EXPECT_EQ(t["status"], "PASSED");
}

TEST_F(AccountTest, SecretsMaskedInDetailsAndLists) {
  EXPECT_EQ(Get("decent_dropsy")["config"]["password"], "******");
  const json page = Data(account_->ListConnections("projected_sickle", std::nullopt, {}));
  ASSERT_FALSE(page["items"].empty());
  for (const json& c : page["items"]) {
    EXPECT_THAT(c["config"].dump(), ::testing::Not(HasSubstr("pass\"")));
    if (c["config"].contains("password")) {
      EXPECT_EQ(c["config"]["password"], "******");
    }
  }
}

// Listings copy each connection's text made at its first read after a
// change: every item must still equal the connection's details at that
// moment, through syncs, their end, creates and resets.
TEST_F(AccountTest, ListedConnectionsFollowEveryChange) {
  auto listed = [this](const std::string& group, const std::string& id) {
    PageRequest page;
    page.limit = 1000;
    const json data = Data(account_->ListConnections(group, std::nullopt, page));
    for (const json& c : data["items"]) {
      EXPECT_EQ(c, Get(c["id"].get<std::string>()));
      if (c["id"] == id) return c;
    }
    return json();
  };
  const json before = listed("projected_sickle", "decent_dropsy");
  ASSERT_EQ(before["status"]["sync_state"], "scheduled");
  ASSERT_TRUE(account_->TriggerSync("decent_dropsy", false).ok());
  EXPECT_EQ(listed("projected_sickle", "decent_dropsy")["status"]["sync_state"], "syncing");
  now_ += absl::Seconds(2);  // the sync ends when the account is next read
  const json after = listed("projected_sickle", "decent_dropsy");
  EXPECT_EQ(after["status"]["sync_state"], "scheduled");
  EXPECT_GT(after["succeeded_at"].get<std::string>(), before["succeeded_at"].get<std::string>());

  absl::StatusOr<json> created = account_->CreateConnection(
      json{{"group_id", "projected_sickle"},
           {"service", "postgres"},
           {"config", {{"schema", "listed_new"}, {"password", "s3cret"}}}});
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string id = (*created)["id"];
  const json listed_new = listed("projected_sickle", id);
  EXPECT_EQ(listed_new["config"]["password"], "******");

  account_->Reset();
  EXPECT_TRUE(listed("projected_sickle", id).is_null());
  EXPECT_EQ(listed("projected_sickle", "decent_dropsy"), before);
}

TEST_F(AccountTest, PaginationWalksEveryItemOnce) {
  std::set<std::string> seen;
  std::string last;
  PageRequest page;
  page.limit = 7;
  int pages = 0;
  while (true) {
    const json data = Data(account_->ListConnections("amber_fjord", std::nullopt, page));
    ASSERT_TRUE(data.contains("items"));
    ++pages;
    for (const json& c : data["items"]) {
      const std::string id = c["id"];
      EXPECT_GT(id, last);
      last = id;
      EXPECT_TRUE(seen.insert(id).second);
    }
    if (!data.contains("next_cursor")) break;
    page.cursor = data["next_cursor"];
    ASSERT_FALSE(page.cursor.empty());
  }
  EXPECT_EQ(seen.size(), 260u);
  EXPECT_EQ(pages, 38);  // ceil(260 / 7)
}

TEST_F(AccountTest, CursorFromAnotherListingIsRejected) {
  PageRequest page;
  page.limit = 1;
  const json users = Data(account_->ListUsers(true, page));
  ASSERT_TRUE(users.contains("next_cursor"));
  page.cursor = users["next_cursor"];
  absl::StatusOr<std::string> other = account_->ListUsers(false, page);
  EXPECT_EQ(HttpStatusOf(other.status()), 400);
  page.cursor = "%%%";
  EXPECT_EQ(HttpStatusOf(account_->ListGroups(page).status()), 400);
}

TEST_F(AccountTest, SyncRunsAndFinishesWithNewerTimestamp) {
  const json before = Get("decent_dropsy");
  ASSERT_TRUE(account_->TriggerSync("decent_dropsy", false).ok());
  EXPECT_EQ(Get("decent_dropsy")["status"]["sync_state"], "syncing");
  now_ += absl::Seconds(1);
  EXPECT_EQ(Get("decent_dropsy")["status"]["sync_state"], "syncing");
  now_ += absl::Seconds(1);
  const json after = Get("decent_dropsy");
  EXPECT_EQ(after["status"]["sync_state"], "scheduled");
  EXPECT_EQ(after["status"]["is_historical_sync"], false);
  EXPECT_GT(after["succeeded_at"].get<std::string>(), before["succeeded_at"].get<std::string>());
  EXPECT_TRUE(after["failed_at"].is_null());
  EXPECT_EQ(after["succeeded_at"].get<std::string>().size(), 27u);  // 6 fraction digits + Z
}

TEST_F(AccountTest, EndSyncFinishesTheRunningSyncWithItsOutcomeNow) {
  ASSERT_TRUE(
      account_->SetSyncOverride("stumbling_mole", {SyncOutcome::kFailure, absl::Hours(1), {}})
          .ok());
  const json before = Get("stumbling_mole");
  ASSERT_TRUE(account_->TriggerSync("stumbling_mole", false).ok());
  now_ += absl::Seconds(1);
  EXPECT_EQ(Get("stumbling_mole")["status"]["sync_state"], "syncing");
  absl::StatusOr<bool> ended = account_->EndSync("stumbling_mole");
  ASSERT_TRUE(ended.ok()) << ended.status();
  EXPECT_TRUE(*ended);
  const json after = Get("stumbling_mole");
  EXPECT_EQ(after["status"]["sync_state"], "scheduled");
  EXPECT_EQ(after["succeeded_at"], before["succeeded_at"]);  // The failure it was started with.
  EXPECT_GT(after["failed_at"].get<std::string>(), before["failed_at"].get<std::string>());
  EXPECT_GE(after["failed_at"].get<std::string>(), FormatTimestamp(now_));

  // Nothing running: nothing changes. An unknown id: 404.
  ended = account_->EndSync("stumbling_mole");
  ASSERT_TRUE(ended.ok()) << ended.status();
  EXPECT_FALSE(*ended);
  EXPECT_EQ(Get("stumbling_mole"), after);
  EXPECT_EQ(HttpStatusOf(account_->EndSync("no_such_connection").status()), 404);
}

TEST_F(AccountTest, TimestampsStrictlyIncreaseEvenWithAFrozenClock) {
  ASSERT_TRUE(
      account_->SetSyncOverride("fresh_otter", {SyncOutcome::kSuccess, absl::ZeroDuration(), {}})
          .ok());
  std::string previous;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(account_->TriggerSync("fresh_otter", true).ok());
    const std::string ts = Get("fresh_otter")["succeeded_at"];
    EXPECT_GT(ts, previous);
    previous = ts;
  }
}

TEST_F(AccountTest, ForceRestartsButPlainTriggerDoesNot) {
  ASSERT_TRUE(account_->TriggerSync("fresh_otter", false).ok());
  now_ += absl::Milliseconds(1500);
  ASSERT_TRUE(account_->TriggerSync("fresh_otter", false).ok());  // no restart
  now_ += absl::Milliseconds(600);
  EXPECT_FALSE(Get("fresh_otter")["succeeded_at"].is_null());

  ASSERT_TRUE(account_->TriggerSync("fresh_otter", false).ok());
  now_ += absl::Milliseconds(1500);
  ASSERT_TRUE(account_->TriggerSync("fresh_otter", true).ok());  // restart
  const std::string first = Get("fresh_otter")["succeeded_at"];
  now_ += absl::Milliseconds(600);
  EXPECT_EQ(Get("fresh_otter")["status"]["sync_state"], "syncing");
  EXPECT_EQ(Get("fresh_otter")["succeeded_at"], first);
  now_ += absl::Seconds(2);
  EXPECT_GT(Get("fresh_otter")["succeeded_at"].get<std::string>(), first);
}

TEST_F(AccountTest, OverridesFailureAndReschedule) {
  ASSERT_TRUE(
      account_->SetSyncOverride("stumbling_mole", {SyncOutcome::kFailure, absl::Seconds(1), {}})
          .ok());
  const json before = Get("stumbling_mole");
  ASSERT_TRUE(account_->TriggerSync("stumbling_mole", false).ok());
  now_ += absl::Seconds(1);
  const json after = Get("stumbling_mole");
  EXPECT_EQ(after["succeeded_at"], before["succeeded_at"]);
  EXPECT_GT(after["failed_at"].get<std::string>(), before["failed_at"].get<std::string>());

  ASSERT_TRUE(account_
                  ->SetSyncOverride("waiting_heron",
                                    {SyncOutcome::kReschedule, absl::Seconds(1), absl::Minutes(5)})
                  .ok());
  ASSERT_TRUE(account_->TriggerSync("waiting_heron", false).ok());
  EXPECT_FALSE(Get("waiting_heron")["status"].contains("rescheduled_for"));
  now_ += absl::Seconds(1);
  const json heron = Get("waiting_heron");
  EXPECT_EQ(heron["status"]["sync_state"], "rescheduled");
  EXPECT_GT(heron["status"]["rescheduled_for"].get<std::string>(), FormatTimestamp(now_));
}

TEST_F(AccountTest, BrokenConnectionSyncFails) {
  const json before = Get("cracked_vase");
  ASSERT_TRUE(account_->TriggerSync("cracked_vase", false).ok());
  now_ += absl::Seconds(3);
  const json after = Get("cracked_vase");
  EXPECT_GT(after["failed_at"].get<std::string>(), before["failed_at"].get<std::string>());
  EXPECT_EQ(after["succeeded_at"], before["succeeded_at"]);
}

TEST_F(AccountTest, ASyncThatSucceedsClearsBroken) {  // Field report N1.
  SyncOverride success;
  success.outcome = SyncOutcome::kSuccess;
  ASSERT_TRUE(account_->SetSyncOverride("cracked_vase", success).ok());
  ASSERT_FALSE(Get("cracked_vase")["status"]["tasks"].empty());
  ASSERT_TRUE(account_->TriggerSync("cracked_vase", false).ok());
  EXPECT_EQ(Get("cracked_vase")["status"]["setup_state"], "broken");  // Until it ends.
  now_ += absl::Seconds(3);
  const json after = Get("cracked_vase");
  EXPECT_EQ(after["status"]["setup_state"], "connected");
  EXPECT_TRUE(after["status"]["tasks"].empty());
}

TEST_F(AccountTest, PausedAndIncompletePolicies) {
  EXPECT_TRUE(account_->TriggerSync("sleepy_badger", true).ok());
  EXPECT_EQ(Get("sleepy_badger")["status"]["sync_state"], "paused");
  EXPECT_EQ(HttpStatusOf(account_->TriggerSync("unfinished_crane", false)), 400);
  EXPECT_EQ(HttpStatusOf(account_->TriggerSync("nope", false)), 404);
  EXPECT_EQ(FivetranCodeOf(account_->TriggerSync("nope", false)), "NotFound_Connection");

  AccountOptions conflict;
  conflict.paused_sync_conflict = true;
  conflict.reject_incomplete_sync = false;
  Build(conflict);
  EXPECT_EQ(HttpStatusOf(account_->TriggerSync("sleepy_badger", false)), 409);
  EXPECT_TRUE(account_->TriggerSync("unfinished_crane", false).ok());
}

TEST_F(AccountTest, CreateValidatesAndDefaults) {
  auto create = [&](const json& body) { return account_->CreateConnection(body); };
  EXPECT_THAT(create(json{{"service", "x"}}).status().message(),
              HasSubstr("Field 'group_id' is required"));
  EXPECT_THAT(create(json{{"group_id", "projected_sickle"}}).status().message(),
              HasSubstr("Field 'service' is required"));
  EXPECT_EQ(FivetranCodeOf(create(json{{"group_id", "nope"}, {"service", "x"}}).status()),
            "NotFound_Group");
  EXPECT_THAT(create(json{{"group_id", "projected_sickle"}, {"service", "x"}}).status().message(),
              HasSubstr("Field 'schema' is required"));
  json base{
      {"group_id", "projected_sickle"},
      {"service", "ftp"},
      {"config",
       {{"schema", "ftp_new"}, {"table", "t"}, {"host", "h"}, {"user", "u"}, {"password", "p"}}}};
  for (const char* field : {"host", "user", "password"}) {
    json b = base;
    b["config"].erase(field);
    EXPECT_THAT(create(b).status().message(),
                HasSubstr(std::string("Field '") + field + "' is required"));
  }
  for (const auto& [field, value] :
       std::vector<std::pair<std::string, json>>{{"file_type", "exe"},
                                                 {"compression", "rar"},
                                                 {"on_error", "ignore"},
                                                 {"append_file_option", "x"},
                                                 {"json_delivery_mode", "x"},
                                                 {"file_mapping_method", "x"}}) {
    json b = base;
    b["config"][field] = value;
    EXPECT_THAT(create(b).status().message(), HasSubstr("'" + field + "'")) << field;
  }
  for (const auto& [field, value] :
       std::vector<std::pair<std::string, json>>{{"schedule_type", "cron"},
                                                 {"sync_frequency", 7},
                                                 {"data_delay_sensitivity", "MEDIUM"},
                                                 {"networking_method", "Carrier"},
                                                 {"destination_schema_names", "X"},
                                                 {"daily_sync_time", "04:30"},
                                                 {"paused", "maybe"}}) {
    json b = base;
    b[field] = value;
    absl::StatusOr<json> r = create(b);
    EXPECT_EQ(HttpStatusOf(r.status()), 400) << field;
    EXPECT_THAT(r.status().message(), HasSubstr(field));
  }
  json ok = base;
  ok["paused"] = "true";
  ok["data_delay_sensitivity"] = nullptr;
  ok["sync_frequency"] = nullptr;
  absl::StatusOr<json> created = create(ok);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ((*created)["schema"], "ftp_new.t");
  EXPECT_EQ((*created)["paused"], true);
  EXPECT_EQ((*created)["sync_frequency"], 360);
  EXPECT_EQ((*created)["data_delay_sensitivity"], "NORMAL");
  EXPECT_EQ((*created)["schedule_type"], "auto");
  EXPECT_EQ((*created)["config"]["password"], "******");
  EXPECT_EQ((*created)["config"]["port"], 21);
  EXPECT_EQ((*created)["status"]["setup_state"], "connected");
  EXPECT_EQ((*created)["status"]["sync_state"], "paused");
  EXPECT_EQ(HttpStatusOf(create(ok).status()), 409);
  EXPECT_EQ(Get((*created)["id"])["id"], (*created)["id"]);

  // Same request sequence -> same ids after a reset.
  const std::string id = (*created)["id"];
  account_->Reset();
  EXPECT_EQ(HttpStatusOf(account_->GetConnection(id).status()), 404);
  absl::StatusOr<json> again = create(ok);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)["id"], id);
}

TEST_F(AccountTest, CreateSetupTestOutcomes) {
  json b{{"group_id", "quiet_harbor"},
         {"service", "postgres"},
         {"config", {{"schema", "pg_fail"}, {"host", "fail.example.com"}}}};
  absl::StatusOr<json> failed = account_->CreateConnection(b);
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ((*failed)["status"]["setup_state"], "incomplete");
  b["config"] = {{"schema", "pg_skip"}, {"host", "fine.example.com"}};
  b["run_setup_tests"] = false;
  absl::StatusOr<json> skipped = account_->CreateConnection(b);
  ASSERT_TRUE(skipped.ok());
  EXPECT_EQ((*skipped)["status"]["setup_state"], "incomplete");
  EXPECT_TRUE((*skipped)["setup_tests"].empty());
}

TEST(AccountSeedFile, RejectsBadSeeds) {
  EXPECT_FALSE(Account::Create(json::array(), {}).ok());
  EXPECT_FALSE(Account::Create(json{{"groups", json::array()}}, {}).ok());
  json seed = BuiltinSeed();
  seed["connections"][0]["group_id"] = "nope";
  EXPECT_FALSE(Account::Create(seed, {}).ok());
  seed = BuiltinSeed();
  seed["connections"].push_back(seed["connections"][0]);
  EXPECT_FALSE(Account::Create(seed, {}).ok());
}

}  // namespace
}  // namespace fivetran_emulator
