// End-to-end: fivetranctl as people use it, against the emulator-backed gateway. Tables never
// cut anything when stdout is not a terminal and fit the terminal when it is (checked under a
// pseudo-terminal); -o wide and --no-headers; shell completion generated from the command tree;
// the live status line of `connections sync --wait` on a terminal, plain lines elsewhere.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/ctl_harness.h"
#include "tests/harness.h"

namespace fivetran_gateway::testing {
namespace {

using nlohmann::json;

// Terminal output as lines: \r\n line ends, and the \r and erase-line (ESC [ K) of a status line
// redrawn in place, split into what was drawn each time.
std::vector<std::string> TerminalLines(const std::string& text) {
  std::vector<std::string> lines;
  std::string line;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, 3, "\x1b[K") == 0) {
      i += 2;
      continue;
    }
    const char c = text[i];
    if (c == '\r' || c == '\n') {
      if (!line.empty()) lines.push_back(line);
      line.clear();
    } else {
      line += c;
    }
  }
  if (!line.empty()) lines.push_back(line);
  return lines;
}

// The cells of a table line (columns are separated by two or more spaces).
std::vector<std::string> Cells(const std::string& line) {
  std::vector<std::string> cells;
  size_t i = 0;
  while (i < line.size()) {
    size_t end = line.find("  ", i);
    if (end == std::string::npos) end = line.size();
    cells.push_back(line.substr(i, end - i));
    i = line.find_first_not_of(' ', end);
    if (i == std::string::npos) break;
  }
  return cells;
}

// Output of a shell command.
std::string Shell(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return out;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, p)) > 0) out.append(buffer, n);
  pclose(p);
  return out;
}

