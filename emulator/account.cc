#include "emulator/account.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "emulator/api_error.h"

namespace fivetran_emulator {
namespace {

using nlohmann::json;

constexpr char kMask[] = "******";
constexpr size_t kMaxEchoedLength = 200;

// User-supplied text echoed in messages is cut short.
std::string Echo(absl::string_view s) {
  if (s.size() <= kMaxEchoedLength) return std::string(s);
  return absl::StrCat(s.substr(0, kMaxEchoedLength), "...");
}

const json* Find(const json& obj, absl::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(std::string(key));
  return it == obj.end() ? nullptr : &*it;
}

// Missing and explicit null are the same thing for optional fields.
const json* FindNonNull(const json& obj, absl::string_view key) {
  const json* v = Find(obj, key);
  return (v == nullptr || v->is_null()) ? nullptr : v;
}

std::string StringOr(const json& obj, absl::string_view key, absl::string_view fallback = "") {
  const json* v = Find(obj, key);
  if (v == nullptr || !v->is_string()) return std::string(fallback);
  return v->get<std::string>();
}

absl::Status Required(absl::string_view field) {
  return InvalidInput(absl::StrCat("Field '", field, "' is required"));
}

absl::Status WrongType(absl::string_view field, absl::string_view type) {
  return InvalidInput(absl::StrCat("Field '", field, "' must be ", type));
}

absl::StatusOr<std::string> RequiredString(const json& obj, absl::string_view field,
                                           absl::string_view label) {
  const json* v = FindNonNull(obj, field);
  if (v == nullptr) return Required(label);
  if (!v->is_string()) return WrongType(label, "a string");
  std::string s = v->get<std::string>();
  if (s.empty()) return Required(label);
  return s;
}

absl::StatusOr<std::optional<std::string>> OptionalString(const json& obj, absl::string_view field,
                                                          absl::string_view label) {
  const json* v = FindNonNull(obj, field);
  if (v == nullptr) return std::optional<std::string>();
  if (!v->is_string()) return WrongType(label, "a string");
  return std::optional<std::string>(v->get<std::string>());
}

// Booleans, tolerating "true"/"false" strings (the 2019 example scripts send
// them).
absl::StatusOr<std::optional<bool>> OptionalBool(const json& obj, absl::string_view field,
                                                 absl::string_view label) {
  const json* v = FindNonNull(obj, field);
  if (v == nullptr) return std::optional<bool>();
  if (v->is_boolean()) return std::optional<bool>(v->get<bool>());
  if (v->is_string()) {
    const std::string s = absl::AsciiStrToLower(v->get<std::string>());
    if (s == "true") return std::optional<bool>(true);
    if (s == "false") return std::optional<bool>(false);
  }
  return WrongType(label, "a boolean");
}

// Integers, tolerating integral floats and decimal strings.
absl::StatusOr<std::optional<int64_t>> OptionalInt(const json& obj, absl::string_view field,
                                                   absl::string_view label) {
  const json* v = FindNonNull(obj, field);
  if (v == nullptr) return std::optional<int64_t>();
  if (v->is_number_integer()) return std::optional<int64_t>(v->get<int64_t>());
  if (v->is_number_unsigned()) {
    uint64_t u = v->get<uint64_t>();
    if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return std::optional<int64_t>(static_cast<int64_t>(u));
    }
  }
  if (v->is_number_float()) {
    double d = v->get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e15) {
      return std::optional<int64_t>(static_cast<int64_t>(d));
    }
  }
  if (v->is_string()) {
    int64_t parsed = 0;
    if (absl::SimpleAtoi(v->get<std::string>(), &parsed)) return std::optional<int64_t>(parsed);
  }
  return WrongType(label, "an integer");
}

absl::StatusOr<std::optional<std::string>> OptionalEnum(const json& obj, absl::string_view field,
                                                        absl::string_view label,
                                                        const std::vector<std::string>& allowed) {
  absl::StatusOr<std::optional<std::string>> s = OptionalString(obj, field, label);
  if (!s.ok() || !s->has_value()) return s;
  if (std::find(allowed.begin(), allowed.end(), **s) == allowed.end()) {
    return InvalidInput(absl::StrCat("Invalid value '", Echo(**s), "' for field '", label,
                                     "'. Allowed values: ", absl::StrJoin(allowed, ", ")));
  }
  return s;
}

