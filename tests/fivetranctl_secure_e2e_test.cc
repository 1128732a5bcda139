// End-to-end: fivetranctl against a gateway deployed as the README's Security section says (a TLS
// listener, a tokens file; mutual TLS in one case), in front of the real emulator. Checks the
// data of a successful call, the one-line errors and exit codes of a refused token and of TLS
// problems, and that a token is never taken from the command line nor printed.
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "tests/ctl_harness.h"
#include "tests/harness.h"

namespace fivetran_gateway::testing {
namespace {

using nlohmann::json;

constexpr char kReadToken[] = "tok-ctl-read-4b7e1a9c3d5f2086";
constexpr char kWriteToken[] = "tok-ctl-write-9d2c6e0a8b4f1357";
constexpr char kWrongToken[] = "tok-ctl-wrong-0000111122223333";

class FivetranctlSecureTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    emulator_ = new Emulator();
    server_ = new KeyPair(MakeCert("server"));
    other_ = new KeyPair(MakeCert("other"));
    const std::string tokens =
        WriteTemp("tokens", std::string("read ") + kReadToken + "\nwrite " + kWriteToken + "\n");
    gateway_ = new Gateway(emulator_->base_url(), Emulator::kApiKey, Emulator::kApiSecret,
                           {"--tls_cert=" + server_->cert, "--tls_key=" + server_->key,
                            "--auth_tokens_file=" + tokens});
    read_token_file_ = new std::string(WriteTemp("read.token", std::string(kReadToken) + "\n"));
  }
  static void TearDownTestSuite() {
    delete gateway_;
    delete emulator_;
    delete server_;
    delete other_;
    delete read_token_file_;
  }
  void SetUp() override { emulator_->ClearRequests(); }
  void TearDown() override {
    const std::string log = gateway_->log();
    for (const char* token : {kReadToken, kWriteToken, kWrongToken}) {
      EXPECT_EQ(log.find(token), std::string::npos) << "a token is in the gateway's log";
    }
  }

  static Result Ctl(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    args.insert(args.begin(), {"--server", gateway_->address(), "--timeout", "10s"});
    return RunCtl(args, std::move(env));
  }

  // The one line of a failed command, checked for its exit code and parts, and for no token.
  static void ExpectOneLineError(const Result& r, int code, const std::vector<std::string>& parts) {
    EXPECT_EQ(r.code, code) << Describe(r);
    EXPECT_TRUE(r.out.empty()) << r.out;
    std::vector<std::string> lines = Lines(r.err);
    ASSERT_EQ(lines.size(), 1u) << r.err;
    for (const std::string& part : parts) {
      EXPECT_NE(lines[0].find(part), std::string::npos) << part << " in " << lines[0];
    }
    for (const char* token : {kReadToken, kWriteToken, kWrongToken}) {
      EXPECT_EQ(r.err.find(token), std::string::npos) << "a token was printed";
    }
  }

  // The ids of fivetranctl's `groups list -o json` == the emulator's.
  static void ExpectGroupsOfTheAccount(const Result& r) {
    ASSERT_EQ(r.code, 0) << Describe(r);
    json got = json::parse(r.out, nullptr, false);
    ASSERT_TRUE(got.is_object()) << r.out;
    std::set<std::string> ids, want;
    for (const json& g : got["groups"]) ids.insert(g["id"].get<std::string>());
    for (const json& g : emulator_->ListAll("/v1/groups")) want.insert(g["id"].get<std::string>());
    EXPECT_FALSE(want.empty());
    EXPECT_EQ(ids, want);
  }

  static Emulator* emulator_;
  static Gateway* gateway_;
  static KeyPair* server_;
  static KeyPair* other_;
  static std::string* read_token_file_;
};

Emulator* FivetranctlSecureTest::emulator_ = nullptr;
Gateway* FivetranctlSecureTest::gateway_ = nullptr;
KeyPair* FivetranctlSecureTest::server_ = nullptr;
KeyPair* FivetranctlSecureTest::other_ = nullptr;
std::string* FivetranctlSecureTest::read_token_file_ = nullptr;

TEST_F(FivetranctlSecureTest, CaFileAndTokenFileListGroups) {
  ExpectGroupsOfTheAccount(Ctl({"--ca-file", server_->cert, "--token-file", *read_token_file_,
                                "groups", "list", "--all", "-o", "json"}));
}

TEST_F(FivetranctlSecureTest, TokenAndCaFromTheEnvironment) {
  ExpectGroupsOfTheAccount(
      Ctl({"groups", "list", "--all", "-o", "json"},
          {{"FIVETRAN_GATEWAY_TOKEN", kReadToken}, {"FIVETRAN_GATEWAY_CA_FILE", server_->cert}}));
  ExpectGroupsOfTheAccount(
      Ctl({"--ca-file", server_->cert, "groups", "list", "--all", "-o", "json"},
          {{"FIVETRAN_GATEWAY_TOKEN_FILE", *read_token_file_}}));
  // --token-file wins over the environment.
  Result r = Ctl({"--ca-file", server_->cert, "--token-file", *read_token_file_, "groups", "list"},
                 {{"FIVETRAN_GATEWAY_TOKEN", kWrongToken}});
  EXPECT_EQ(r.code, 0) << Describe(r);
}

