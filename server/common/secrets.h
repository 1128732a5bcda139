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

// True when a JSON key names a secret value. At least as wide as what
// Fivetran masks (and the emulator models: password, secret, token,
// pass_phrase, `key`, `*_key` but public keys), minus facts about a secret.
//
// The key is split into lower-case words at every character that is not a
// letter or digit and where camelCase turns upper ("X-Api-Key" -> x api key,
// "accountKey" -> account key); "the joined key" is the words run together.
// In this order:
//  1. Facts about a secret are not secret: the first word is is, use, has,
//     enable or disable (is_private_key_encrypted, use_pgp_encryption_options),
//     or the last word is count, enabled, encrypted, method, type, mode,
//     length, size, format, version, at, expiry, expires, expiration, ttl,
//     name, path, uri, url or endpoint (credential_count, auth_method,
//     token_expires_at, token_uri). A URL is never secret as a whole: its
//     secret parts are masked inside it (ScrubJson).
//  2. A key whose last word is key or keys names a secret, except public
//     keys and schema terms: the word before is public, primary, partition,
//     sort, foreign, cluster, clustering, distribution, dist, shard,
//     sharding, unique, composite, surrogate, natural, business, join,
//     lookup, hash, range, row, index, merge, upsert, dedup, object, table,
//     column, cursor or idempotency (signer_public_key, primary_key,
//     partition_key). So key, api_key, account_key, pgp_secret_key and
//     master_key are secret.
//  3. Otherwise it is secret when the joined key contains password, passwd,
//     passphrase, secret, token, credential, authorization, cookie,
//     connectionstring, apikey, privatekey, accesskey or accountkey
//     (client_secret, refresh_token, access_key_id, private_key_contents),
//     when the last word is signature or sig, or when the joined key is
//     auth, pwd, pin, dsn or jwt.
// Anything else (user, host, port, uri, author, id, hash) is not secret.
bool IsSecretKey(absl::string_view key);

// A copy of `j` masked as ScrubJson(copy, {}) does. Iterative: safe on
// hostile nesting.
nlohmann::json RedactSecrets(const nlohmann::json& j);

// The values of secret members (IsSecretKey) of a request body, at any
// depth, longest first: strings and numbers (as JSON writes them), not
// booleans; masked and very short values are left out.
std::vector<std::string> SecretValues(const nlohmann::json& body);

// The Fivetran credentials a client sends, as strings to scrub: the key, the
// secret and "key:secret" (what `Authorization: Basic` encodes). Scrub and
// ScrubJson add their encodings (SecretForms).
std::vector<std::string> CredentialSecrets(absl::string_view key, absl::string_view secret);

// Every shape in which `secret` may be echoed, itself first: percent-encoded
// (upper- and lower-case hex, and form encoding with '+' for a space),
// JSON-escaped (with and without \u escapes of non-ASCII), base64 (standard
// and URL-safe, with and without padding), and normalised as error snippets
// are (runs of white space, control and non-ASCII bytes collapsed to one
// space). Derived shapes shorter than 4 characters are left out.
std::vector<std::string> SecretForms(absl::string_view secret);

// In place, iteratively, over a parsed response:
//  - the value of every member whose key IsSecretKey becomes "******"
//    (null and booleans stay: a flag holds no secret; other types of
//    non-secret members are kept as they are);
//  - in every string, the value of a URL query parameter whose name
//    IsSecretKey (or is `code`, `sig`, `signature`) and the password of a
//    URL's user info become "******" (connect_card.uri's `auth=` token);
//  - every string that contains a shape (SecretForms) of one of `secrets`,
//    or of a value at least 8 characters long of a secret member of the same
//    document, becomes "******", and so does every number equal to one.
void ScrubJson(nlohmann::json& j, absl::Span<const std::string> secrets);

// ScrubJson's rules for a reader that walks a document itself (one that
// builds no nlohmann DOM, e.g. server/fivetran/connection_page_reader.h):
//  1. for every member whose key IsSecretKey and whose value is not null or a
//     boolean, AddSecretLeaf each string and each number (its JSON text) at or
//     below it; that member's value reads as kMasked;
//  2. Seal();
//  3. every other string goes through ScrubString, and every other number
//     whose JSON text IsSecretNumber (only when MayMaskNumbers) reads as
//     kMasked.
// The result is what ScrubJson(document, secrets) leaves.
class DocumentScrubber {
 public:
  explicit DocumentScrubber(absl::Span<const std::string> secrets);
  // A string or number leaf of a secret member (step 1). Short values and
  // kMasked itself are not kept: they cannot be told from common words.
  // True when it was kept.
  bool AddSecretLeaf(absl::string_view value);
  void Seal();
  // Masks URL secrets in `*value` and makes it kMasked when it holds a shape
  // of a secret. True when `*value` changed.
  bool ScrubString(std::string* value) const;
  // False when no secret could be the JSON text of a number (it has a
  // character no number has): then no number is masked, and none needs its
  // text made for IsSecretNumber.
  bool MayMaskNumbers() const { return may_mask_numbers_; }
  bool IsSecretNumber(absl::string_view json_text) const;

 private:
  std::vector<std::string> raw_;    // Before Seal: the secrets; after: deduplicated.
  std::vector<std::string> forms_;  // Every shape of raw_, longest first.
  bool may_mask_numbers_ = false;
};

// Replaces every shape (SecretForms) of the non-empty `scrub` strings in
// `text` by "***" (longest first), and masks URL secrets as ScrubJson does.
// Scrub raw text before any normalising or truncating of it.
std::string Scrub(absl::string_view text, absl::Span<const std::string> scrub);

}  // namespace fivetran_gateway

#endif  // FIVETRAN_GATEWAY_SERVER_COMMON_SECRETS_H_