absl::StatusOr<std::optional<json>> OptionalObject(const json& obj, absl::string_view field,
                                                   absl::string_view label) {
  const json* v = FindNonNull(obj, field);
  if (v == nullptr) return std::optional<json>();
  if (!v->is_object()) return WrongType(label, "an object");
  return std::optional<json>(*v);
}

bool IsIdentifier(absl::string_view s, size_t max_len) {
  if (s.empty() || s.size() > max_len) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

bool IsFileService(absl::string_view service) {
  static const std::set<std::string>* kFile = new std::set<std::string>{
      "ftp",          "sftp", "s3",      "gcs",   "azure_blob_storage", "google_sheets",
      "google_drive", "box",  "dropbox", "email", "share_point"};
  return kFile->count(std::string(service)) > 0;
}

absl::StatusOr<absl::Time> ParseTs(const json& v) {
  if (!v.is_string()) return absl::InvalidArgumentError("not a timestamp");
  absl::Time t;
  std::string err;
  if (!absl::ParseTime("%Y-%m-%dT%H:%M:%E*SZ", v.get<std::string>(), absl::UTCTimeZone(), &t,
                       &err)) {
    return absl::InvalidArgumentError(err);
  }
  return t;
}

// FTP config keys of the 2019 example script, mapped to today's names.
void NormalizeFtpAliases(json* config) {
  static const std::vector<std::pair<std::string, std::string>>* kAliases =
      new std::vector<std::pair<std::string, std::string>>{
          {"isSecure", "is_secure"},
          {"fileType", "file_type"},
          {"onError", "on_error"},
          {"appendFileOption", "append_file_option"},
          {"archivePattern", "archive_pattern"},
          {"nullSequence", "null_sequence"},
          {"escapeChar", "escape_char"},
          {"skipBefore", "skip_before"},
          {"skipAfter", "skip_after"}};
  for (const auto& [old_name, new_name] : *kAliases) {
    auto it = config->find(old_name);
    if (it == config->end()) continue;
    if (config->find(new_name) == config->end()) (*config)[new_name] = *it;
    config->erase(old_name);
  }
}

absl::Status ValidateFtpConfig(json* config) {
  NormalizeFtpAliases(config);
  for (const char* field : {"host", "user", "password"}) {
    absl::StatusOr<std::string> s = RequiredString(*config, field, field);
    if (!s.ok()) return s.status();
  }
  absl::StatusOr<std::optional<int64_t>> port = OptionalInt(*config, "port", "port");
  if (!port.ok()) return port.status();
  if (port->has_value() && (**port < 1 || **port > 65535)) {
    return InvalidInput("Invalid value for field 'port': it must be between 1 and 65535");
  }
  if (!port->has_value()) (*config)["port"] = 21;

  struct EnumField {
    const char* name;
    std::vector<std::string> values;
  };
  static const std::vector<EnumField>* kEnums = new std::vector<EnumField>{
      // Current values plus the older infer/log/unstructured ones.
      {"file_type",
       {"csv", "tsv", "json", "jsonl", "avro", "parquet", "xml", "spreadsheet", "infer", "log",
        "unstructured"}},
      {"compression",
       {"infer", "uncompressed", "zip", "gz", "gzip", "bz2", "tar", "tar_gz", "tar_bz2"}},
      {"on_error", {"fail", "skip"}},
      {"append_file_option", {"upsert_file", "append_file", "upsert_file_with_primary_keys"}},
      {"json_delivery_mode", {"Packed", "Unpacked"}},
      {"file_mapping_method", {"DEFINE_PER_TABLE", "EXTRACT_TABLES"}},
  };
  for (const EnumField& f : *kEnums) {
    absl::StatusOr<std::optional<std::string>> v = OptionalEnum(*config, f.name, f.name, f.values);
    if (!v.ok()) return v.status();
  }
  for (const char* field :
       {"is_secure", "empty_header", "quote_character_enabled", "use_pgp_encryption_options"}) {
    absl::StatusOr<std::optional<bool>> b = OptionalBool(*config, field, field);
    if (!b.ok()) return b.status();
  }
  for (const char* field : {"skip_before", "skip_after"}) {
    absl::StatusOr<std::optional<int64_t>> n = OptionalInt(*config, field, field);
    if (!n.ok()) return n.status();
    if (n->has_value() && **n < 0) {
      return InvalidInput(absl::StrCat("Invalid value for field '", field, "': must be >= 0"));
    }
  }
  for (const char* field : {"prefix", "pattern", "archive_pattern", "null_sequence", "delimiter",
                            "escape_char", "line_separator", "quote_char", "selected_range",
                            "extraction_pattern", "table", "table_group_name"}) {
    absl::StatusOr<std::optional<std::string>> s = OptionalString(*config, field, field);
    if (!s.ok()) return s.status();
  }

  const std::string mapping = StringOr(*config, "file_mapping_method");
  if (mapping == "DEFINE_PER_TABLE") {
    const json* files = FindNonNull(*config, "files");
    if (files == nullptr) return Required("files");
    if (!files->is_array() || files->empty()) return WrongType("files", "a non-empty array");
    for (const json& f : *files) {
      if (!f.is_object()) return WrongType("files[]", "an object");
      absl::StatusOr<std::string> t = RequiredString(f, "table_name", "files[].table_name");
      if (!t.ok()) return t.status();
    }
  } else if (mapping == "EXTRACT_TABLES") {
    absl::StatusOr<std::string> p =
        RequiredString(*config, "extraction_pattern", "extraction_pattern");
    if (!p.ok()) return p.status();
  } else if (StringOr(*config, "table").empty() && StringOr(*config, "table_group_name").empty()) {
    return Required("table");
  }

  absl::StatusOr<std::optional<bool>> pgp =
      OptionalBool(*config, "use_pgp_encryption_options", "use_pgp_encryption_options");
  if (pgp.ok() && pgp->value_or(false)) {
    absl::StatusOr<std::string> key = RequiredString(*config, "pgp_secret_key", "pgp_secret_key");
    if (!key.ok()) return key.status();
  }
  return absl::OkStatus();
}

json MakeStatus(absl::string_view setup_state, absl::string_view sync_state) {
  return json{{"setup_state", setup_state},    {"sync_state", sync_state},
              {"update_state", "on_schedule"}, {"is_historical_sync", true},
              {"tasks", json::array()},        {"warnings", json::array()}};
}

// Page over `items` (sorted by id) keeping those `keep` accepts.
template <typename Pred>
absl::StatusOr<json> Page(const std::map<std::string, json>& items, const PageRequest& page,
                          absl::string_view fingerprint, Pred keep,
                          const std::function<json(const json&)>& render) {
  auto it = items.begin();
  if (!page.cursor.empty()) {
    absl::StatusOr<std::string> after = DecodeCursor(page.cursor, fingerprint);
    if (!after.ok()) return after.status();
    it = items.upper_bound(*after);
  }
  json out = json::array();
  std::string last_id;
  for (; it != items.end(); ++it) {
    if (!keep(it->second)) continue;
    if (static_cast<int>(out.size()) == page.limit) break;
    out.push_back(render(it->second));
    last_id = it->first;
  }
  // `it` now points at the first unreturned candidate; look for another match.
  bool more = false;
  for (; it != items.end(); ++it) {
    if (keep(it->second)) {
      more = true;
      break;
    }
  }
  json data{{"items", std::move(out)}};
  if (more) data["next_cursor"] = EncodeCursor(last_id, fingerprint);
  return data;
}

json RenderConnection(const json& stored) {
  json out = stored;
  auto config = out.find("config");
  if (config != out.end()) *config = MaskSecrets(*config);
  return out;
}

json Identity(const json& j) { return j; }

}  // namespace

