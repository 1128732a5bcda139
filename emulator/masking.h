// Secret masking of connection config, as every API response shows it.
#ifndef EMULATOR_MASKING_H_
#define EMULATOR_MASKING_H_

#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace fivetran_emulator {

// Secret masking rule: a config key is secret when its lower-cased name
// contains "password", "secret", "token", "pass_phrase" or "passphrase", or is
// "key"/"api_key"/"private_key" or ends in "_key" (but not "public_key").
bool IsSecretKey(absl::string_view key);

// Copy of `config` with every non-null value under a secret key replaced by
// "******", recursing into nested objects and arrays.
nlohmann::json MaskSecrets(const nlohmann::json& config);

// A stored connection as the API returns it: `config` masked.
nlohmann::json RenderConnection(const nlohmann::json& stored);

}  // namespace fivetran_emulator

#endif  // EMULATOR_MASKING_H_
