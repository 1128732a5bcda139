// Unit tests of fivetranctl's local input and typed flags: nothing here talks to a server.
#include "client/fivetranctl/flags.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "client/fivetranctl/create_options.h"
#include "client/fivetranctl/ftp_config.h"
#include "client/fivetranctl/input.h"

namespace fivetranctl {
namespace {

namespace v1 = ::fivetran::gateway::v1;
using ::testing::HasSubstr;

// A file under the test's temporary directory holding `text`.
std::string WriteFile(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// Parses `args` (in order) with CLI11.
void Parse(CLI::App* app, std::vector<std::string> args) {
  std::reverse(args.begin(), args.end());
  app->parse(args);
}

std::string UsageMessage(const std::function<void()>& f) {
  try {
    f();
  } catch (const UsageError& e) {
    return e.what();
  }
  return "(no UsageError)";
}

TEST(ParseDurationFlag, AcceptsUnitsAndBareSeconds) {
  EXPECT_EQ(ParseDurationFlag("--timeout", "30"), absl::Seconds(30));
  EXPECT_EQ(ParseDurationFlag("--timeout", " 500ms "), absl::Milliseconds(500));
  EXPECT_EQ(ParseDurationFlag("--timeout", "2m"), absl::Minutes(2));
}

TEST(ParseDurationFlag, RejectsZeroNegativeInfiniteAndJunk) {
  for (const char* text : {"0", "-5s", "inf", "soon", ""}) {
    EXPECT_EQ(UsageMessage([&] { ParseDurationFlag("--poll-interval", text); }),
              "--poll-interval: '" + std::string(text) +
                  "' is not a positive duration (examples: 30s, 500ms, 2m)");
  }
}

TEST(ReadSecretFile, DropsTheTrailingLineBreakAndRejectsEmptyFiles) {
  EXPECT_EQ(ReadSecretFile("--password-file", WriteFile("pw", "s3cret\r\n")), "s3cret");
  const std::string empty = WriteFile("empty", "\n");
  EXPECT_EQ(UsageMessage([&] { ReadSecretFile("--password-file", empty); }),
            "--password-file: '" + empty + "' is empty");
  EXPECT_EQ(UsageMessage([] { ReadSecretFile("--password-file", "/nonexistent/pw"); }),
            "--password-file: cannot read '/nonexistent/pw'");
}

TEST(ReadJsonObject, WantsAJsonObject) {
  EXPECT_EQ(ReadJsonObject("--config", WriteFile("obj.json", R"({"a": 1})"))["a"], 1);
  const std::string array = WriteFile("array.json", "[1]");
  EXPECT_EQ(UsageMessage([&] { ReadJsonObject("--config", array); }),
            "--config: '" + array + "' must hold a JSON object");
  const std::string bad = WriteFile("bad.json", "{");
  EXPECT_EQ(UsageMessage([&] { ReadJsonObject("--config", bad); }),
            "--config: '" + bad + "' is not valid JSON");
}

TEST(AddCreateOptions, SetsOnlyTheGivenFlags) {
  CLI::App app;
  Appliers<v1::CreateConnectionOptions> apply;
  AddCreateOptions(&app, &apply);
  Parse(&app, {"--no-setup-tests", "--sync-frequency", "60", "--schedule-type", "MANUAL",
               "--virtual-warehouse", "wh"});
  v1::CreateConnectionOptions options;
  for (const auto& a : apply) a(&options);
  ASSERT_TRUE(options.has_run_setup_tests());
  EXPECT_FALSE(options.run_setup_tests());
  EXPECT_EQ(options.sync_frequency(), 60);
  EXPECT_EQ(options.schedule_type(), v1::SCHEDULE_TYPE_MANUAL);
  EXPECT_EQ(options.destination_configuration().virtual_warehouse(), "wh");
  EXPECT_FALSE(options.has_paused());
  EXPECT_FALSE(options.has_daily_sync_time());
}

// Issue 11, stale allow-lists: values that are Fivetran's to judge are sent
// as given.
TEST(AddCreateOptions, SendsFivetransValuesAsGiven) {
  CLI::App app;
  Appliers<v1::CreateConnectionOptions> apply;
  AddCreateOptions(&app, &apply);
  Parse(&app, {"--sync-frequency", "7", "--daily-sync-time", "14:30", "--networking-method",
               "UnmanagedProxyAgent"});
  v1::CreateConnectionOptions options;
  for (auto& a : apply) a(&options);
  EXPECT_EQ(options.sync_frequency(), 7);
  EXPECT_EQ(options.daily_sync_time(), "14:30");
  EXPECT_EQ(options.networking_method(), v1::NETWORKING_METHOD_UNMANAGED_PROXY_AGENT);
}

TEST(AddCreateOptions, ValidatesValues) {
  for (std::vector<std::string> args :
       std::vector<std::vector<std::string>>{{"--sync-frequency", "0"},
                                             {"--sync-frequency", "-5"},
                                             {"--sync-frequency", "often"},
                                             {"--schedule-type", "sometimes"},
                                             {"--networking-method", "by_pigeon"}}) {
    CLI::App app;
    Appliers<v1::CreateConnectionOptions> apply;
    AddCreateOptions(&app, &apply);
    EXPECT_THROW(Parse(&app, args), CLI::ValidationError) << args[0];
  }
}

TEST(AddFtpFlags, FillsTheFtpConfig) {
  CLI::App app;
  Appliers<v1::FtpConfig> apply;
  AddFtpFlags(&app, &apply);
  Parse(&app, {"--schema", "s", "--host", "h", "--user", "u", "--port", "2121", "--file-type",
               "CSV", "--file", "orders=orders_.*", "--file", "items=items_.*"});
  v1::FtpConfig config;
  for (const auto& a : apply) a(&config);
  EXPECT_EQ(config.schema(), "s");
  EXPECT_EQ(config.port(), 2121);
  EXPECT_EQ(config.file_type(), v1::FTP_FILE_TYPE_CSV);
  ASSERT_EQ(config.files_size(), 2);
  EXPECT_EQ(config.files(1).table_name(), "items");
  EXPECT_EQ(config.files(1).file_pattern(), "items_.*");
  EXPECT_FALSE(config.has_is_secure());
}

TEST(FtpConfigFromFile, TakesFivetranAndProtoEnumSpellings) {
  v1::FtpConfig config = FtpConfigFromFile(WriteFile(
      "ftp.json", R"({"schema": "s", "file_type": "csv", "compression": "FTP_COMPRESSION_GZ"})"));
  EXPECT_EQ(config.schema(), "s");
  EXPECT_EQ(config.file_type(), v1::FTP_FILE_TYPE_CSV);
  EXPECT_EQ(config.compression(), v1::FTP_COMPRESSION_GZ);

  const std::string unknown = WriteFile("unknown.json", R"({"bogus": 1})");
  EXPECT_THAT(UsageMessage([&] { FtpConfigFromFile(unknown); }),
              HasSubstr("--config: '" + unknown + "' is not an FTP config: "));
}

TEST(CheckFtpRequired, NamesEveryMissingField) {
  EXPECT_EQ(UsageMessage([] { CheckFtpRequired(v1::FtpConfig()); }),
            "create-ftp: missing --schema, --host, --user, --table (or --table-group-name, or "
            "--file-mapping-method) (as flags or in --config)");
  v1::FtpConfig config;
  config.set_schema("s");
  config.set_host("h");
  config.set_user("u");
  config.set_file_mapping_method(v1::FTP_FILE_MAPPING_METHOD_DEFINE_PER_TABLE);
  EXPECT_EQ(UsageMessage([&] { CheckFtpRequired(config); }), "(no UsageError)");
}

TEST(SetFtpPassword, FileThenConfigThenEnvironment) {
  v1::FtpConfig config;
  config.set_password("from-config");
  SetFtpPassword(WriteFile("ftp_pw", "from-file\n"), &config);
  EXPECT_EQ(config.password(), "from-file");

  setenv("FIVETRAN_FTP_PASSWORD", "from-env", 1);
  config.set_password("from-config");
  SetFtpPassword("", &config);
  EXPECT_EQ(config.password(), "from-config");
  config.clear_password();
  SetFtpPassword("", &config);
  EXPECT_EQ(config.password(), "from-env");

  // No file, no config, no environment, and stdin is not a terminal under bazel test.
  unsetenv("FIVETRAN_FTP_PASSWORD");
  config.clear_password();
  if (!isatty(STDIN_FILENO)) {
    EXPECT_THAT(UsageMessage([&] { SetFtpPassword("", &config); }),
                HasSubstr("create-ftp: no FTP password"));
  }
}

}  // namespace
}  // namespace fivetranctl