TEST_F(FivetranctlSecureTest, TlsFlagTrustsTheSystemCas) {
  // gRPC's system roots come from this file when it is set: the server's certificate stands in
  // for a CA the system trusts.
  ExpectGroupsOfTheAccount(
      Ctl({"--tls", "--token-file", *read_token_file_, "groups", "list", "--all", "-o", "json"},
          {{"GRPC_DEFAULT_SSL_ROOTS_FILE_PATH", server_->cert}}));
  ExpectGroupsOfTheAccount(Ctl({"groups", "list", "--all", "-o", "json"},
                               {{"GRPC_DEFAULT_SSL_ROOTS_FILE_PATH", server_->cert},
                                {"FIVETRAN_GATEWAY_TLS", "1"},
                                {"FIVETRAN_GATEWAY_SERVER_NAME", "localhost"},
                                {"FIVETRAN_GATEWAY_TOKEN", kReadToken}}));
  Result untrusted = Ctl({"--tls", "--token-file", *read_token_file_, "groups", "list"},
                         {{"GRPC_DEFAULT_SSL_ROOTS_FILE_PATH", other_->cert}});
  ExpectOneLineError(untrusted, 13, {"fivetranctl: error: ", "TLS handshake", "verify failed"});
}

TEST_F(FivetranctlSecureTest, WrongOrMissingTokenExits5WithOneLine) {
  const std::string wrong = WriteTemp("wrong.token", kWrongToken);
  Result r = Ctl({"--ca-file", server_->cert, "--token-file", wrong, "groups", "list"});
  ExpectOneLineError(r, 5, {"fivetranctl: error: UNAUTHENTICATED", "reason=UNAUTHENTICATED"});

  Result none = Ctl({"--ca-file", server_->cert, "groups", "list"});
  ExpectOneLineError(none, 5, {"UNAUTHENTICATED", "no token was sent", "--token-file"});

  // A read token may not trigger a sync.
  Result sync = Ctl({"--ca-file", server_->cert, "--token-file", *read_token_file_, "connections",
                     "sync", "decent_dropsy"});
  ExpectOneLineError(sync, 5, {"sync failed", "PERMISSION_DENIED", "required_scope"});
  EXPECT_TRUE(emulator_->Requests().empty()) << "a refused call reached Fivetran";
}

TEST_F(FivetranctlSecureTest, NoTlsOptionsAgainstATlsGatewayIsOneClearLine) {
  Result r = Ctl({"--token-file", *read_token_file_, "groups", "list"});
  ExpectOneLineError(
      r, 13,
      {"fivetranctl: error: ", "closed the connection", "requires TLS", "--tls", "--ca-file"});
  EXPECT_TRUE(emulator_->Requests().empty());
}

TEST_F(FivetranctlSecureTest, CertificateProblemsAreOneLineExit13) {
  Result untrusted =
      Ctl({"--ca-file", other_->cert, "--token-file", *read_token_file_, "groups", "list"});
  ExpectOneLineError(untrusted, 13,
                     {"TLS handshake with " + gateway_->address() + " failed",
                      "certificate verify failed", "--ca-file"});

  Result wrong_name = Ctl({"--ca-file", server_->cert, "--server-name", "gw.example.test",
                           "--token-file", *read_token_file_, "groups", "list"});
  ExpectOneLineError(wrong_name, 13, {"TLS handshake", "gw.example.test", "--server-name"});

  // The certificate names localhost: --server-name makes a 127.0.0.1 address check that name.
  Result named = Ctl({"--ca-file", server_->cert, "--server-name", "localhost", "--token-file",
                      *read_token_file_, "groups", "list"});
  EXPECT_EQ(named.code, 0) << Describe(named);
}

TEST_F(FivetranctlSecureTest, TlsAgainstAPlaintextGatewayIsOneLineExit13) {
  Gateway plaintext(emulator_->base_url(), Emulator::kApiKey, Emulator::kApiSecret);
  Result r =
      RunCtl({"--server", plaintext.address(), "--ca-file", server_->cert, "groups", "list"});
  ExpectOneLineError(r, 13, {"TLS handshake", "does not serve TLS"});
}

