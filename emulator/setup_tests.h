// The emulated setup tests of a new connection.
#ifndef EMULATOR_SETUP_TESTS_H_
#define EMULATOR_SETUP_TESTS_H_

#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace fivetran_emulator {

// The documented setup-test rule. Inspects the string values of the config
// keys host, user, username and schema: any containing "fail"
// (case-insensitive) -> a FAILED test; else any containing "warn" -> a WARNING
// test; else all tests PASSED.
nlohmann::json RunSetupTests(absl::string_view service, const nlohmann::json& config);

}  // namespace fivetran_emulator

#endif  // EMULATOR_SETUP_TESTS_H_
