#include "server/common/secrets.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_replace.h"

namespace fivetran_gateway {
namespace {

using nlohmann::json;

// The rule of secrets.h, as a table: every row is a key Fivetran (or a
// connector's config) uses, and whether its value is a secret.
TEST(SecretTest, IsSecretKeyTable) {
  struct Row {
    const char* key;
    bool secret;
  } rows[] = {
      // Secret words anywhere in the key.
      {"password", true},
      {"PASSWORD", true},
      {"pgp_pass_phrase", true},
      {"passwd", true},
      {"pwd", true},
      {"secret", true},
      {"api_secret", true},
      {"client_secret", true},
      {"token", true},
      {"app_token", true},
      {"refresh_token", true},
      {"accessToken", true},
      {"credentials", true},
      {"Authorization", true},
      {"auth", true},
      {"cookie", true},
      {"connection_string", true},
      {"connectionString", true},
      {"pin", true},
      // `key`, and every *_key / *Key that is not a public key or a schema term.
      {"key", true},
      {"keys", true},
      {"api_key", true},
      {"apiKey", true},
      {"X-Api-Key", true},
      {"pgp_secret_key", true},
      {"private_key", true},
      {"private_key_contents", true},
      {"access_key_id", true},
      {"secret_access_key", true},
      {"account_key", true},
      {"accountKey", true},
      {"master_key", true},
      {"encryption_key", true},
      {"sas_key", true},
      {"service_account_key", true},
      // Public keys and schema terms are not secret.
      {"public_key", false},
      {"publicKey", false},
      {"signer_public_key", false},
      {"ssh_public_key", false},
      {"primary_key", false},
      {"primary_keys", false},
      {"primaryKey", false},
      {"partition_key", false},
      {"sort_key", false},
      {"foreign_key", false},
      {"cluster_key", false},
      {"clustering_keys", false},
      {"distribution_key", false},
      {"shard_key", false},
      {"unique_key", false},
      // Facts about a secret: counts, flags, kinds, times, where to get one.
      {"credential_count", false},
      {"token_count", false},
      {"key_count", false},
      {"is_private_key_encrypted", false},
      {"use_pgp_encryption_options", false},
      {"has_password", false},
      {"password_enabled", false},
      {"auth_method", false},
      {"auth_type", false},
      {"token_type", false},
      {"token_expires_at", false},
      {"token_uri", false},
      {"secret_length", false},
      {"key_id", false},
      // Plain fields.
      {"user", false},
      {"host", false},
      {"port", false},
      {"schema", false},
      {"author", false},
      {"prefix", false},
      {"pattern", false},
      {"uri", false},
      {"id", false},
      {"table_name", false},
      {"monkey", false},
      {"hash", false},
      {"", false},
  };
  for (const Row& r : rows) EXPECT_EQ(IsSecretKey(r.key), r.secret) << r.key;
}

TEST(SecretTest, RedactSecretsRecursively) {
  const json in = json::parse(R"({"host":"h","password":"p1","nested":{"api_key":"k",
      "list":[{"client_secret":"s","keep":1}],"token":null},"auth":{"client_id":"c"},
      "arr":[["x",{"pgp_pass_phrase":{"deep":"y"}}]]})");
  const json out = RedactSecrets(in);
  EXPECT_EQ(out, json::parse(R"({"host":"h","password":"******","nested":{"api_key":"******",
      "list":[{"client_secret":"******","keep":1}],"token":null},"auth":"******",
      "arr":[["x",{"pgp_pass_phrase":"******"}]]})"));
  EXPECT_EQ(RedactSecrets(json("plain")), json("plain"));
}

// Issue 11 C: masking keeps every non-secret value as it is, type included;
// a secret number is masked like a secret string; a flag is never a secret.
TEST(SecretTest, MaskingKeepsNonSecretValuesAndTheirTypes) {
  const json in = json::parse(R"({"credential_count":2,"token_count":0,"key_count":3,
      "is_private_key_encrypted":false,"password_enabled":true,"auth_method":"key",
      "primary_key":["id"],"sort_key":"ts","public_key":"ssh-ed25519 AAAA","pin":123456,
      "account_key":"acc-key-value-1","connection_string":"Server=x;Password=y",
      "key":"k-value-12345","password":true,"api_key":null})");
  const json out = RedactSecrets(in);
  EXPECT_EQ(out, json::parse(R"({"credential_count":2,"token_count":0,"key_count":3,
      "is_private_key_encrypted":false,"password_enabled":true,"auth_method":"key",
      "primary_key":["id"],"sort_key":"ts","public_key":"ssh-ed25519 AAAA","pin":"******",
      "account_key":"******","connection_string":"******",
      "key":"******","password":true,"api_key":null})"));
}