absl::StatusOr<SyncOutcome> ParseSyncOutcome(absl::string_view name) {
  if (name == "success") return SyncOutcome::kSuccess;
  if (name == "failure") return SyncOutcome::kFailure;
  if (name == "reschedule") return SyncOutcome::kReschedule;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown sync outcome '", Echo(name), "' (success|failure|reschedule)"));
}

const char* SyncOutcomeName(SyncOutcome outcome) {
  switch (outcome) {
    case SyncOutcome::kSuccess:
      return "success";
    case SyncOutcome::kFailure:
      return "failure";
    case SyncOutcome::kReschedule:
      return "reschedule";
  }
  return "success";
}

bool IsSecretKey(absl::string_view key) {
  const std::string k = absl::AsciiStrToLower(key);
  for (const char* word : {"password", "secret", "token", "pass_phrase", "passphrase"}) {
    if (absl::StrContains(k, word)) return true;
  }
  if (k == "key") return true;
  if (absl::EndsWith(k, "public_key")) return false;
  return absl::EndsWith(k, "_key");
}

json MaskSecrets(const json& config) {
  if (config.is_array()) {
    json out = json::array();
    for (const json& v : config) out.push_back(MaskSecrets(v));
    return out;
  }
  if (!config.is_object()) return config;
  json out = json::object();
  for (auto it = config.begin(); it != config.end(); ++it) {
    if (IsSecretKey(it.key()) && !it.value().is_null()) {
      out[it.key()] = kMask;
    } else {
      out[it.key()] = MaskSecrets(it.value());
    }
  }
  return out;
}