// What bash completes for the words of a command line (the last one is completed), with the
// script that `fivetranctl completion bash` printed into `script`.
std::string Complete(const std::string& script, const std::vector<std::string>& words) {
  std::string array;
  for (const std::string& w : words) array += " '" + w + "'";
  const std::string file =
      WriteTemp("complete.sh", "source '" + script + "'\nCOMP_WORDS=(" + array +
                                   ")\nCOMP_CWORD=" + std::to_string(words.size() - 1) +
                                   "\n_fivetranctl\necho \"${COMPREPLY[*]}\"\n");
  std::string out = Shell("bash '" + file + "' 2>&1");
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

class FivetranctlTerminalTest : public StackTest {
 protected:
  static void SetUpTestSuite() {
    StartStack({"--sync_duration=1500ms"}, {"--sync_poll_min_interval=100ms"});
  }

  static std::vector<std::string> WithServer(std::vector<std::string> args) {
    args.insert(args.begin(), {"--server", gateway_->address()});
    return args;
  }
  static Result Ctl(const std::vector<std::string>& args) { return RunCtl(WithServer(args)); }
  static Result CtlInTerminal(const std::vector<std::string>& args, int columns) {
    return RunCtlInTerminal(WithServer(args), columns);
  }

  // Makes decent_dropsy's next sync run until the returned thread ends it:
  // once the emulator has answered `reads` GETs of the connection from here
  // on, i.e. once the CLI has watched it running for that many polls,
  // however slow the machine (a fixed sync duration could pass before the
  // first poll). Join the thread after the CLI has ended.
  static std::thread EndSyncAfterReads(int reads) {
    emulator_->SetSyncOutcome("decent_dropsy", "success", 600000);
    emulator_->ClearRequests();
    return std::thread([reads] {
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      while (emulator_->CountRequests("GET", "/v1/connections/decent_dropsy") < reads &&
             std::chrono::steady_clock::now() < give_up) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      EXPECT_TRUE(emulator_->EndSync("decent_dropsy"));
    });
  }
};

TEST_F(FivetranctlTerminalTest, TablesNeverCutIdsEmailsOrNamesWhenNotATerminal) {
  std::vector<json> users = emulator_->ListAll("/v1/users");
  ASSERT_FALSE(users.empty());
  Result r = Ctl({"users", "list", "--all"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  EXPECT_EQ(r.out.find('~'), std::string::npos) << "a cell was cut:\n" << r.out.substr(0, 2000);
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), users.size() + 1);
  std::map<std::string, std::vector<std::string>> rows;
  for (size_t i = 1; i < lines.size(); ++i) {
    std::vector<std::string> cells = Cells(lines[i]);
    ASSERT_GE(cells.size(), 3u) << lines[i];
    rows[cells[0]] = cells;
  }
  size_t longest = 0;
  for (const json& u : users) {
    const std::string id = u["id"];
    ASSERT_EQ(rows.count(id), 1u) << id;
    EXPECT_EQ(rows[id][1], u["email"].get<std::string>());
    std::string name = u.value("given_name", "");
    if (u.contains("family_name") && u["family_name"].is_string()) {
      name += (name.empty() ? "" : " ") + u["family_name"].get<std::string>();
    }
    if (!name.empty()) {
      EXPECT_EQ(rows[id][2], name) << id;
    }
    longest = std::max(longest, lines[0].size());
  }
  for (const std::string& line : lines) longest = std::max(longest, line.size());
  EXPECT_GT(longest, 80u) << "the data fits 80 columns: this test shows nothing";
}

TEST_F(FivetranctlTerminalTest, TablesFitTheTerminalAndKeepIdsWhole) {
  std::vector<json> users = emulator_->ListAll("/v1/users?limit=20");
  for (int columns : {60, 72}) {
    SCOPED_TRACE(columns);
    Result r = CtlInTerminal({"users", "list", "--page-size", "20", "-q"}, columns);
    ASSERT_EQ(r.code, 0) << r.out;
    std::vector<std::string> lines = TerminalLines(r.out);
    ASSERT_EQ(lines.size(), 21u) << r.out;
    for (const std::string& line : lines) {
      EXPECT_LE(line.size(), static_cast<size_t>(columns)) << line;
    }
    EXPECT_NE(r.out.find('~'), std::string::npos) << "nothing was cut to fit:\n" << r.out;
    for (size_t i = 1; i < lines.size(); ++i) {
      const std::string id = Cells(lines[i])[0];
      EXPECT_TRUE(
          std::any_of(users.begin(), users.end(), [&](const json& u) { return u["id"] == id; }))
          << "not a whole id: " << id;
    }
  }
  // A wide terminal cuts nothing.
  Result wide = CtlInTerminal({"users", "list", "--page-size", "20", "-q"}, 250);
  ASSERT_EQ(wide.code, 0) << wide.out;
  EXPECT_EQ(wide.out.find('~'), std::string::npos) << wide.out;
}

TEST_F(FivetranctlTerminalTest, WideShowsEveryColumnAndNoHeadersDropsTheHeader) {
  std::vector<json> expected = emulator_->ListAll("/v1/groups/projected_sickle/connections");
  ASSERT_FALSE(expected.empty());
  Result normal = Ctl({"groups", "connections", "projected_sickle"});
  ASSERT_EQ(normal.code, 0) << Describe(normal);
  const std::vector<std::string> normal_header = Cells(Lines(normal.out)[0]);
  EXPECT_EQ(normal_header, (std::vector<std::string>{"ID", "SCHEMA", "SERVICE", "STATE",
                                                     "LAST SUCCESS", "LAST FAILURE"}));

  Result wide = Ctl({"groups", "connections", "projected_sickle", "-o", "wide"});
  ASSERT_EQ(wide.code, 0) << Describe(wide);
  std::vector<std::string> lines = Lines(wide.out);
  ASSERT_EQ(lines.size(), expected.size() + 1);
  const std::vector<std::string> header = Cells(lines[0]);
  EXPECT_EQ(header,
            (std::vector<std::string>{"ID", "GROUP", "SCHEMA", "SERVICE", "STATE", "PAUSED",
                                      "SCHEDULE", "LAST SUCCESS", "LAST FAILURE", "CREATED"}));
  for (size_t i = 0; i < expected.size(); ++i) {
    std::vector<std::string> cells = Cells(lines[i + 1]);
    ASSERT_EQ(cells.size(), header.size()) << lines[i + 1];
    EXPECT_EQ(cells[0], expected[i]["id"].get<std::string>());
    EXPECT_EQ(cells[1], "projected_sickle");
    EXPECT_EQ(cells[2], expected[i]["schema"].get<std::string>());
    const json paused = expected[i].value("paused", json());
    if (paused.is_boolean()) {
      EXPECT_EQ(cells[5], paused.get<bool>() ? "yes" : "no");
    }
  }

  Result bare = Ctl({"--no-headers", "groups", "list", "--all"});
  ASSERT_EQ(bare.code, 0) << Describe(bare);
  std::vector<json> groups = emulator_->ListAll("/v1/groups");
  std::vector<std::string> rows = Lines(bare.out);
  ASSERT_EQ(rows.size(), groups.size());
  for (size_t i = 0; i < groups.size(); ++i) {
    EXPECT_EQ(Cells(rows[i])[0], groups[i]["id"].get<std::string>());
  }
}

TEST_F(FivetranctlTerminalTest, SyncWaitShowsALiveStatusLineOnATerminal) {
  // The sync runs for 15 reads (a baseline and 14 polls 100 ms apart): the
  // line is drawn, then redrawn by the one-second tick.
  std::thread ender = EndSyncAfterReads(15);
  Result r = CtlInTerminal(
      {"connections", "sync", "decent_dropsy", "--wait", "--poll-interval", "100ms"}, 100);
  ender.join();
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("\r\x1b[K"), std::string::npos) << "no line redrawn in place:\n" << r.out;
  std::vector<std::string> statuses;
  for (const std::string& line : TerminalLines(r.out)) {
    if (line.find(" elapsed ") != std::string::npos) statuses.push_back(line);
  }
  ASSERT_GE(statuses.size(), 2u) << r.out;
  for (const std::string& status : statuses) {
    EXPECT_EQ(status.rfind("connection=decent_dropsy sync_state=", 0), 0u) << status;
    EXPECT_LT(status.size(), 100u) << status;
  }
  // The time runs on: 0s first, then at least 1s, never going back.
  int previous = -1;
  for (const std::string& status : statuses) {
    const int elapsed = std::atoi(status.c_str() + status.find(" elapsed ") + 9);
    EXPECT_GE(elapsed, previous) << status;
    previous = elapsed;
  }
  EXPECT_GE(previous, 1) << statuses.back();
  std::vector<std::string> lines = TerminalLines(r.out);
  EXPECT_NE(lines.back().find("sync succeeded connection=decent_dropsy"), std::string::npos)
      << lines.back();
  // The redraws leave no line of their own: what stays on screen is the trigger and the outcome.
  EXPECT_EQ(r.out.find("Z connection=decent_dropsy sync_state="), std::string::npos) << r.out;
}

