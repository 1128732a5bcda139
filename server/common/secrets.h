// Secrets: which JSON members hold one, and how to keep them out of every
// message, detail, response and log line. Never logs anything itself.
#ifndef FIVETRAN_GATEWAY_SERVER_COMMON_SECRETS_H_
#define FIVETRAN_GATEWAY_SERVER_COMMON_SECRETS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "nlohmann/json.hpp"

namespace fivetran_gateway {

// What a masked secret reads as, in responses and messages.
inline constexpr absl::string_view kMasked = "******";

// True when a JSON key names a secret value. The key is lower-cased and
// stripped of '_', '-' and '.', then it is secret when it contains one of:
// password, passwd, passphrase, secret, token, apikey, privatekey,
// accesskey, credential, authorization, cookie; or when it equals "auth" or
// "pwd". So password, pgp_secret_key, pgp_pass_phrase, client_secret,
// api_key, private_key, access_key_id, app_token, refresh_token and
// connect_card's token are secret; signer_public_key, user and host are not.
// Deliberately errs on the side of secrecy, except for flags about a
// secret: keys starting with is_/use_/has_ or ending with _enabled,
// _encrypted, _method or _type (is_private_key_encrypted,
// use_pgp_encryption_options, auth_method) are not secret.
bool IsSecretKey(absl::string_view key);

// A copy of `j` in which the value of every object member whose key
// IsSecretKey (at any depth, also inside arrays) is replaced by "******".
// Null values stay null. Iterative: safe on hostile nesting.
nlohmann::json RedactSecrets(const nlohmann::json& j);

// The values of secret members (IsSecretKey) of a request body, at any
// depth, longest first; masked and very short values are left out.
std::vector<std::string> SecretValues(const nlohmann::json& body);

// In place: masks the value of every member whose key IsSecretKey (as
// RedactSecrets does) and every string that contains one of `secrets`, with
// "******". Recursive: only for documents of bounded depth.
void ScrubJson(nlohmann::json& j, absl::Span<const std::string> secrets);

// Replaces every occurrence of the non-empty `scrub` strings by "***".
std::string Scrub(absl::string_view text, absl::Span<const std::string> scrub);

}  // namespace fivetran_gateway

#endif  // FIVETRAN_GATEWAY_SERVER_COMMON_SECRETS_H_