json RunSetupTests(absl::string_view service, const json& config) {
  std::vector<std::string> titles;
  if (service == "ftp" || service == "sftp") {
    titles = {service == "ftp" ? "Connecting to FTP server" : "Connecting to SFTP server",
              "Validating credentials", "Listing files under prefix"};
  } else {
    titles = {"Validating configuration", "Connecting to source", "Checking permissions"};
  }
  std::string failed_key;
  std::string warned_key;
  for (const char* key : {"host", "user", "username", "schema"}) {
    const std::string v = absl::AsciiStrToLower(StringOr(config, key));
    if (failed_key.empty() && absl::StrContains(v, "fail")) failed_key = key;
    if (warned_key.empty() && absl::StrContains(v, "warn")) warned_key = key;
  }
  json tests = json::array();
  for (size_t i = 0; i < titles.size(); ++i) {
    std::string status = "PASSED";
    std::string message;
    if (!failed_key.empty()) {
      if (i == 1) {
        status = "FAILED";
        message = absl::StrCat("Emulated failure: config value '", failed_key, "' contains 'fail'");
      } else if (i > 1) {
        status = "SKIPPED";
      }
    } else if (!warned_key.empty() && i + 1 == titles.size()) {
      status = "WARNING";
      message = absl::StrCat("Emulated warning: config value '", warned_key, "' contains 'warn'");
    }
    tests.push_back(json{{"title", titles[i]}, {"status", status}, {"message", message}});
  }
  return tests;
}

Account::Account(json seed, AccountOptions options)
    : seed_(std::move(seed)), options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<Account>> Account::Create(json seed, AccountOptions options) {
  std::unique_ptr<Account> account(new Account(std::move(seed), std::move(options)));
  absl::MutexLock lock(&account->mu_);
  absl::Status loaded = account->LoadLocked(account->seed_);
  if (!loaded.ok()) return loaded;
  return account;
}

absl::Time Account::Now() const { return options_.now ? options_.now() : absl::Now(); }