TEST_F(FivetranctlSecureTest, MutualTlsNeedsCertAndKey) {
  KeyPair client = MakeCert("client");
  const std::string tokens = WriteTemp("mtls.tokens", std::string("read ") + kReadToken + "\n");
  Gateway mutual(emulator_->base_url(), Emulator::kApiKey, Emulator::kApiSecret,
                 {"--tls_cert=" + server_->cert, "--tls_key=" + server_->key,
                  "--tls_client_ca=" + client.cert, "--auth_tokens_file=" + tokens});
  const std::vector<std::string> base = {"--server",    mutual.address(), "--ca-file",
                                         server_->cert, "--token-file",   *read_token_file_};
  auto with = [&](std::vector<std::string> more) {
    std::vector<std::string> args = base;
    args.insert(args.end(), more.begin(), more.end());
    args.insert(args.end(), {"groups", "list", "--all", "-o", "json"});
    return RunCtl(args);
  };
  ExpectOneLineError(with({}), 13, {"TLS handshake", "--cert and --key"});
  ExpectOneLineError(with({"--cert", other_->cert, "--key", other_->key}), 13, {"TLS handshake"});
  ExpectGroupsOfTheAccount(with({"--cert", client.cert, "--key", client.key}));
  ExpectGroupsOfTheAccount(
      RunCtl({"--server", mutual.address(), "groups", "list", "--all", "-o", "json"},
             {{"FIVETRAN_GATEWAY_CA_FILE", server_->cert},
              {"FIVETRAN_GATEWAY_CERT", client.cert},
              {"FIVETRAN_GATEWAY_KEY", client.key},
              {"FIVETRAN_GATEWAY_TOKEN", kReadToken}}));
}

TEST_F(FivetranctlSecureTest, ATokenIsNeverACommandLineValueAndNeverPrinted) {
  const std::string two_lines =
      WriteTemp("two.token", std::string(kReadToken) + "\n" + kWriteToken + "\n");
  const std::string with_space = WriteTemp("space.token", std::string("read ") + kReadToken);
  const std::string empty = WriteTemp("empty.token", "\n");
  struct Case {
    std::vector<std::string> args;
    std::map<std::string, std::string> env;
    std::string in_message;
  };
  const std::vector<Case> cases = {
      {{"--token", kWriteToken, "groups", "list"}, {}, "never a command-line value"},
      {{"groups", "list", std::string("--token=") + kWriteToken}, {}, "never a command-line value"},
      {{"--token-file", two_lines, "groups", "list"}, {}, "more than one line"},
      {{"--token-file", with_space, "groups", "list"}, {}, "without spaces"},
      {{"--token-file", empty, "groups", "list"}, {}, "empty"},
      {{"--token-file", TempPath("missing.token"), "groups", "list"}, {}, "cannot read"},
      {{"groups", "list"}, {{"FIVETRAN_GATEWAY_TOKEN", std::string(kReadToken) + " x"}}, "spaces"},
      {{"--cert", server_->cert, "groups", "list"}, {}, "--cert and --key go together"},
      {{"--server-name", "localhost", "groups", "list"}, {}, "--server-name needs TLS"},
      {{"--ca-file", *read_token_file_, "groups", "list"}, {}, "no PEM certificate"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.args[0] + " " + c.args[1]);
    Result r = Ctl(c.args, c.env);
    EXPECT_EQ(r.code, 2) << Describe(r);
    ASSERT_EQ(Lines(r.err).size(), 1u) << r.err;
    EXPECT_NE(r.err.find("fivetranctl: usage error: "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(c.in_message), std::string::npos) << r.err;
    for (const char* token : {kReadToken, kWriteToken}) {
      EXPECT_EQ(r.err.find(token), std::string::npos) << "a token was printed: " << r.err;
    }
  }
  EXPECT_TRUE(emulator_->Requests().empty()) << "a refused command reached Fivetran";
}

TEST_F(FivetranctlSecureTest, ATokenWithoutTlsToANonLoopbackAddressIsWarnedAbout) {
  // 192.0.2.0/24 is reserved for documentation: nothing answers, the call fails either way.
  Result r = RunCtl({"--server", "192.0.2.1:50051", "--timeout", "300ms", "--token-file",
                     *read_token_file_, "groups", "list"});
  EXPECT_EQ(r.code, 6) << Describe(r);
  EXPECT_NE(r.err.find("fivetranctl: warning: the token goes to 192.0.2.1:50051 without TLS"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find(kReadToken), std::string::npos) << r.err;
  // Loopback, TLS, or --quiet: no warning.
  Result quiet = RunCtl({"--server", "192.0.2.1:50051", "--timeout", "300ms", "--token-file",
                         *read_token_file_, "--quiet", "groups", "list"});
  EXPECT_EQ(quiet.err.find("warning"), std::string::npos) << quiet.err;
  Result loopback = Ctl({"--token-file", *read_token_file_, "groups", "list"});
  EXPECT_EQ(loopback.err.find("warning"), std::string::npos) << loopback.err;
}

TEST_F(FivetranctlSecureTest, HelpDocumentsTheSecurityFlagsAndExitCode13) {
  Result r = RunCtl({"--help"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  for (const char* part : {"--tls", "--ca-file", "--cert", "--key", "--token-file", "--server-name",
                           "FIVETRAN_GATEWAY_TOKEN", "13 no connection"}) {
    EXPECT_NE(r.out.find(part), std::string::npos) << part;
  }
}

}  // namespace
}  // namespace fivetran_gateway::testing
