#include "emulator/setup_tests.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "emulator/json_fields.h"

namespace fivetran_emulator {

using nlohmann::json;

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

}  // namespace fivetran_emulator
