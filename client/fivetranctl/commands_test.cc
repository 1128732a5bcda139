// Unit tests of fivetranctl's command wiring: global flags, and the local checks each noun makes
// before anything is sent (no server runs here; every case ends before a channel is used).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/fivetranctl/cmd_connections.h"
#include "client/fivetranctl/cmd_groups.h"
#include "client/fivetranctl/cmd_users.h"
#include "client/fivetranctl/input.h"
#include "client/fivetranctl/runner.h"

namespace fivetranctl {
namespace {

using ::testing::HasSubstr;

// The command line of fivetranctl, as main.cc wires it.
struct Cli {
  Cli() {
    app.fallthrough();
    AddGlobalFlags(&app, &g);
    commands.push_back(AddConnectionsCommand(&app));
    commands.push_back(AddGroupsCommand(&app));
    commands.push_back(AddUsersCommand(&app));
  }

  void Parse(std::vector<std::string> args) {
    std::reverse(args.begin(), args.end());
    app.parse(args);
    ResolveGlobals(app, &g);
  }

  // The first noun's exit code, or the UsageError's message.
  std::string Run() {
    try {
      for (const auto& command : commands) {
        if (std::optional<int> exit_code = command->Run(g)) return std::to_string(*exit_code);
      }
      return "(no command)";
    } catch (const UsageError& e) {
      return e.what();
    }
  }

  CLI::App app;
  Globals g;
  std::vector<std::unique_ptr<Command>> commands;
};

TEST(Globals, DefaultsAndResolution) {
  Cli cli;
  cli.Parse({"--output", "JSONL", "users", "list"});
  EXPECT_EQ(cli.g.deadline, absl::Seconds(30));
  EXPECT_FALSE(cli.g.timeout_given);
  EXPECT_EQ(cli.g.format, OutputFormat::kJsonl);
  EXPECT_FALSE(cli.g.server.empty());
}

TEST(Globals, TimeoutAndServerAreChecked) {
  Cli cli;
  EXPECT_THAT(
      [&] {
        cli.Parse({"--timeout", "0", "groups", "list"});
      },
      ::testing::ThrowsMessage<UsageError>(HasSubstr("--timeout: '0'")));
  Cli empty_server;
  EXPECT_THAT(
      [&] {
        empty_server.Parse({"--server", "", "groups", "list"});
      },
      ::testing::ThrowsMessage<UsageError>(HasSubstr("--server: empty address")));
  Cli given;
  given.Parse({"--timeout", "2m", "groups", "list"});
  EXPECT_TRUE(given.g.timeout_given);
  EXPECT_EQ(given.g.deadline, absl::Minutes(2));
}

TEST(Globals, WideAndNoHeadersAreTableOptions) {
  Cli cli;
  cli.Parse({"-o", "wide", "--no-headers", "users", "list"});
  EXPECT_EQ(cli.g.format, OutputFormat::kTable);
  EXPECT_TRUE(cli.g.table.wide);
  EXPECT_FALSE(cli.g.table.headers);
  EXPECT_EQ(cli.g.table.width, 0u);  // stdout is not a terminal under the test runner
  Cli plain;
  plain.Parse({"users", "list"});
  EXPECT_FALSE(plain.g.table.wide);
  EXPECT_TRUE(plain.g.table.headers);
}

TEST(Globals, SecurityFlagsResolveBeforeAnythingIsSent) {
  Cli none;
  none.Parse({"groups", "list"});
  EXPECT_FALSE(none.g.security.tls);
  EXPECT_TRUE(none.g.security.token.empty());
  Cli tls;
  tls.Parse({"--tls", "--server-name", "gw.example", "groups", "list"});
  EXPECT_TRUE(tls.g.security.tls);
  EXPECT_TRUE(tls.g.security.pem_roots.empty());  // the system's CAs
  EXPECT_EQ(tls.g.security.server_name, "gw.example");
  Cli key_only;
  EXPECT_THAT(
      [&] {
        key_only.Parse({"--key", "k.pem", "groups", "list"});
      },
      ::testing::ThrowsMessage<UsageError>(HasSubstr("--cert and --key go together")));
  Cli trap;
  EXPECT_THAT(
      [&] {
        trap.Parse({"groups", "list", "--token", "tok-secret-value-123"});
      },
      ::testing::ThrowsMessage<UsageError>(
          ::testing::AllOf(HasSubstr("never a command-line value"),
                           ::testing::Not(HasSubstr("tok-secret-value-123")))));
}

TEST(Connections, PollIntervalGoesWithWait) {
  Cli cli;
  cli.Parse({"connections", "sync", "decent_dropsy", "--poll-interval", "5s"});
  EXPECT_EQ(cli.Run(), "--poll-interval goes with --wait");
}

TEST(Connections, BadPollIntervalIsAUsageError) {
  Cli cli;
  cli.Parse({"connectors", "watch", "decent_dropsy", "--poll-interval", "never"});
  EXPECT_THAT(cli.Run(), HasSubstr("--poll-interval: 'never' is not a positive duration"));
}

TEST(Connections, CreateReadsItsConfigBeforeSending) {
  Cli cli;
  cli.Parse({"connections", "create", "--group", "g", "--service", "s", "--config",
             "/nonexistent/config.json"});
  EXPECT_EQ(cli.Run(), "--config: cannot read '/nonexistent/config.json'");
}

TEST(Connections, CreateFtpChecksRequiredFieldsBeforeSending) {
  Cli cli;
  cli.Parse({"connections", "create-ftp", "--group", "g", "--host", "h"});
  EXPECT_EQ(cli.Run(),
            "create-ftp: missing --schema, --user, --table (or --table-group-name, or "
            "--file-mapping-method) (as flags or in --config)");
}

TEST(Paging, AllExcludesPageTokenAndPageSizeIsBounded) {
  Cli all;
  EXPECT_THROW(all.Parse({"groups", "list", "--all", "--page-token", "t"}), CLI::ExcludesError);
  Cli size;
  EXPECT_THROW(size.Parse({"users", "list", "--page-size", "0"}), CLI::ValidationError);
  Cli both;
  EXPECT_THROW(both.Parse({"users", "list", "--active", "--suspended"}), CLI::ExcludesError);
}

}  // namespace
}  // namespace fivetranctl