absl::Status Account::LoadLocked(const json& seed) {
  groups_.clear();
  users_.clear();
  connections_.clear();
  taken_ids_.clear();
  running_.clear();
  overrides_.clear();
  minter_ = IdMinter();
  created_count_ = 0;
  if (!seed.is_object()) return absl::InvalidArgumentError("seed: top level must be an object");
  for (const char* key : {"groups", "users", "connections"}) {
    const json* arr = Find(seed, key);
    if (arr == nullptr || !arr->is_array()) {
      return absl::InvalidArgumentError(absl::StrCat("seed: '", key, "' must be an array"));
    }
  }
  auto check_id = [](const json& item, const std::string& where) -> absl::StatusOr<std::string> {
    if (!item.is_object()) return absl::InvalidArgumentError(where + ": must be an object");
    const std::string id = StringOr(item, "id");
    if (id.empty()) return absl::InvalidArgumentError(where + ": 'id' must be a non-empty string");
    return id;
  };
  const json& groups = seed["groups"];
  for (size_t i = 0; i < groups.size(); ++i) {
    const std::string where = absl::StrCat("seed: groups[", i, "]");
    absl::StatusOr<std::string> id = check_id(groups[i], where);
    if (!id.ok()) return id.status();
    if (!Find(groups[i], "name") || !groups[i]["name"].is_string() ||
        !ParseTs(groups[i].value("created_at", json())).ok()) {
      return absl::InvalidArgumentError(where + ": needs string 'name' and 'created_at'");
    }
    if (!groups_.emplace(*id, groups[i]).second) {
      return absl::InvalidArgumentError(where + ": duplicate id '" + *id + "'");
    }
    taken_ids_.insert(*id);
  }
  const json& users = seed["users"];
  for (size_t i = 0; i < users.size(); ++i) {
    const std::string where = absl::StrCat("seed: users[", i, "]");
    absl::StatusOr<std::string> id = check_id(users[i], where);
    if (!id.ok()) return id.status();
    if (!users_.emplace(*id, users[i]).second) {
      return absl::InvalidArgumentError(where + ": duplicate id '" + *id + "'");
    }
    taken_ids_.insert(*id);
  }
  const json& connections = seed["connections"];
  for (size_t i = 0; i < connections.size(); ++i) {
    const std::string where = absl::StrCat("seed: connections[", i, "]");
    absl::StatusOr<std::string> id = check_id(connections[i], where);
    if (!id.ok()) return id.status();
    json c = connections[i];
    const std::string group = StringOr(c, "group_id");
    if (groups_.count(group) == 0) {
      return absl::InvalidArgumentError(where + ": 'group_id' must name a seeded group");
    }
    const json* status = Find(c, "status");
    if (StringOr(c, "service").empty() || !Find(c, "schema") || !c["schema"].is_string() ||
        status == nullptr || !status->is_object()) {
      return absl::InvalidArgumentError(
          where + ": needs string 'service' and 'schema' and an object 'status'");
    }
    const json* config = Find(c, "config");
    if (config == nullptr || config->is_null()) {
      c["config"] = json::object();
    } else if (!config->is_object()) {
      return absl::InvalidArgumentError(where + ": 'config' must be an object");
    }
    if (!connections_.emplace(*id, std::move(c)).second) {
      return absl::InvalidArgumentError(where + ": duplicate id '" + *id + "'");
    }
    taken_ids_.insert(*id);
  }
  return absl::OkStatus();
}

void Account::Reset() {
  absl::MutexLock lock(&mu_);
  // The seed was validated when the account was created.
  (void)LoadLocked(seed_);
}

void Account::SettleLocked(absl::Time now) {
  std::vector<std::pair<absl::Time, std::string>> due;
  for (const auto& [id, run] : running_) {
    if (run.finish <= now) due.emplace_back(run.finish, id);
  }
  std::sort(due.begin(), due.end());
  for (const auto& [finish, id] : due) {
    auto it = running_.find(id);
    RunningSync run = it->second;
    running_.erase(it);
    FinishSyncLocked(id, run);
  }
}

void Account::FinishSyncLocked(const std::string& id, const RunningSync& run) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  json& c = it->second;
  // Never earlier than (or equal to) any timestamp this connection shows.
  absl::Time floor = run.finish;
  for (const char* key : {"created_at", "succeeded_at", "failed_at"}) {
    absl::StatusOr<absl::Time> t = ParseTs(c.value(key, json()));
    if (t.ok()) floor = std::max(floor, *t + absl::Microseconds(1));
  }
  const absl::Time ts = issuer_.Issue(floor);
  json& status = c["status"];
  status.erase("rescheduled_for");
  status["update_state"] = "on_schedule";
  switch (run.outcome) {
    case SyncOutcome::kSuccess:
      c["succeeded_at"] = FormatTimestamp(ts);
      status["sync_state"] = "scheduled";
      status["is_historical_sync"] = false;
      break;
    case SyncOutcome::kFailure:
      c["failed_at"] = FormatTimestamp(ts);
      status["sync_state"] = "scheduled";
      break;
    case SyncOutcome::kReschedule:
      status["sync_state"] = "rescheduled";
      status["rescheduled_for"] = FormatTimestamp(ts + run.reschedule_delay);
      break;
  }
}

