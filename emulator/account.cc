#include "emulator/account.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "emulator/api_error.h"
#include "emulator/json_fields.h"
#include "emulator/masking.h"
#include "emulator/new_connection.h"
#include "emulator/setup_tests.h"

namespace fivetran_emulator {

using nlohmann::json;

namespace {

json MakeStatus(absl::string_view setup_state, absl::string_view sync_state) {
  return json{{"setup_state", setup_state},    {"sync_state", sync_state},
              {"update_state", "on_schedule"}, {"is_historical_sync", true},
              {"tasks", json::array()},        {"warnings", json::array()}};
}

// The item at `where` must be an object with a non-empty string id.
absl::StatusOr<std::string> CheckSeedId(const json& item, const std::string& where) {
  if (!item.is_object()) return absl::InvalidArgumentError(where + ": must be an object");
  const std::string id = StringOr(item, "id");
  if (id.empty()) return absl::InvalidArgumentError(where + ": 'id' must be a non-empty string");
  return id;
}

}  // namespace

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
  if (absl::Status s = LoadGroupsLocked(seed["groups"]); !s.ok()) return s;
  if (absl::Status s = LoadUsersLocked(seed["users"]); !s.ok()) return s;
  return LoadConnectionsLocked(seed["connections"]);
}

absl::Status Account::LoadGroupsLocked(const json& groups) {
  for (size_t i = 0; i < groups.size(); ++i) {
    const std::string where = absl::StrCat("seed: groups[", i, "]");
    absl::StatusOr<std::string> id = CheckSeedId(groups[i], where);
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
  return absl::OkStatus();
}

absl::Status Account::LoadUsersLocked(const json& users) {
  for (size_t i = 0; i < users.size(); ++i) {
    const std::string where = absl::StrCat("seed: users[", i, "]");
    absl::StatusOr<std::string> id = CheckSeedId(users[i], where);
    if (!id.ok()) return id.status();
    if (!users_.emplace(*id, users[i]).second) {
      return absl::InvalidArgumentError(where + ": duplicate id '" + *id + "'");
    }
    taken_ids_.insert(*id);
  }
  return absl::OkStatus();
}

absl::Status Account::LoadConnectionsLocked(const json& connections) {
  for (size_t i = 0; i < connections.size(); ++i) {
    const std::string where = absl::StrCat("seed: connections[", i, "]");
    absl::StatusOr<std::string> id = CheckSeedId(connections[i], where);
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
    if (!connections_.emplace(*id, StoredConnection(std::move(c))).second) {
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

absl::Status Account::ConnectionNotFound(absl::string_view id) {
  return NotFoundError("NotFound_Connection",
                       absl::StrCat("Connection with id '", Echo(id), "' does not exist."));
}

absl::StatusOr<json> Account::GetConnection(absl::string_view id) {
  absl::MutexLock lock(&mu_);
  SettleLocked(Now());
  auto it = connections_.find(std::string(id));
  if (it == connections_.end()) {
    return ConnectionNotFound(id);
  }
  return RenderConnection(it->second.value());
}

absl::StatusOr<json> Account::CreateConnection(const json& body) {
  absl::MutexLock lock(&mu_);
  SettleLocked(Now());
  absl::StatusOr<json> built = BuildConnectionLocked(body);
  if (!built.ok()) return built.status();
  const std::string id = (*built)["id"].get<std::string>();
  connections_.insert_or_assign(id, StoredConnection(*built));
  ++created_count_;
  return RenderConnection(*built);
}

absl::StatusOr<json> Account::BuildConnectionLocked(const json& body) {
  absl::StatusOr<CreateTarget> target = ParseCreateTarget(body);
  if (!target.ok()) return target.status();
  const std::string& group_id = target->group_id;
  if (groups_.count(group_id) == 0) {
    return NotFoundError("NotFound_Group",
                         absl::StrCat("Group with id '", Echo(group_id), "' does not exist."));
  }
  absl::StatusOr<NewConnection> parsed = ParseNewConnection(body, target->service);
  if (!parsed.ok()) return parsed.status();
  const std::string& name = parsed->schema_name;
  for (const auto& [other_id, other] : connections_) {
    if (StringOr(other.value(), "group_id") == group_id &&
        StringOr(other.value(), "schema") == name) {
      return ConflictError(absl::StrCat("Connection with schema '", Echo(name),
                                        "' already exists in group '", Echo(group_id), "'"));
    }
  }
  if (created_count_ >= options_.max_created_connections) {
    return ApiError(429, "TooManyRequests",
                    "The emulator's limit on connections created through the API was reached");
  }

  json setup_tests = json::array();
  std::string setup_state = "incomplete";
  if (parsed->run_setup_tests) {
    setup_tests = RunSetupTests(target->service, parsed->config);
    setup_state = "connected";
    for (const json& t : setup_tests) {
      if (t["status"] == "FAILED") setup_state = "incomplete";
    }
  }
  json c = std::move(parsed->fields);
  const bool paused = c["paused"].get<bool>();
  c["id"] = minter_.Next(&taken_ids_);
  c["group_id"] = group_id;
  c["service"] = target->service;
  c["service_version"] = 1;
  c["schema"] = name;
  c["connected_by"] = users_.count(kApiUserId) ? json(kApiUserId) : json(nullptr);
  c["created_at"] = FormatTimestamp(issuer_.Issue(Now()));
  c["succeeded_at"] = nullptr;
  c["failed_at"] = nullptr;
  c["status"] = MakeStatus(setup_state, paused ? "paused" : "scheduled");
  c["setup_tests"] = std::move(setup_tests);
  c["source_sync_details"] = json::object();
  c["config"] = std::move(parsed->config);
  return c;
}

size_t Account::ConnectionCount() const {
  absl::MutexLock lock(&mu_);
  return connections_.size();
}

}  // namespace fivetran_emulator
