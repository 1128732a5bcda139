#include "emulator/masking.h"

#include <string>

#include "gtest/gtest.h"

namespace fivetran_emulator {
namespace {

using nlohmann::json;

// One config member in, the same member as responses show it.
struct MaskCase {
  std::string key;
  json sent;
  json shown;
};

TEST(MaskSecretsTest, OnlySecretStringsAreMasked) {
  const json kMasked = "******";
  const MaskCase kCases[] = {
      // Secrets: passwords, tokens, secrets, pass phrases, private and API keys.
      {"password", "hunter2", kMasked},
      {"Password", "hunter2", kMasked},
      {"agent_password", "pw", kMasked},
      {"passwd", "pw", kMasked},
      {"pgp_pass_phrase", "phrase", kMasked},
      {"passphrase", "phrase", kMasked},
      {"pgp_secret_key", "-----BEGIN PGP", kMasked},
      {"private_key", "-----BEGIN PRIVATE KEY", kMasked},
      {"client_private_key", "-----BEGIN", kMasked},
      {"secret_access_key", "aws-secret", kMasked},
      {"secret_key", "sk_test", kMasked},
      {"client_secret", "cs", kMasked},
      {"access_token", "at", kMasked},
      {"refresh_token", "rt", kMasked},
      {"api_token", "tok", kMasked},
      {"api_key", "k", kMasked},
      {"API_KEY", "k", kMasked},
      {"key", "k", kMasked},
      {"x_master_key", "k", kMasked},
      {"connection_string", "AccountKey=abc", kMasked},
      {"password", "", kMasked},
      // Key-like but not secret: column keys, public keys, counts, ids, names,
      // types, URLs, times, flags.
      {"primary_key", "order_id", "order_id"},
      {"partition_key", "region", "region"},
      {"sort_key", "created", "created"},
      {"public_key", "ssh-rsa AAAA", "ssh-rsa AAAA"},
      {"signer_public_key", "ssh-ed25519 AAAA", "ssh-ed25519 AAAA"},
      {"sftp_public_key", "ssh-rsa BBBB", "ssh-rsa BBBB"},
      {"keys_count", 3, 3},
      {"token_count", 7, 7},
      {"external_secrets_manager_id", "esm_1", "esm_1"},
      {"access_key_id", "AKIAEXAMPLE", "AKIAEXAMPLE"},
      {"secret_name", "prod/db", "prod/db"},
      {"token_type", "bearer", "bearer"},
      {"oauth_token_endpoint_url", "https://idp.example.test/token",
       "https://idp.example.test/token"},
      {"refresh_token_expires_at", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"},
      {"is_private_key_encrypted", "false", "false"},
      {"use_pgp_encryption_options", true, true},
      {"append_file_option", "upsert_file_with_primary_keys", "upsert_file_with_primary_keys"},
      {"host", "db.example.test", "db.example.test"},
      {"port", 5432, 5432},
      // Under a secret key, numbers, booleans and nulls keep their value and
      // type (every secret Fivetran defines is a string).
      {"password_authentication", true, true},
      {"api_key", 12345, 12345},
      {"token", 0.5, 0.5},
      {"api_key", nullptr, nullptr},
      // Inside objects and arrays: strings under a secret key are masked at any
      // depth, the rest as sent.
      {"tunnel",
       {{"host", "h"}, {"port", 22}, {"password", "p"}, {"primary_key", "id"}},
       {{"host", "h"}, {"port", 22}, {"password", kMasked}, {"primary_key", "id"}}},
      {"files", json::array({{{"table_name", "t"}, {"secret", "s"}}}),
       json::array({{{"table_name", "t"}, {"secret", kMasked}}})},
      {"tokens", json::array({"a", 1, "b"}), json::array({kMasked, 1, kMasked})},
      {"secrets",
       {{"DB_URL", "postgres://u:p@h"}, {"retries", 3}},
       {{"DB_URL", kMasked}, {"retries", 3}}},
  };
  for (const MaskCase& c : kCases) {
    const json config{{c.key, c.sent}, {"schema", "s"}};
    const json masked = MaskSecrets(config);
    EXPECT_EQ(masked, (json{{c.key, c.shown}, {"schema", "s"}}))
        << c.key << ": " << c.sent.dump() << " -> " << masked.dump();
  }
}

TEST(MaskSecretsTest, RenderConnectionMasksOnlyConfig) {
  const json stored{{"id", "c1"},
                    {"connect_card", {{"token", "cc-token"}}},
                    {"config", {{"password", "p"}, {"port", 21}}}};
  const json shown = RenderConnection(stored);
  EXPECT_EQ(shown["config"], (json{{"password", "******"}, {"port", 21}}));
  EXPECT_EQ(shown["connect_card"]["token"], "cc-token");
  EXPECT_EQ(shown["id"], "c1");
}

}  // namespace
}  // namespace fivetran_emulator
