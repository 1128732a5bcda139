// The body of a create request (POST /v1/connections), checked field by field
// as Fivetran does: everything that does not depend on the account's state.
// Account::CreateConnection adds the group, uniqueness and limit checks, the
// setup tests and the server-assigned fields.
#ifndef EMULATOR_NEW_CONNECTION_H_
#define EMULATOR_NEW_CONNECTION_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace fivetran_emulator {

// Checked first: a JSON object with `group_id` and a lower-case `service`.
struct CreateTarget {
  std::string group_id;
  std::string service;
};
absl::StatusOr<CreateTarget> ParseCreateTarget(const nlohmann::json& body);

// Checked once the group is known to exist.
struct NewConnection {
  // Connection fields with their defaults: paused, pause_after_trial,
  // sync_frequency, daily_sync_time, schedule_type, data_delay_sensitivity,
  // data_delay_threshold, networking_method, destination_schema_names and,
  // when given, the optional ids, destination_configuration and
  // connect_card_config.
  nlohmann::json fields;
  bool run_setup_tests = true;
  // The config as stored (FTP aliases renamed, FTP port defaulted), unmasked.
  nlohmann::json config;
  // The connection's `schema`: config.schema, plus ".<table>" for file
  // services that name a table.
  std::string schema_name;
};
absl::StatusOr<NewConnection> ParseNewConnection(const nlohmann::json& body,
                                                 absl::string_view service);

}  // namespace fivetran_emulator

#endif  // EMULATOR_NEW_CONNECTION_H_
