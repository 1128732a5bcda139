#include "server/credentials.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace fivetran_gateway {
namespace {

constexpr char kKeyName[] = "FIVETRAN_API_KEY";
constexpr char kSecretName[] = "FIVETRAN_API_SECRET";

absl::Status Missing(absl::string_view origin) {
  return absl::FailedPreconditionError(
      absl::StrCat("no Fivetran credentials: set ", kKeyName, " and ", kSecretName, " in ", origin,
                   " (create an API key in the Fivetran dashboard), or run the bundled emulator "
                   "(tools/run.sh does both)"));
}

}  // namespace

absl::StatusOr<Credentials> ParseCredentials(absl::string_view text, absl::string_view origin) {
  Credentials c;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    absl::ConsumePrefix(&line, "export ");
    size_t eq = line.find('=');
    if (eq == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(origin, ":", line_no, ": expected NAME=value"));
    }
    absl::string_view name = absl::StripAsciiWhitespace(line.substr(0, eq));
    absl::string_view value = absl::StripAsciiWhitespace(line.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    if (name == kKeyName) {
      c.api_key = std::string(value);
    } else if (name == kSecretName) {
      c.api_secret = std::string(value);
    } else {
      // The name is not quoted: a key pasted on the wrong line would leak.
      return absl::InvalidArgumentError(absl::StrCat(
          origin, ":", line_no, ": unknown name (expected ", kKeyName, " or ", kSecretName, ")"));
    }
  }
  if (c.api_key.empty() || c.api_secret.empty()) return Missing(origin);
  return c;
}

absl::StatusOr<Credentials> LoadCredentials(absl::string_view path) {
  if (!path.empty()) {
    std::ifstream in{std::string(path)};
    if (!in) {
      return absl::NotFoundError(absl::StrCat("cannot read credentials file ", path));
    }
    std::stringstream text;
    text << in.rdbuf();
    return ParseCredentials(text.str(), path);
  }
  const char* key = std::getenv(kKeyName);
  const char* secret = std::getenv(kSecretName);
  if (key == nullptr || secret == nullptr || *key == '\0' || *secret == '\0') {
    return Missing("the environment");
  }
  return Credentials{key, secret};
}

}  // namespace fivetran_gateway