absl::StatusOr<json> Account::GetConnection(absl::string_view id) {
  absl::MutexLock lock(&mu_);
  SettleLocked(Now());
  auto it = connections_.find(std::string(id));
  if (it == connections_.end()) {
    return NotFoundError("NotFound_Connection",
                         absl::StrCat("Connection with id '", Echo(id), "' does not exist."));
  }
  return RenderConnection(it->second);
}

absl::StatusOr<json> Account::ListConnections(const std::optional<std::string>& group_id,
                                              const std::optional<std::string>& schema,
                                              const PageRequest& page) {
  absl::MutexLock lock(&mu_);
  SettleLocked(Now());
  if (group_id.has_value() && groups_.count(*group_id) == 0) {
    return NotFoundError("NotFound_Group",
                         absl::StrCat("Group with id '", Echo(*group_id), "' does not exist."));
  }
  const std::string fingerprint =
      absl::StrCat("connections|", group_id.has_value() ? "g=" + *group_id : "", "|",
                   schema.has_value() ? "s=" + *schema : "");
  auto keep = [&](const json& c) {
    if (group_id.has_value() && StringOr(c, "group_id") != *group_id) return false;
    if (schema.has_value() && StringOr(c, "schema") != *schema) return false;
    return true;
  };
  return Page(connections_, page, fingerprint, keep, RenderConnection);
}

absl::StatusOr<json> Account::ListGroups(const PageRequest& page) {
  absl::MutexLock lock(&mu_);
  return Page(
      groups_, page, "groups", [](const json&) { return true; }, Identity);
}

absl::StatusOr<json> Account::ListUsers(std::optional<bool> active, const PageRequest& page) {
  absl::MutexLock lock(&mu_);
  const std::string fingerprint =
      absl::StrCat("users|", active.has_value() ? (*active ? "active" : "inactive") : "all");
  auto keep = [&](const json& u) {
    if (!active.has_value()) return true;
    const json* a = Find(u, "active");
    return a != nullptr && a->is_boolean() && a->get<bool>() == *active;
  };
  return Page(users_, page, fingerprint, keep, Identity);
}

absl::StatusOr<json> Account::CreateConnection(const json& body) {
  absl::MutexLock lock(&mu_);
  SettleLocked(Now());
  absl::StatusOr<json> built = BuildConnectionLocked(body);
  if (!built.ok()) return built.status();
  const std::string id = (*built)["id"].get<std::string>();
  connections_[id] = *built;
  ++created_count_;
  return RenderConnection(*built);
}

