#include "server/common/secrets.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace fivetran_gateway {
namespace {

using nlohmann::json;

TEST(SecretTest, IsSecretKey) {
  for (const char* k : {"password",       "PASSWORD",
                        "pgp_secret_key", "pgp_pass_phrase",
                        "secret",         "api_secret",
                        "client_secret",  "token",
                        "app_token",      "refresh_token",
                        "api_key",        "apiKey",
                        "private_key",    "private_key_contents",
                        "access_key_id",  "secret_access_key",
                        "credentials",    "Authorization",
                        "auth",           "pwd",
                        "passwd",         "X-Api-Key"}) {
    EXPECT_TRUE(IsSecretKey(k)) << k;
  }
  for (const char* k : {"user", "host", "port", "schema", "signer_public_key", "public_key",
                        "author", "prefix", "pattern", "uri", "id", "table_name", "",
                        "is_private_key_encrypted", "use_pgp_encryption_options", "auth_method"}) {
    EXPECT_FALSE(IsSecretKey(k)) << k;
  }
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

TEST(SecretTest, SecretValuesAreLongestFirstWithoutMaskedOrShortOnes) {
  const json body = json::parse(R"({"config":{"password":"pw","pgp_secret_key":"key-material",
      "nested":[{"api_key":"k3y-secret"}],"token":"******","host":"k3y-secret-host"}})");
  EXPECT_EQ(SecretValues(body), (std::vector<std::string>{"key-material", "k3y-secret"}));
}

TEST(SecretTest, ScrubReplacesEveryOccurrence) {
  EXPECT_EQ(Scrub("a key1 b key1 c", std::vector<std::string>{"key1", ""}), "a *** b *** c");
}

}  // namespace
}  // namespace fivetran_gateway
