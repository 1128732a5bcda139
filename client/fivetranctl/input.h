// Local input of fivetranctl: durations, files, stdin and the terminal. Every problem is a
// UsageError (exit 2), raised before anything is sent.
#ifndef CLIENT_FIVETRANCTL_INPUT_H_
#define CLIENT_FIVETRANCTL_INPUT_H_

#include <stdexcept>
#include <string>

#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace fivetranctl {

// A local input problem: reported as a usage error (exit 2), nothing is sent.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A positive, finite duration such as "30s", "500ms" or "2m"; a bare number means seconds.
// `flag` names the flag in the error.
absl::Duration ParseDurationFlag(const std::string& flag, const std::string& text);

// Contents of a file, or of stdin for "-".
std::string ReadInput(const std::string& flag, const std::string& path);

// A secret from a file, without its trailing line break; an empty secret is an error.
std::string ReadSecretFile(const std::string& flag, const std::string& path);

// A JSON object from a file (or stdin for "-").
nlohmann::json ReadJsonObject(const std::string& flag, const std::string& path);

// Reads a line from the terminal without echo; "" when stdin is not a terminal.
std::string PromptSecret(const std::string& prompt);

}  // namespace fivetranctl

#endif  // CLIENT_FIVETRANCTL_INPUT_H_
