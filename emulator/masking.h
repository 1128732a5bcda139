// Secret masking of connection config, as every API response shows it.
//
// Fivetran masks secret values only: a password, token, secret or private key
// comes back as the string "******"; every other value (and the type of every
// non-string value) is returned as sent. The OpenAPI definition marks secrets
// with `format: password`, and every such field is a string.
#ifndef EMULATOR_MASKING_H_
#define EMULATOR_MASKING_H_

#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace fivetran_emulator {

// Whether a config key names a secret. On the lower-cased name:
//  1. Not secret when it names something about a secret rather than the
//     secret itself: it starts with "is_", "has_" or "use_", or ends in
//     "_count", "_id", "_ids", "_name", "_type", "_url" or "_at"
//     (token_count, secret_manager_id, token_type, oauth_token_url,
//     refresh_token_expires_at); or it is a public key (ends in "public_key")
//     or a column key (primary_key, partition_key, sort_key, ...).
//  2. Secret when it contains "password", "passwd", "secret", "token",
//     "pass_phrase", "passphrase" or "connection_string", is "key", or ends
//     in "_key" (api_key, private_key, pgp_secret_key, secret_access_key).
//  3. Otherwise not secret.
bool IsSecretKey(absl::string_view key);

// Copy of `config` in which every string under a secret key (at any depth,
// including inside arrays and objects below it) is replaced by "******".
// Numbers, booleans and nulls are kept as sent, and so is every value under
// a key that is not secret.
nlohmann::json MaskSecrets(const nlohmann::json& config);

// A stored connection as the API returns it: `config` masked.
nlohmann::json RenderConnection(const nlohmann::json& stored);

}  // namespace fivetran_emulator

#endif  // EMULATOR_MASKING_H_
