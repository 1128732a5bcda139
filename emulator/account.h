// The emulated Fivetran account: groups, users and connections, the create
// rules (validation, setup tests), list/pagination and the sync state machine.
// Thread-safe; every public method takes the account lock.
//
// account.cc (state, seed, details, create), account_lists.cc (listings),
// account_sync.cc (sync state machine). The create body is checked by
// new_connection.h (and ftp_config.h), config masked by masking.h, setup
// tests run by setup_tests.h.
#ifndef EMULATOR_ACCOUNT_H_
#define EMULATOR_ACCOUNT_H_

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "emulator/clock.h"
#include "emulator/pagination.h"
#include "emulator/seed.h"
#include "nlohmann/json.hpp"

namespace fivetran_emulator {

enum class SyncOutcome { kSuccess, kFailure, kReschedule };

absl::StatusOr<SyncOutcome> ParseSyncOutcome(absl::string_view name);
const char* SyncOutcomeName(SyncOutcome outcome);

struct AccountOptions {
  // How long a triggered sync stays in `syncing`.
  absl::Duration sync_duration = absl::Seconds(3);
  // Outcome of a sync without a per-connection override.
  SyncOutcome default_outcome = SyncOutcome::kSuccess;
  // Sync of a paused connection: false = 200 and nothing happens,
  // true = 409 Conflict.
  bool paused_sync_conflict = false;
  // Sync of a connection whose setup_state is `incomplete`: true = 400
  // InvalidInput (field report B14), false = accepted like any other.
  bool reject_incomplete_sync = true;
  // `rescheduled_for` = end of the sync + this, for the `reschedule` outcome.
  absl::Duration reschedule_delay = absl::Hours(1);
  // Upper bound on connections created through the API (memory bound).
  size_t max_created_connections = 10000;
  // Clock; tests inject a fake one. Defaults to absl::Now.
  std::function<absl::Time()> now;
};

// Per-connection sync behaviour set through the admin endpoint.
struct SyncOverride {
  SyncOutcome outcome = SyncOutcome::kSuccess;
  std::optional<absl::Duration> duration;
  std::optional<absl::Duration> reschedule_delay;
};

class Account {
 public:
  // Validates `seed` (see README, "Seed file format") and builds the account.
  static absl::StatusOr<std::unique_ptr<Account>> Create(nlohmann::json seed,
                                                         AccountOptions options);

  // Restores the seed (created connections, running syncs and overrides are
  // dropped). Timestamps keep increasing across resets.
  void Reset() ABSL_LOCKS_EXCLUDED(mu_);

  // Connection object as the API returns it (config secrets masked).
  absl::StatusOr<nlohmann::json> GetConnection(absl::string_view id) ABSL_LOCKS_EXCLUDED(mu_);

  // `data` of a list response as JSON text (DumpJson's form, for
  // WriteSuccessText): {"items":[...],"next_cursor":"..."?}. group_id ==
  // nullopt lists all groups; an unknown group is NotFound_Group.
  absl::StatusOr<std::string> ListConnections(const std::optional<std::string>& group_id,
                                              const std::optional<std::string>& schema,
                                              const PageRequest& page) ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::string> ListGroups(const PageRequest& page) ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::string> ListUsers(std::optional<bool> active, const PageRequest& page)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Validates a create request body and stores the new connection.
  absl::StatusOr<nlohmann::json> CreateConnection(const nlohmann::json& body)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Starts a sync (see README, "Sync state machine").
  absl::Status TriggerSync(absl::string_view id, bool force) ABSL_LOCKS_EXCLUDED(mu_);

  absl::Status SetSyncOverride(absl::string_view id, const SyncOverride& override_value)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Ends the connection's running sync now, with the outcome it was started
  // with (as if its duration had just passed). True when a sync was running;
  // false when none was (nothing changes). NotFound for an unknown id.
  absl::StatusOr<bool> EndSync(absl::string_view id) ABSL_LOCKS_EXCLUDED(mu_);

  // Number of connections (all groups); for tests.
  size_t ConnectionCount() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // A stored connection, and its text as the API shows it (RenderConnection,
  // then DumpJson), made at the first read after each change: listing a page
  // of 1,000 connections then copies text instead of masking and dumping
  // every one again. Every change goes through mutable_value(), which drops
  // the text.
  class StoredConnection {
   public:
    explicit StoredConnection(nlohmann::json value) : value_(std::move(value)) {}
    const nlohmann::json& value() const { return value_; }
    nlohmann::json& mutable_value() {
      text_.clear();
      return value_;
    }
    const std::string& Text() const;

   private:
    nlohmann::json value_;
    mutable std::string text_;  // "" until read; never "" once made
  };

  struct RunningSync {
    absl::Time finish;
    SyncOutcome outcome = SyncOutcome::kSuccess;
    absl::Duration reschedule_delay;
  };

  Account(nlohmann::json seed, AccountOptions options);

  // Replaces the state with `seed`'s, checked (see README, "Seed file format").
  absl::Status LoadLocked(const nlohmann::json& seed) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status LoadGroupsLocked(const nlohmann::json& groups) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status LoadUsersLocked(const nlohmann::json& users) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status LoadConnectionsLocked(const nlohmann::json& connections)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Time Now() const;
  // 404 NotFound_Connection for `id`, as Fivetran answers an unknown connection.
  static absl::Status ConnectionNotFound(absl::string_view id);
  // Completes every running sync whose end time has passed.
  void SettleLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FinishSyncLocked(const std::string& id, const RunningSync& run)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The connection a create request describes (not yet stored), or the
  // error Fivetran answers the request with.
  absl::StatusOr<nlohmann::json> BuildConnectionLocked(const nlohmann::json& body)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const nlohmann::json seed_;
  const AccountOptions options_;

  mutable absl::Mutex mu_;
  std::map<std::string, nlohmann::json> groups_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, nlohmann::json> users_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, StoredConnection> connections_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> taken_ids_ ABSL_GUARDED_BY(mu_);
  IdMinter minter_ ABSL_GUARDED_BY(mu_);
  TimestampIssuer issuer_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, RunningSync> running_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, SyncOverride> overrides_ ABSL_GUARDED_BY(mu_);
  size_t created_count_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace fivetran_emulator

#endif  // EMULATOR_ACCOUNT_H_
