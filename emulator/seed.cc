#include "emulator/seed.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "emulator/clock.h"

namespace fivetran_emulator {
namespace {

using nlohmann::json;

constexpr std::array<const char*, 48> kAdjectives = {
    "amber",  "brisk",  "calm",   "dapper", "eager",  "fancy",  "gentle", "hollow",
    "icy",    "jolly",  "keen",   "lively", "mellow", "nimble", "olive",  "proud",
    "quaint", "rapid",  "silent", "tidy",   "upbeat", "vivid",  "witty",  "young",
    "zesty",  "bold",   "clever", "dusty",  "early",  "fuzzy",  "golden", "hasty",
    "ivory",  "jagged", "kind",   "lucky",  "misty",  "noble",  "odd",    "plucky",
    "rustic", "shiny",  "tender", "urban",  "velvet", "wild",   "breezy", "cosmic"};

// 50 nouns; gcd(48 + 1, 50) == 1 keeps the walk in IdMinter a bijection.
constexpr std::array<const char*, 50> kNouns = {
    "anchor", "badger",  "canyon",  "dingo",   "ember",  "falcon",  "garden", "harbor", "island",
    "jackal", "kettle",  "lantern", "meadow",  "nectar", "orchid",  "pebble", "quarry", "raven",
    "saddle", "thistle", "tundra",  "umbra",   "valley", "walrus",  "yarrow", "zephyr", "acorn",
    "beacon", "cobalt",  "delta",   "estuary", "fjord",  "glacier", "hazel",  "iris",   "juniper",
    "kelp",   "lagoon",  "magpie",  "nomad",   "otter",  "prairie", "quill",  "reef",   "spruce",
    "tulip",  "upland",  "vortex",  "willow",  "yucca"};

constexpr std::array<const char*, 20> kGivenNames = {
    "Ana",  "Ben",   "Chloe", "Dmitri", "Eve",   "Farid", "Grace", "Hiro", "Ines", "Jonas",
    "Kemi", "Lucia", "Mateo", "Nadia",  "Oskar", "Priya", "Quinn", "Rosa", "Sven", "Tariq"};

constexpr std::array<const char*, 20> kFamilyNames = {
    "Ruiz",   "Okafor", "Lindqvist", "Petrov",  "Tanaka", "Haddad", "Moreau",
    "Novak",  "Silva",  "Berg",      "Adeyemi", "Costa",  "Keller", "Ibrahim",
    "Larsen", "Mehta",  "Walsh",     "Duarte",  "Holm",   "Yilmaz"};

constexpr std::array<const char*, 4> kRoles = {"Account Administrator", "Account Analyst",
                                               "Account Reviewer", "Account Billing"};

constexpr std::array<int, 11> kFrequencies = {1, 5, 15, 30, 60, 120, 180, 360, 480, 720, 1440};

// Unix seconds of 2024-01-01T00:00:00Z and 2026-01-01T00:00:00Z.
constexpr int64_t kEpoch2024 = 1704067200;
constexpr int64_t kEpoch2026 = 1767225600;

std::string Ts(int64_t unix_seconds, int64_t micros) {
  return FormatTimestamp(absl::FromUnixSeconds(unix_seconds) +
                         absl::Microseconds(micros % 1000000));
}

// Fixed timestamps written out literally (documented in the README).
json Lit(const char* s) { return json(s); }

json Status(const char* setup, const char* sync, bool historical) {
  return json{{"setup_state", setup},          {"sync_state", sync},
              {"update_state", "on_schedule"}, {"is_historical_sync", historical},
              {"tasks", json::array()},        {"warnings", json::array()}};
}

json SetupTest(const char* title, const char* status, const char* message) {
  return json{{"title", title}, {"status", status}, {"message", message}};
}

// Every field of the connection response with neutral defaults; callers
// override what makes the connection special.
json BaseConnection(const std::string& id, const std::string& group, const std::string& service,
                    const std::string& schema) {
  return json{{"id", id},
              {"group_id", group},
              {"service", service},
              {"service_version", 1},
              {"schema", schema},
              {"connected_by", kApiUserId},
              {"created_at", nullptr},
              {"succeeded_at", nullptr},
              {"failed_at", nullptr},
              {"paused", false},
              {"pause_after_trial", false},
              {"sync_frequency", 360},
              {"daily_sync_time", nullptr},
              {"schedule_type", "auto"},
              {"data_delay_sensitivity", "NORMAL"},
              {"data_delay_threshold", 0},
              {"networking_method", "Directly"},
              {"destination_schema_names", "FIVETRAN_NAMING"},
              {"status", Status("connected", "scheduled", false)},
              {"setup_tests", json::array()},
              {"source_sync_details", json::object()},
              {"config", json::object()}};
}

json DbConfig(const std::string& schema, const std::string& host, int port) {
  return json{{"schema", schema},
              {"host", host},
              {"port", port},
              {"user", "fivetran"},
              {"password", "db-pass"},
              {"database", "app"},
              {"update_method", "QUERY_BASED"}};
}

std::vector<json> SpecialConnections() {
  std::vector<json> out;
  const std::string g = "projected_sickle";

  // A healthy FTP connection, manually scheduled.
  json dropsy = BaseConnection("decent_dropsy", g, "ftp", "ftp_ingest.orders");
  dropsy["created_at"] = Lit("2025-03-02T09:14:07.512031Z");
  dropsy["succeeded_at"] = Lit("2026-06-01T04:03:55.118204Z");
  dropsy["sync_frequency"] = 1440;
  dropsy["daily_sync_time"] = "04:00";
  dropsy["schedule_type"] = "manual";
  dropsy["destination_configuration"] = json{{"virtual_warehouse", "LOADER_WH"}};
  dropsy["setup_tests"] = json::array({SetupTest("Connecting to FTP server", "PASSED", ""),
                                       SetupTest("Validating credentials", "PASSED", ""),
                                       SetupTest("Listing files under prefix", "PASSED", "")});
  dropsy["config"] = json{{"schema", "ftp_ingest"},
                          {"table", "orders"},
                          {"host", "ftp.example.net"},
                          {"port", 21},
                          {"user", "loader"},
                          {"password", "ftp-loader-pass"},
                          {"is_secure", true},
                          {"prefix", "exports/orders"},
                          {"pattern", ".*\\.csv"},
                          {"file_type", "csv"},
                          {"compression", "infer"},
                          {"on_error", "fail"},
                          {"append_file_option", "upsert_file"},
                          {"null_sequence", "NULL"},
                          {"delimiter", ","},
                          {"skip_before", 0},
                          {"skip_after", 0},
                          {"empty_header", false},
                          {"use_pgp_encryption_options", false}};
  out.push_back(dropsy);

  // Never synced: both timestamps null, historical sync pending.
  json otter = BaseConnection("fresh_otter", g, "postgres", "fresh_pg");
  otter["created_at"] = Lit("2026-05-30T17:22:10.401200Z");
  otter["status"] = Status("connected", "scheduled", true);
  otter["setup_tests"] = json::array({SetupTest("Connecting to database", "PASSED", ""),
                                      SetupTest("Validating permissions", "PASSED", "")});
  otter["connect_card"] =
      json{{"token", "ct_fresh_otter_demo"},
           {"uri", "https://fivetran.com/connect-card/setup?auth=ct_fresh_otter_demo"}};
  otter["connect_card_config"] =
      json{{"redirect_uri", "https://example.test/after-setup"}, {"hide_setup_guide", true}};
  otter["config"] = DbConfig("fresh_pg", "pg-fresh.example.test", 5432);
  out.push_back(otter);

  // Paused.
  json badger = BaseConnection("sleepy_badger", g, "salesforce", "sf_main");
  badger["created_at"] = Lit("2024-11-05T08:30:00.250000Z");
  badger["succeeded_at"] = Lit("2026-05-20T06:12:44.731002Z");
  badger["paused"] = true;
  badger["sync_frequency"] = 60;
  badger["status"] = Status("connected", "paused", false);
  badger["config"] = json{{"schema", "sf_main"},
                          {"domain", "acme.my.salesforce.com"},
                          {"is_sandbox", false},
                          {"access_token", "sf-access-token"},
                          {"refresh_token", "sf-refresh-token"}};
  out.push_back(badger);

  // Incomplete setup with the null fields of field report B4.
  json crane = BaseConnection("unfinished_crane", g, "s3", "s3_new.events");
  crane["created_at"] = Lit("2026-04-11T13:45:09.000900Z");
  crane["connected_by"] = nullptr;
  crane["paused"] = nullptr;
  crane["sync_frequency"] = nullptr;
  crane["status"] = Status("incomplete", "paused", true);
  crane["setup_tests"] = json::array(
      {SetupTest("Validating IAM role", "FAILED", "Access denied when assuming the role"),
       SetupTest("Listing bucket", "SKIPPED", "")});
  crane["config"] = json{{"schema", "s3_new"},
                         {"table", "events"},
                         {"bucket", "landing-bucket"},
                         {"prefix", "events/"},
                         {"role_arn", "arn:aws:iam::123456789012:role/fivetran-demo"},
                         {"external_id", "ext-crane"},
                         {"file_type", "jsonl"},
                         {"secret_access_key", "s3-secret"}};
  out.push_back(crane);

  // Broken setup: last sync failed, a reconnect task is pending.
  json vase = BaseConnection("cracked_vase", g, "mysql", "shop_mysql");
  vase["created_at"] = Lit("2024-07-19T10:00:00.123456Z");
  vase["succeeded_at"] = Lit("2026-04-02T03:00:11.000001Z");
  vase["failed_at"] = Lit("2026-05-03T03:00:09.654321Z");
  vase["status"] = Status("broken", "scheduled", false);
  vase["status"]["tasks"] =
      json::array({json{{"code", "reconnect"},
                        {"message", "Reconnect"},
                        {"details", "Access denied for user 'fivetran'; update the credentials"}}});
  vase["setup_tests"] = json::array(
      {SetupTest("Connecting to database", "FAILED", "Access denied for user 'fivetran'")});
  vase["config"] = DbConfig("shop_mysql", "mysql.example.test", 3306);
  out.push_back(vase);

  // Rescheduled (waiting for source quota), manual schedule, one warning.
  json heron = BaseConnection("waiting_heron", g, "hubspot", "hubspot_crm");
  heron["created_at"] = Lit("2025-08-14T16:20:00.500000Z");
  heron["succeeded_at"] = Lit("2026-05-20T10:00:00.000000Z");
  heron["schedule_type"] = "manual";
  heron["sync_frequency"] = 60;
  heron["status"] = Status("connected", "rescheduled", false);
  heron["status"]["rescheduled_for"] = "2026-05-20T11:54:53.894000Z";
  heron["status"]["warnings"] =
      json::array({json{{"code", "resync_table_warning"},
                        {"message", "Resync Table Warning"},
                        {"details", "Table 'deals' will be re-synced on the next run"}}});
  heron["config"] = json{{"schema", "hubspot_crm"}, {"api_token", "hs-api-token"}};
  out.push_back(heron);

  // Unknown service and unknown enum values / fields (field report B5).
  json fox = BaseConnection("future_fox", g, "brand_new_src", "bn");
  fox["created_at"] = Lit("2026-06-02T00:00:00.000001Z");
  fox["succeeded_at"] = Lit("2026-06-03T00:00:00.000002Z");
  fox["service_version"] = 7;
  fox["schedule_type"] = "cron_like_future_value";
  fox["schedule"] = json{{"schedule_type", "cron"}, {"cron", "0 */4 * * *"}};
  fox["brand_new_field"] = json{{"nested", json::array({1, "two", nullptr})}};
  fox["status"] = Status("connected", "future_state", false);
  fox["status"]["update_state"] = "future_update_state";
  fox["status"]["schema_status"] = "future_schema_status";
  fox["setup_tests"] = json::array({json{{"title", "Future check"},
                                         {"status", "WARNING"},
                                         {"message", "Preview connector"},
                                         {"details", json{{"preview", true}}}}});
  fox["config"] = json{{"schema", "bn"}, {"region", "moon-1"}, {"client_secret", "fox-secret"}};
  out.push_back(fox);

  // Config value types drift (field report B6): port as a string, a string
  // boolean and an array.
  json drift = BaseConnection("drifting_port", g, "postgres", "pg_drift");
  drift["created_at"] = Lit("2025-02-10T12:00:00.000100Z");
  drift["succeeded_at"] = Lit("2026-05-31T22:15:00.000300Z");
  drift["config"] = json{{"schema", "pg_drift"},
                         {"host", "db.example.test"},
                         {"port", "5432"},
                         {"user", "fivetran"},
                         {"password", "drift-pass"},
                         {"database", "app"},
                         {"is_private_key_encrypted", "false"},
                         {"apps", json::array({101})}};
  out.push_back(drift);

  // Millisecond timestamps (field report B20).
  json terse = BaseConnection("terse_clock", g, "google_sheets", "sheets_terse.budget");
  terse["created_at"] = Lit("2025-01-15T08:00:00.000Z");
  terse["succeeded_at"] = Lit("2026-03-01T06:00:00.000Z");
  terse["config"] = json{{"schema", "sheets_terse"},
                         {"table", "budget"},
                         {"sheet_id", "https://docs.google.com/spreadsheets/d/demo"},
                         {"named_range", "budget_range"},
                         {"auth_type", "ServiceAccount"}};
  out.push_back(terse);

  // Last sync failed after an earlier success (field report B17).
  json mole = BaseConnection("stumbling_mole", g, "stripe", "stripe_payments");
  mole["created_at"] = Lit("2025-06-06T06:06:06.060606Z");
  mole["succeeded_at"] = Lit("2026-03-20T10:00:00.000000Z");
  mole["failed_at"] = Lit("2026-03-20T11:04:30.000000Z");
  mole["config"] = json{{"schema", "stripe_payments"}, {"secret_key", "sk_test_demo"}};
  out.push_back(mole);

  // SFTP per-table mapping echoed with nulls (field report B15).
  json wren = BaseConnection("echoing_wren", g, "sftp", "sftp_in");
  wren["created_at"] = Lit("2026-01-20T09:09:09.090909Z");
  wren["config"] = json{{"schema", "sftp_in"},
                        {"host", "sftp.example.test"},
                        {"port", 22},
                        {"user", "u"},
                        {"password", "p"},
                        {"file_mapping_method", "DEFINE_PER_TABLE"},
                        {"files", json::array({json{{"table_name", "orders"},
                                                    {"file_pattern", nullptr},
                                                    {"archive_pattern", nullptr},
                                                    {"email_subject", nullptr}},
                                               json{{"table_name", "tags"},
                                                    {"file_pattern", nullptr},
                                                    {"archive_pattern", nullptr},
                                                    {"email_subject", nullptr}}})}};
  out.push_back(wren);
  return out;
}

// A plain connection number `i` in `group`; states vary with `i`.
json GenericConnection(const std::string& id, const std::string& group, int i,
                       const std::vector<std::string>& user_ids) {
  static constexpr std::array<const char*, 10> kServices = {
      "postgres", "mysql",  "google_ads", "facebook_ads", "salesforce",
      "hubspot",  "stripe", "ftp",        "s3",           "sql_server"};
  const std::string service = kServices[i % kServices.size()];
  const std::string base_schema = absl::StrFormat("%s_%03d", service, i);
  const bool file_connector = service == "ftp" || service == "s3";
  const std::string schema = file_connector ? base_schema + ".files" : base_schema;
  json c = BaseConnection(id, group, service, schema);
  c["connected_by"] = user_ids[i % 10];
  c["created_at"] = Ts(kEpoch2024 + int64_t{i} * 86400 + i * 37, int64_t{i} * 7919 + 11);
  c["succeeded_at"] = Ts(kEpoch2026 + int64_t{i} * 3600 + 17, int64_t{i} * 104729 + 3);
  const int freq = kFrequencies[i % kFrequencies.size()];
  c["sync_frequency"] = freq;
  if (freq == 1440) c["daily_sync_time"] = absl::StrFormat("%02d:00", i % 24);
  if (i % 4 == 0) c["schedule_type"] = "manual";
  if (i % 9 == 0) c["data_delay_sensitivity"] = "LOW";
  if (i % 11 == 0) c["data_delay_sensitivity"] = "HIGH";
  if (i % 13 == 0) c["networking_method"] = "SshTunnel";
  if (i % 50 == 17) {
    c["networking_method"] = "ProxyAgent";
    c["proxy_agent_id"] = "steady_proxy";
  }
  if (i % 50 == 29) {
    c["networking_method"] = "PrivateLink";
    c["private_link_id"] = "narrow_link";
  }
  if (i % 50 == 41) c["hybrid_deployment_agent_id"] = "local_agent";
  if (i % 10 == 7) {
    c["paused"] = true;
    c["status"]["sync_state"] = "paused";
  }
  if (i % 25 == 11) c["failed_at"] = Ts(kEpoch2026 + int64_t{i} * 3600 + 900, 42);
  if (i % 37 == 5) {
    c["succeeded_at"] = nullptr;
    c["failed_at"] = nullptr;
    c["status"]["is_historical_sync"] = true;
  }
  if (i % 31 == 3) c["status"]["update_state"] = "delayed";
  c["setup_tests"] = json::array({SetupTest("Validating configuration", "PASSED", "")});
  if (service == "ftp") {
    c["config"] = json{{"schema", base_schema},
                       {"table", "files"},
                       {"host", absl::StrFormat("ftp%03d.example.net", i)},
                       {"port", 21},
                       {"user", "loader"},
                       {"password", "ftp-pass"},
                       {"is_secure", i % 2 == 0},
                       {"prefix", "exports"},
                       {"file_type", "csv"},
                       {"compression", "infer"},
                       {"on_error", "fail"},
                       {"append_file_option", "upsert_file"}};
  } else if (service == "s3") {
    c["config"] = json{{"schema", base_schema},
                       {"table", "files"},
                       {"bucket", absl::StrFormat("bucket-%03d", i)},
                       {"role_arn", "arn:aws:iam::123456789012:role/fivetran-demo"},
                       {"file_type", "csv"}};
  } else if (service == "postgres" || service == "mysql" || service == "sql_server") {
    const int port = service == "postgres" ? 5432 : service == "mysql" ? 3306 : 1433;
    c["config"] = DbConfig(base_schema, absl::StrFormat("db%03d.example.test", i), port);
  } else {
    c["config"] = json{{"schema", base_schema},
                       {"account_id", absl::StrFormat("acct-%03d", i)},
                       {"api_token", "saas-token"}};
  }
  return c;
}

json User(const std::string& id, int i) {
  const std::string given = kGivenNames[i % kGivenNames.size()];
  const std::string family = kFamilyNames[(i * 7) % kFamilyNames.size()];
  const bool never_logged_in = i % 9 == 4;
  json u{{"id", id},
         {"email", absl::AsciiStrToLower(absl::StrFormat("%s.%s%d@example.com", given, family, i))},
         {"given_name", given},
         {"family_name", family},
         {"verified", !never_logged_in},
         {"invited", never_logged_in || i % 5 == 0},
         {"active", i % 8 != 6},
         {"role", kRoles[i % kRoles.size()]},
         {"picture", nullptr},
         {"phone", nullptr},
         {"logged_in_at", nullptr},
         {"created_at", Ts(kEpoch2024 + int64_t{i} * 43200 + 5, int64_t{i} * 1009 + 1)}};
  if (i % 4 != 1) u["picture"] = absl::StrFormat("https://example.com/avatars/%d.png", i);
  if (i % 3 == 0) u["phone"] = absl::StrFormat("+1 555 01%02d", i % 100);
  if (!never_logged_in) u["logged_in_at"] = Ts(kEpoch2026 + int64_t{i} * 5400 + 3, i * 313 + 7);
  return u;
}

}  // namespace

std::string IdMinter::Next(std::set<std::string>* taken) {
  constexpr uint64_t kA = kAdjectives.size();
  constexpr uint64_t kN = kNouns.size();
  while (true) {
    const uint64_t k = position_++;
    const uint64_t round = k / (kA * kN);
    const uint64_t r = k % (kA * kN);
    const uint64_t a = r % kA;
    const uint64_t m = r / kA;
    const uint64_t n = (a + m * (kA + 1)) % kN;
    std::string id = absl::StrCat(kAdjectives[a], "_", kNouns[n]);
    if (round > 0) absl::StrAppend(&id, "_", round + 1);
    if (taken->insert(id).second) return id;
  }
}

json BuiltinSeed() {
  json groups = json::array({
      json{{"id", "projected_sickle"},
           {"name", "Staging"},
           {"created_at", "2018-12-20T11:59:35.089589Z"}},
      json{{"id", "amber_fjord"},
           {"name", "Production"},
           {"created_at", "2019-01-08T19:53:52.185146Z"}},
      json{{"id", "quiet_harbor"},
           {"name", "Sandbox"},
           {"created_at", "2021-05-04T07:15:00.000001Z"}},
      json{
          {"id", "empty_meadow"}, {"name", "Empty"}, {"created_at", "2022-02-22T22:22:22.222222Z"}},
  });

  std::vector<json> special = SpecialConnections();
  std::set<std::string> taken = {"projected_sickle", "amber_fjord",  "quiet_harbor", "empty_meadow",
                                 kApiUserId,         "pending_lark", "frozen_yak"};
  for (const json& c : special) taken.insert(c["id"].get<std::string>());

  // Users: three documented ones, then generated ones (130 in total).
  json users = json::array();
  json admin = User(kApiUserId, 0);
  admin["given_name"] = "Ana";
  admin["family_name"] = "Ruiz";
  admin["email"] = "ana.ruiz@example.com";
  admin["role"] = "Account Administrator";
  admin["active"] = true;
  admin["verified"] = true;
  admin["invited"] = false;
  admin["phone"] = "+1 555 0100";
  admin["picture"] = nullptr;
  admin["logged_in_at"] = "2026-05-30T17:22:10.401200Z";
  admin["created_at"] = "2021-02-11T08:01:44.900311Z";
  users.push_back(admin);
  json lark = User("pending_lark", 4);  // invited, never logged in
  lark["active"] = true;
  users.push_back(lark);
  json yak = User("frozen_yak", 6);  // suspended
  yak["active"] = false;
  users.push_back(yak);

  IdMinter minter;
  std::vector<std::string> user_ids;
  for (int i = 3; i < 130; ++i) {
    std::string id = minter.Next(&taken);
    user_ids.push_back(id);
    users.push_back(User(id, i));
  }

  json connections = json::array();
  for (json& c : special) connections.push_back(std::move(c));
  for (int i = 0; i < 260; ++i) {
    connections.push_back(GenericConnection(minter.Next(&taken), "amber_fjord", i, user_ids));
  }
  for (int i = 0; i < 3; ++i) {
    connections.push_back(
        GenericConnection(minter.Next(&taken), "quiet_harbor", 300 + i, user_ids));
  }
  return json{{"groups", groups}, {"users", users}, {"connections", connections}};
}

}  // namespace fivetran_emulator