TEST(ScrubJsonTest, MasksSecretKeysAndSecretValuesInOnePass) {
  nlohmann::json j = nlohmann::json::parse(R"({
    "data": {"config": {"password": "pw-1234", "host": "h", "is_private_key_encrypted": "false",
                        "note": "uses pw-1234 here", "token": null},
             "items": [{"message": "key k3y-secret"}]}})");
  ScrubJson(j, std::vector<std::string>{"pw-1234", "k3y-secret"});
  EXPECT_EQ(j["data"]["config"]["password"], "******");
  EXPECT_EQ(j["data"]["config"]["note"], "******");
  EXPECT_EQ(j["data"]["config"]["host"], "h");
  EXPECT_EQ(j["data"]["config"]["is_private_key_encrypted"], "false");
  EXPECT_TRUE(j["data"]["config"]["token"].is_null());
  EXPECT_EQ(j["data"]["items"][0]["message"], "******");
}

// Issue 11 D: the Connect Card's uri carries its token; both are masked, and
// so is any secret query parameter or URL password anywhere in a document.
TEST(ScrubJsonTest, ConnectCardUriIsMaskedLikeItsToken) {
  json j = json::parse(R"({"data":{"connect_card":{"token":"eyJhbGciOiJIUzI1NiJ9.card",
      "uri":"https://fivetran.com/connect-card/setup?auth=eyJhbGciOiJIUzI1NiJ9.card"},
      "note":"see https://fivetran.com/connect-card/setup?auth=eyJhbGciOiJIUzI1NiJ9.card",
      "other":"https://x.test/cb?state=1&access_token=at-9f8e7d&lang=en",
      "signed":"https://bucket.test/o?X-Amz-Signature=5ig-abcdef&X-Amz-Date=1",
      "database_url":"postgres://loader:db-pw-4471@db.test:5432/x",
      "redirect_uri":"https://app.example.test/done?tab=1"}})");
  ScrubJson(j, {});
  const json& d = j["data"];
  EXPECT_EQ(d["connect_card"]["token"], "******");
  EXPECT_EQ(d["connect_card"]["uri"], "https://fivetran.com/connect-card/setup?auth=******");
  EXPECT_EQ(d["note"], "see https://fivetran.com/connect-card/setup?auth=******");
  EXPECT_EQ(d["other"], "https://x.test/cb?state=1&access_token=******&lang=en");
  EXPECT_EQ(d["signed"], "https://bucket.test/o?X-Amz-Signature=******&X-Amz-Date=1");
  EXPECT_EQ(d["database_url"], "postgres://loader:******@db.test:5432/x");
  EXPECT_EQ(d["redirect_uri"], "https://app.example.test/done?tab=1");
  // A secret member's value elsewhere in the same document, in any shape.
  json k = json::parse(R"({"connect_card":{"token":"ct_fresh_otter_demo",
      "uri":"https://fivetran.com/setup/ct_fresh_otter_demo"},"n":1})");
  ScrubJson(k, {});
  EXPECT_EQ(k["connect_card"]["uri"], "******");
  EXPECT_EQ(k["n"], 1);
}

TEST(SecretTest, SecretValuesAreLongestFirstWithoutMaskedOrShortOnes) {
  const json body = json::parse(R"({"config":{"password":"pw","pgp_secret_key":"key-material",
      "nested":[{"api_key":"k3y-secret"}],"token":"******","host":"k3y-secret-host"}})");
  EXPECT_EQ(SecretValues(body), (std::vector<std::string>{"key-material", "k3y-secret"}));
}

// Issue 11 B: a secret number is a secret value too; a flag is not.
TEST(SecretTest, SecretValuesIncludeNumbers) {
  const json body = json::parse(R"({"config":{"pin":48151623,"password":true,
      "account_key":{"parts":[9876543,"acc-part-b"]},"port":5432}})");
  EXPECT_EQ(SecretValues(body), (std::vector<std::string>{"acc-part-b", "48151623", "9876543"}));
  json echo = json::parse(R"({"pin_echo":48151623,"port":5432,"msg":"pin 48151623 refused"})");
  ScrubJson(echo, SecretValues(body));
  EXPECT_EQ(echo["pin_echo"], "******");
  EXPECT_EQ(echo["port"], 5432);
  EXPECT_EQ(echo["msg"], "******");
}

TEST(SecretTest, ScrubReplacesEveryOccurrence) {
  EXPECT_EQ(Scrub("a key1 b key1 c", std::vector<std::string>{"key1", ""}), "a *** b *** c");
}