absl::StatusOr<json> Account::BuildConnectionLocked(const json& body) {
  if (!body.is_object()) return InvalidInput("Request body must be a JSON object");
  absl::StatusOr<std::string> group_id = RequiredString(body, "group_id", "group_id");
  if (!group_id.ok()) return group_id.status();
  absl::StatusOr<std::string> service = RequiredString(body, "service", "service");
  if (!service.ok()) return service.status();
  if (!IsIdentifier(*service, 64) || absl::AsciiStrToLower(*service) != *service) {
    return InvalidInput(absl::StrCat("Unsupported service '", Echo(*service), "'"));
  }
  if (groups_.count(*group_id) == 0) {
    return NotFoundError("NotFound_Group",
                         absl::StrCat("Group with id '", Echo(*group_id), "' does not exist."));
  }

  json c = json::object();
  for (const char* field : {"run_setup_tests", "trust_certificates", "trust_fingerprints", "paused",
                            "pause_after_trial"}) {
    absl::StatusOr<std::optional<bool>> b = OptionalBool(body, field, field);
    if (!b.ok()) return b.status();
    c[field] = b->value_or(std::string(field) == "run_setup_tests");
  }
  const bool run_setup_tests = c["run_setup_tests"].get<bool>();
  c.erase("run_setup_tests");
  c.erase("trust_certificates");
  c.erase("trust_fingerprints");

  absl::StatusOr<std::optional<int64_t>> freq =
      OptionalInt(body, "sync_frequency", "sync_frequency");
  if (!freq.ok()) return freq.status();
  static const std::vector<int64_t>* kFreqs =
      new std::vector<int64_t>{1, 5, 15, 30, 60, 120, 180, 360, 480, 720, 1440};
  if (freq->has_value() && std::find(kFreqs->begin(), kFreqs->end(), **freq) == kFreqs->end()) {
    return InvalidInput(absl::StrCat(
        "Invalid value '", **freq,
        "' for field 'sync_frequency'. Allowed values: ", absl::StrJoin(*kFreqs, ", ")));
  }
  c["sync_frequency"] = freq->value_or(360);

  struct EnumField {
    const char* name;
    std::vector<std::string> values;
    const char* fallback;
  };
  static const std::vector<EnumField>* kEnums = new std::vector<EnumField>{
      {"schedule_type", {"auto", "manual"}, "auto"},
      {"data_delay_sensitivity", {"LOW", "NORMAL", "HIGH", "CUSTOM", "SYNC_FREQUENCY"}, "NORMAL"},
      {"networking_method", {"Directly", "PrivateLink", "SshTunnel", "ProxyAgent"}, "Directly"},
      {"destination_schema_names", {"FIVETRAN_NAMING", "SOURCE_NAMING"}, "FIVETRAN_NAMING"},
  };
  for (const EnumField& f : *kEnums) {
    absl::StatusOr<std::optional<std::string>> v = OptionalEnum(body, f.name, f.name, f.values);
    if (!v.ok()) return v.status();
    c[f.name] = v->value_or(f.fallback);
  }
  absl::StatusOr<std::optional<int64_t>> threshold =
      OptionalInt(body, "data_delay_threshold", "data_delay_threshold");
  if (!threshold.ok()) return threshold.status();
  if (threshold->has_value() && **threshold < 0) {
    return InvalidInput("Invalid value for field 'data_delay_threshold': must be >= 0");
  }
  c["data_delay_threshold"] = threshold->value_or(0);

  absl::StatusOr<std::optional<std::string>> daily =
      OptionalString(body, "daily_sync_time", "daily_sync_time");
  if (!daily.ok()) return daily.status();
  if (daily->has_value()) {
    const std::string& d = **daily;
    int hour = -1;
    if (d.size() != 5 || d.substr(2) != ":00" || !absl::SimpleAtoi(d.substr(0, 2), &hour) ||
        !absl::ascii_isdigit(static_cast<unsigned char>(d[0])) || hour < 0 || hour > 23) {
      return InvalidInput(absl::StrCat("Invalid value '", Echo(d),
                                       "' for field 'daily_sync_time'. Expected HH:00, 00:00 to "
                                       "23:00"));
    }
    c["daily_sync_time"] = d;
  } else {
    c["daily_sync_time"] = nullptr;
  }
  for (const char* field : {"proxy_agent_id", "private_link_id", "hybrid_deployment_agent_id",
                            "external_secrets_manager_id"}) {
    absl::StatusOr<std::optional<std::string>> s = OptionalString(body, field, field);
    if (!s.ok()) return s.status();
    if (s->has_value()) c[field] = **s;
  }
  absl::StatusOr<std::optional<json>> dest =
      OptionalObject(body, "destination_configuration", "destination_configuration");
  if (!dest.ok()) return dest.status();
  if (dest->has_value()) c["destination_configuration"] = **dest;
  absl::StatusOr<std::optional<json>> card =
      OptionalObject(body, "connect_card_config", "connect_card_config");
  if (!card.ok()) return card.status();
  if (card->has_value()) {
    absl::StatusOr<std::string> uri =
        RequiredString(**card, "redirect_uri", "connect_card_config.redirect_uri");
    if (!uri.ok()) return uri.status();
    c["connect_card_config"] = **card;
  }
  absl::StatusOr<std::optional<json>> auth = OptionalObject(body, "auth", "auth");
  if (!auth.ok()) return auth.status();

  absl::StatusOr<std::optional<json>> config_in = OptionalObject(body, "config", "config");
  if (!config_in.ok()) return config_in.status();
  json config = config_in->value_or(json::object());
  absl::StatusOr<std::string> schema = RequiredString(config, "schema", "schema");
  if (!schema.ok()) return schema.status();
  if (!IsIdentifier(*schema, 128)) {
    return InvalidInput(absl::StrCat("Invalid value '", Echo(*schema),
                                     "' for field 'schema': use letters, digits and '_'"));
  }
  if (*service == "ftp") {
    absl::Status ftp = ValidateFtpConfig(&config);
    if (!ftp.ok()) return ftp;
  }
  std::string name = *schema;
  if (IsFileService(*service)) {
    std::string table = StringOr(config, "table");
    if (table.empty()) table = StringOr(config, "table_group_name");
    if (!table.empty()) absl::StrAppend(&name, ".", table);
  }
  for (const auto& [other_id, other] : connections_) {
    if (StringOr(other, "group_id") == *group_id && StringOr(other, "schema") == name) {
      return ConflictError(absl::StrCat("Connection with schema '", Echo(name),
                                        "' already exists in group '", Echo(*group_id), "'"));
    }
  }
  if (created_count_ >= options_.max_created_connections) {
    return ApiError(429, "TooManyRequests",
                    "The emulator's limit on connections created through the API was reached");
  }

  json setup_tests = json::array();
  std::string setup_state = "incomplete";
  if (run_setup_tests) {
    setup_tests = RunSetupTests(*service, config);
    setup_state = "connected";
    for (const json& t : setup_tests) {
      if (t["status"] == "FAILED") setup_state = "incomplete";
    }
  }
  const bool paused = c["paused"].get<bool>();
  c["id"] = minter_.Next(&taken_ids_);
  c["group_id"] = *group_id;
  c["service"] = *service;
  c["service_version"] = 1;
  c["schema"] = name;
  c["connected_by"] = users_.count(kApiUserId) ? json(kApiUserId) : json(nullptr);
  c["created_at"] = FormatTimestamp(issuer_.Issue(Now()));
  c["succeeded_at"] = nullptr;
  c["failed_at"] = nullptr;
  c["status"] = MakeStatus(setup_state, paused ? "paused" : "scheduled");
  c["setup_tests"] = std::move(setup_tests);
  c["source_sync_details"] = json::object();
  c["config"] = std::move(config);
  return c;
}

