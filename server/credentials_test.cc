#include "server/credentials.h"

#include <gtest/gtest.h>
#include <stdlib.h>

namespace fivetran_gateway {
namespace {

TEST(CredentialsTest, ParsesFile) {
  absl::StatusOr<Credentials> c =
      ParseCredentials("# demo\nFIVETRAN_API_KEY=abc\nexport FIVETRAN_API_SECRET=\"s e\"\n", "f");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->api_key, "abc");
  EXPECT_EQ(c->api_secret, "s e");
}

TEST(CredentialsTest, MissingValueNamesTheVariableNotTheValue) {
  absl::StatusOr<Credentials> c = ParseCredentials("FIVETRAN_API_KEY=topsecretkey\n", "f");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("FIVETRAN_API_SECRET"), absl::string_view::npos);
  EXPECT_EQ(c.status().message().find("topsecretkey"), absl::string_view::npos);
}

TEST(CredentialsTest, BadLinesDoNotEchoValues) {
  absl::StatusOr<Credentials> c = ParseCredentials("hunter2hunter2\n", "f");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message().find("hunter2"), absl::string_view::npos);
}

// Issue 11 #18: a key pasted on a line of its own, or before an `=`, must
// not be echoed (the message used to quote 40 characters of the name).
TEST(CredentialsTest, AnUnknownNameIsNotEchoedOnlyItsLineNumber) {
  absl::StatusOr<Credentials> c =
      ParseCredentials("# c\nFIVETRAN_API_KEY=k\nsk_live_0123456789abcdef=x\n", "creds.env");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message().find("sk_live"), absl::string_view::npos) << c.status();
  EXPECT_NE(c.status().message().find("creds.env:3"), absl::string_view::npos) << c.status();
  EXPECT_NE(c.status().message().find("FIVETRAN_API_SECRET"), absl::string_view::npos)
      << c.status();
}

TEST(CredentialsTest, Environment) {
  unsetenv("FIVETRAN_API_KEY");
  unsetenv("FIVETRAN_API_SECRET");
  EXPECT_FALSE(LoadCredentials("").ok());
  setenv("FIVETRAN_API_KEY", "k", 1);
  setenv("FIVETRAN_API_SECRET", "s", 1);
  absl::StatusOr<Credentials> c = LoadCredentials("");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->api_key, "k");
  EXPECT_EQ(c->api_secret, "s");
  EXPECT_EQ(LoadCredentials("/nonexistent/file").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace fivetran_gateway
