#include "emulator/masking.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace fivetran_emulator {

using nlohmann::json;

namespace {
constexpr char kMask[] = "******";
}  // namespace

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

json RenderConnection(const json& stored) {
  json out = stored;
  auto config = out.find("config");
  if (config != out.end()) *config = MaskSecrets(*config);
  return out;
}

}  // namespace fivetran_emulator
