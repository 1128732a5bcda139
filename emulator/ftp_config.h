// Validation of the `config` of an FTP connection create (service "ftp").
#ifndef EMULATOR_FTP_CONFIG_H_
#define EMULATOR_FTP_CONFIG_H_

#include "absl/status/status.h"
#include "nlohmann/json.hpp"

namespace fivetran_emulator {

// Maps the 2019 camelCase keys to today's names, checks the FTP fields
// (required host/user/password, port range, enums, types, the file mapping
// and PGP rules) and fills the default port 21. InvalidInput on the first
// problem.
absl::Status ValidateFtpConfig(nlohmann::json* config);

}  // namespace fivetran_emulator

#endif  // EMULATOR_FTP_CONFIG_H_
