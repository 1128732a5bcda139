#include "emulator/masking.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace fivetran_emulator {

using nlohmann::json;

namespace {

constexpr char kMask[] = "******";

// Keys about a secret (a flag, count, id, name, type, URL or time) or keys
// that merely end in "key" without being one.
bool NamesNonSecret(absl::string_view k) {
  for (const char* prefix : {"is_", "has_", "use_"}) {
    if (absl::StartsWith(k, prefix)) return true;
  }
  for (const char* suffix :
       {"_count", "_id", "_ids", "_name", "_type", "_url", "_at", "public_key"}) {
    if (absl::EndsWith(k, suffix)) return true;
  }
  // Column keys of a table, not credentials.
  for (const char* column_key :
       {"primary_key", "partition_key", "sort_key", "foreign_key", "unique_key", "cluster_key",
        "clustering_key", "distribution_key", "shard_key"}) {
    const absl::string_view key(column_key);
    if (k == key || (absl::EndsWith(k, key) && k[k.size() - key.size() - 1] == '_')) return true;
  }
  return false;
}

// Masks, in place, every string under a secret key (at any depth).
void Mask(json& value, bool secret) {
  if (value.is_string()) {
    if (secret) value = kMask;
  } else if (value.is_array()) {
    for (json& v : value) Mask(v, secret);
  } else if (value.is_object()) {
    for (auto it = value.begin(); it != value.end(); ++it) {
      Mask(it.value(), secret || IsSecretKey(it.key()));
    }
  }  // numbers, booleans and null as sent
}

}  // namespace

bool IsSecretKey(absl::string_view key) {
  const std::string k = absl::AsciiStrToLower(key);
  if (NamesNonSecret(k)) return false;
  for (const char* word : {"password", "passwd", "secret", "token", "pass_phrase", "passphrase",
                           "connection_string"}) {
    if (absl::StrContains(k, word)) return true;
  }
  return k == "key" || absl::EndsWith(k, "_key");
}

json MaskSecrets(const json& config) {
  json out = config;
  Mask(out, /*secret=*/false);
  return out;
}

json RenderConnection(const json& stored) {
  json out = stored;
  auto config = out.find("config");
  if (config != out.end()) Mask(*config, /*secret=*/false);
  return out;
}

}  // namespace fivetran_emulator
