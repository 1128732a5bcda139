// Unit tests of fivetranctl's table rendering, connection-failure explanations and status line.
#include "client/fivetranctl/output.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "client/fivetranctl/channel.h"
#include "client/fivetranctl/errors.h"
#include "client/fivetranctl/live_status.h"

namespace fivetranctl {
namespace {

const std::vector<Column> kColumns = {{"ID", false},
                                      {"EMAIL", true, 10, 0, false, true},
                                      {"NAME", true, 6, 0},
                                      {"ROLE", true, 6, 0},
                                      {"PHONE", false, 4, 0, true}};
const std::vector<std::string> kRow = {"sweet_anchor", "dmitri.okonkwo@example.com",
                                       "Dmitri Okonkwo", "Account Administrator", "+1 555 0100"};

std::vector<std::string> Render(TableOptions options) {
  std::ostringstream out;
  TableWriter table(out, kColumns, options);
  table.AddRow(kRow);
  table.Flush();
  std::vector<std::string> lines;
  std::istringstream in(out.str());
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(TableWriter, NotATerminalCutsNothing) {
  std::vector<std::string> lines = Render({0, true, false});
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "ID            EMAIL                       NAME            ROLE");
  EXPECT_EQ(lines[1],
            "sweet_anchor  dmitri.okonkwo@example.com  Dmitri Okonkwo  Account Administrator");
}

TEST(TableWriter, ATerminalNarrowsFreeTextThenDropsColumnsButNeverCutsIds) {
  std::vector<std::string> fit = Render({60, true, false});
  for (const std::string& line : fit) EXPECT_LE(line.size(), 60u) << line;
  EXPECT_EQ(fit[1].rfind("sweet_anchor  ", 0), 0u) << fit[1];
  EXPECT_NE(fit[1].find('~'), std::string::npos) << fit[1];
  EXPECT_NE(fit[0].find("ROLE"), std::string::npos) << fit[0];

  // Too narrow for every column at its floor: ROLE, then NAME go; ID and EMAIL stay.
  std::vector<std::string> narrow = Render({30, true, false});
  EXPECT_EQ(narrow[0], "ID            EMAIL");
  EXPECT_EQ(narrow[1].rfind("sweet_anchor  dmitri.ok", 0), 0u) << narrow[1];
  for (const std::string& line : narrow) EXPECT_LE(line.size(), 30u) << line;
}

TEST(TableWriter, WideAddsItsColumnsAndNoHeadersDropsTheHeader) {
  std::vector<std::string> wide = Render({0, false, true});
  ASSERT_EQ(wide.size(), 1u);
  EXPECT_EQ(wide[0],
            "sweet_anchor  dmitri.okonkwo@example.com  Dmitri Okonkwo  Account Administrator  "
            "+1 555 0100");
}

grpc::Status ClientSide(const std::string& last_error) {
  return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                      "failed to connect to all addresses; last error: " + last_error);
}

TEST(ExplainConnectFailure, NamesTheTlsProblemWithExit13) {
  const std::string gw = "127.0.0.1:5000";
  auto untrusted = ExplainConnectFailure(
      ClientSide("UNKNOWN: ipv4:127.0.0.1:5000: Ssl handshake failed: SSL_ERROR_SSL: "
                 "error:0A000086:SSL routines::certificate verify failed"),
      gw, true);
  ASSERT_TRUE(untrusted.has_value());
  EXPECT_EQ(untrusted->exit_code, kExitTls);
  EXPECT_EQ(untrusted->line.rfind("UNAVAILABLE: TLS handshake with 127.0.0.1:5000 failed: "
                                  "certificate verify failed (",
                                  0),
            0u)
      << untrusted->line;

  auto plaintext_gateway = ExplainConnectFailure(
      ClientSide("UNKNOWN: ipv4:127.0.0.1:5000: Ssl handshake failed: SSL_ERROR_SSL: "
                 "error:0A00010B:SSL routines::wrong version number"),
      gw, true);
  ASSERT_TRUE(plaintext_gateway.has_value());
  EXPECT_NE(plaintext_gateway->line.find("does not serve TLS"), std::string::npos);

  auto tls_gateway = ExplainConnectFailure(
      ClientSide("UNAVAILABLE: ipv4:127.0.0.1:5000: Socket closed"), gw, false);
  ASSERT_TRUE(tls_gateway.has_value());
  EXPECT_NE(tls_gateway->line.find("probably requires TLS"), std::string::npos);
  EXPECT_EQ(tls_gateway->exit_code, kExitTls);
}

TEST(ExplainConnectFailure, LeavesOtherStatusesAlone) {
  // Nothing listens: the usual UNAVAILABLE (exit 6).
  EXPECT_FALSE(ExplainConnectFailure(
                   ClientSide("UNAVAILABLE: ipv4:127.0.0.1:5000: Connection refused"), "x", false)
                   .has_value());
  // The gateway's own UNAVAILABLE (Fivetran down) carries details.
  EXPECT_FALSE(ExplainConnectFailure(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                                  "failed to connect to all addresses", "details"),
                                     "x", true)
                   .has_value());
  EXPECT_FALSE(
      ExplainConnectFailure(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "no"), "x", true)
          .has_value());
}

TEST(IsLoopbackAddress, LoopbackHostsOnly) {
  for (const char* a :
       {"127.0.0.1:50051", "localhost:1", "[::1]:50051", "unix:/tmp/gw.sock", "ipv4:127.0.0.2:9"}) {
    EXPECT_TRUE(IsLoopbackAddress(a)) << a;
  }
  for (const char* a : {"10.0.0.5:50051", "gw.example:443", "[2001:db8::1]:50051",
                        "localhost.example:1", "128.0.0.1:5"}) {
    EXPECT_FALSE(IsLoopbackAddress(a)) << a;
  }
}

TEST(LiveStatus, ElapsedTime) {
  EXPECT_EQ(LiveStatus::Elapsed(absl::Seconds(0)), "0s");
  EXPECT_EQ(LiveStatus::Elapsed(absl::Milliseconds(59999)), "59s");
  EXPECT_EQ(LiveStatus::Elapsed(absl::Seconds(185)), "3m05s");
  EXPECT_EQ(LiveStatus::Elapsed(absl::Seconds(3723)), "1h02m03s");
  LiveStatus off(false, "connection=x");
  EXPECT_FALSE(off.active());
}

}  // namespace
}  // namespace fivetranctl