TEST_F(FivetranctlTerminalTest, SyncWaitPrintsPlainLinesWhenNotATerminal) {
  std::thread ender = EndSyncAfterReads(3);  // A baseline and two polls of the running sync.
  Result r = Ctl({"connections", "sync", "decent_dropsy", "--wait", "--poll-interval", "100ms"});
  ender.join();
  ASSERT_EQ(r.code, 0) << Describe(r);
  EXPECT_EQ(r.err.find('\r'), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\x1b'), std::string::npos) << r.err;
  std::vector<std::string> lines = Lines(r.err);
  ASSERT_GE(lines.size(), 3u) << r.err;
  int states = 0;
  for (const std::string& line : lines) {
    // Every line starts with its UTC time stamp, e.g. 2026-11-29T14:00:00Z.
    EXPECT_EQ(line.size() > 20 ? line[19] : ' ', 'Z') << line;
    states += line.find(" connection=decent_dropsy sync_state=") != std::string::npos;
  }
  EXPECT_GE(states, 1) << r.err;
  EXPECT_NE(lines.back().find("sync succeeded connection=decent_dropsy"), std::string::npos)
      << r.err;
}

TEST_F(FivetranctlTerminalTest, BashCompletionFromTheCommandTree) {
  Result r = RunCtl({"completion", "bash"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  const std::string script = WriteTemp("fivetranctl.bash", r.out);
  EXPECT_EQ(std::system(("bash -n '" + script + "'").c_str()), 0) << "bash -n refused:\n" << r.out;
  EXPECT_NE(r.out.find("complete -F _fivetranctl fivetranctl"), std::string::npos);

  EXPECT_EQ(Complete(script, {"fivetranctl", "conn"}), "connections connectors");
  EXPECT_EQ(Complete(script, {"fivetranctl", "connectors", "sy"}), "sync");
  EXPECT_EQ(Complete(script, {"fivetranctl", "groups", "l"}), "list");
  // The value of an option is skipped when finding the subcommand.
  EXPECT_EQ(Complete(script, {"fivetranctl", "--server", "gw:50051", "users", "l"}), "list");
  EXPECT_EQ(Complete(script, {"fivetranctl", "--server", "connections", "groups", "c"}),
            "connections");
  EXPECT_EQ(Complete(script, {"fivetranctl", "connections", "sync", "decent_dropsy", "--w"}),
            "--wait");
  // Global flags after a subcommand; an enum option's choices; the shells of completion.
  EXPECT_EQ(Complete(script, {"fivetranctl", "users", "list", "--no-h"}), "--no-headers");
  EXPECT_EQ(Complete(script, {"fivetranctl", "-o", ""}), "table wide json jsonl");
  EXPECT_EQ(Complete(script, {"fivetranctl", "completion", "z"}), "zsh");
  // FILE options complete file names.
  EXPECT_EQ(Complete(script, {"fivetranctl", "--ca-file", script.substr(0, script.size() - 2)}),
            script);

  Result zsh = RunCtl({"completion", "zsh"});
  ASSERT_EQ(zsh.code, 0) << Describe(zsh);
  EXPECT_NE(zsh.out.find("bashcompinit"), std::string::npos);
  EXPECT_NE(zsh.out.find(r.out), std::string::npos)
      << "zsh's script is not bash's behind bashcompinit";

  Result bad = RunCtl({"completion", "fish"});
  EXPECT_EQ(bad.code, 2) << Describe(bad);
  EXPECT_EQ(Lines(bad.err).size(), 1u) << bad.err;
}

}  // namespace
}  // namespace fivetran_gateway::testing