absl::Status Account::TriggerSync(absl::string_view id, bool force) {
  absl::MutexLock lock(&mu_);
  const absl::Time now = Now();
  SettleLocked(now);
  auto it = connections_.find(std::string(id));
  if (it == connections_.end()) {
    return NotFoundError("NotFound_Connection",
                         absl::StrCat("Connection with id '", Echo(id), "' does not exist."));
  }
  json& c = it->second;
  const std::string setup_state = StringOr(c["status"], "setup_state");
  if (setup_state == "incomplete" && options_.reject_incomplete_sync) {
    return InvalidInput(absl::StrCat("Connection '", Echo(id),
                                     "' cannot be synced: setup_state is 'incomplete', expected "
                                     "'connected'"));
  }
  const json* paused = Find(c, "paused");
  if (paused != nullptr && paused->is_boolean() && paused->get<bool>()) {
    if (options_.paused_sync_conflict) {
      return ConflictError(absl::StrCat("Connection '", Echo(id), "' is paused"));
    }
    return absl::OkStatus();  // accepted, nothing happens
  }
  if (running_.count(it->first) > 0 && !force) return absl::OkStatus();

  RunningSync run;
  run.outcome = setup_state == "broken" ? SyncOutcome::kFailure : options_.default_outcome;
  absl::Duration duration = options_.sync_duration;
  run.reschedule_delay = options_.reschedule_delay;
  auto ov = overrides_.find(it->first);
  if (ov != overrides_.end()) {
    run.outcome = ov->second.outcome;
    if (ov->second.duration.has_value()) duration = *ov->second.duration;
    if (ov->second.reschedule_delay.has_value())
      run.reschedule_delay = *ov->second.reschedule_delay;
  }
  run.finish = now + std::max(duration, absl::ZeroDuration());
  running_[it->first] = run;
  c["status"]["sync_state"] = "syncing";
  c["status"].erase("rescheduled_for");
  return absl::OkStatus();
}

absl::Status Account::SetSyncOverride(absl::string_view id, const SyncOverride& override_value) {
  absl::MutexLock lock(&mu_);
  if (connections_.count(std::string(id)) == 0) {
    return NotFoundError("NotFound_Connection",
                         absl::StrCat("Connection with id '", Echo(id), "' does not exist."));
  }
  overrides_[std::string(id)] = override_value;
  return absl::OkStatus();
}

size_t Account::ConnectionCount() const {
  absl::MutexLock lock(&mu_);
  return connections_.size();
}

}  // namespace fivetran_emulator