// Issue 11 A and B: every shape in which text may carry a secret. Each row
// is a secret and the text that echoes it; the secret's raw bytes, and the
// echoed shape, must be gone after Scrub.
TEST(SecretTest, ScrubCatchesEveryEchoShape) {
  const std::string pw = "correct  horse-Secret";
  const std::string odd = "p\xC3\xA4ss/w+rd \"q\"&=%";  // Non-ASCII, reserved characters.
  struct Row {
    std::string secret;
    std::string echo;  // The shape that must not survive.
  } rows[] = {
      {pw, pw},
      {pw, "correct horse-Secret"},       // Whitespace collapsed.
      {pw, "correct%20%20horse-Secret"},  // Percent-encoded.
      {pw, "correct++horse-Secret"},      // Form-encoded.
      {pw, absl::Base64Escape(pw)},       // Base64.
      {odd, odd},
      {odd, "p%C3%A4ss%2Fw%2Brd%20%22q%22%26%3D%25"},
      {odd, "p%c3%a4ss%2fw%2brd%20%22q%22%26%3d%25"},
      {odd, "p\\u00e4ss/w+rd \\\"q\\\"&=%"},   // JSON-escaped (non-ASCII as \u).
      {odd, "p\xC3\xA4ss/w+rd \\\"q\\\"&=%"},  // JSON-escaped (UTF-8 kept).
      {odd, "p ss/w+rd \"q\"&=%"},             // Non-ASCII dropped.
      {odd, absl::Base64Escape(odd)},
      {odd, absl::WebSafeBase64Escape(odd)},
  };
  for (const Row& r : rows) {
    const std::string text = "before [" + r.echo + "] after";
    const std::string out = Scrub(text, std::vector<std::string>{r.secret});
    EXPECT_EQ(out.find(r.echo), std::string::npos) << r.echo << " -> " << out;
    EXPECT_EQ(out.find(r.secret), std::string::npos) << out;
    EXPECT_NE(out.find("before ["), std::string::npos) << out;
    EXPECT_NE(out.find("] after"), std::string::npos) << out;
  }
}

// Issue 11 A: the Authorization header the gateway sends, in every encoding
// it may be quoted in, is scrubbed with the key and the secret.
TEST(SecretTest, CredentialSecretsCoverTheBasicHeader) {
  const std::string key = "d9c4511349dd4b86";
  const std::string secret = "1f6f2d161365888a1943160ccdb8d968";
  const std::vector<std::string> scrub = CredentialSecrets(key, secret);
  const std::string pair = key + ":" + secret;
  const std::string b64 = absl::Base64Escape(pair);
  ASSERT_EQ(b64, "ZDljNDUxMTM0OWRkNGI4NjoxZjZmMmQxNjEzNjU4ODhhMTk0MzE2MGNjZGI4ZDk2OA==");
  std::string unpadded = b64;
  while (!unpadded.empty() && unpadded.back() == '=') unpadded.pop_back();
  for (const std::string& shape :
       {"Authorization: Basic " + b64, "Basic " + unpadded, absl::WebSafeBase64Escape(pair),
        "Basic%20" + absl::StrReplaceAll(b64, {{"=", "%3D"}}), pair, key + "%3A" + secret,
        key + "%3a" + secret, "Basic " + absl::Base64Escape(secret)}) {
    const std::string out = Scrub("401 for [" + shape + "]", scrub);
    for (const std::string& leak : {key, secret, b64, unpadded}) {
      EXPECT_EQ(out.find(leak), std::string::npos) << shape << " -> " << out;
    }
    EXPECT_EQ(out.find(absl::Base64Escape(secret)), std::string::npos) << out;
  }
  nlohmann::json j = {{"message", "header was Basic " + b64}, {"n", 1}};
  ScrubJson(j, scrub);
  EXPECT_EQ(j["message"], "******");
}

TEST(SecretTest, RememberedAnswersAreTheSameAsComputedOnes) {
  // IsSecretKey and the encoded forms are remembered per thread; asking
  // again, in any order and for other inputs in between, gives the same.
  for (int round = 0; round < 3; ++round) {
    for (const char* k : {"password", "host", "primary_key", "api_key", "credential_count"}) {
      EXPECT_EQ(IsSecretKey(k), std::string(k) == "password" || std::string(k) == "api_key") << k;
    }
  }
  const std::vector<std::string> a = {"k3y-one", "s3cret-two"};
  const std::vector<std::string> b = {"other-secret"};
  EXPECT_EQ(Scrub("x k3y-one y", a), "x *** y");
  EXPECT_EQ(Scrub("x k3y-one y", b), "x k3y-one y");
  EXPECT_EQ(Scrub("x other-secret y", b), "x *** y");
  EXPECT_EQ(Scrub("x s3cret-two y", a), "x *** y");
}

}  // namespace
}  // namespace fivetran_gateway
