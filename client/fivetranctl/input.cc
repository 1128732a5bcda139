#include "client/fivetranctl/input.h"

#include <termios.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace fivetranctl {

using nlohmann::json;

absl::Duration ParseDurationFlag(const std::string& flag, const std::string& text) {
  std::string t(absl::StripAsciiWhitespace(text));
  // A bare number means seconds.
  if (!t.empty() && t.find_first_not_of("0123456789.") == std::string::npos) t += "s";
  absl::Duration d;
  if (!absl::ParseDuration(t, &d) || d <= absl::ZeroDuration() || d == absl::InfiniteDuration()) {
    throw UsageError(
        absl::StrCat(flag, ": '", text, "' is not a positive duration (examples: 30s, 500ms, 2m)"));
  }
  return d;
}

std::string ReadInput(const std::string& flag, const std::string& path) {
  std::stringstream s;
  if (path == "-") {
    s << std::cin.rdbuf();
    return s.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError(absl::StrCat(flag, ": cannot read '", path, "'"));
  s << in.rdbuf();
  return s.str();
}

std::string ReadSecretFile(const std::string& flag, const std::string& path) {
  std::string s = ReadInput(flag, path);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  if (s.empty()) throw UsageError(absl::StrCat(flag, ": '", path, "' is empty"));
  return s;
}

json ReadJsonObject(const std::string& flag, const std::string& path) {
  std::string text = ReadInput(flag, path);
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    throw UsageError(absl::StrCat(flag, ": '", path, "' is not valid JSON"));
  }
  if (!j.is_object())
    throw UsageError(absl::StrCat(flag, ": '", path, "' must hold a JSON object"));
  return j;
}

std::string PromptSecret(const std::string& prompt) {
  if (!isatty(STDIN_FILENO)) return "";
  termios old_mode{};
  const bool have_mode = tcgetattr(STDIN_FILENO, &old_mode) == 0;
  if (have_mode) {
    termios quiet_mode = old_mode;
    quiet_mode.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet_mode);
  }
  std::cerr << prompt << std::flush;
  std::string line;
  std::getline(std::cin, line);
  if (have_mode) tcsetattr(STDIN_FILENO, TCSAFLUSH, &old_mode);
  std::cerr << "\n";
  while (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace fivetranctl
