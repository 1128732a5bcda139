// fivetranctl: the command-line client of fivetran_gateway (see client/fivetranctl/README.md).
//
// Parsing is CLI11; every command is one or more unary RPCs on the generated stubs. Local
// problems (bad flags, unreadable files, missing password) exit with kExitUsage before any
// channel is created, so nothing reaches the server.
//
// This file only wires the command line: the global flags and the runner are in runner.h, each
// noun in cmd_<noun>.cc.
#include <grpc/support/log.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/fivetranctl/cmd_connections.h"
#include "client/fivetranctl/cmd_groups.h"
#include "client/fivetranctl/cmd_users.h"
#include "client/fivetranctl/completion.h"
#include "client/fivetranctl/errors.h"
#include "client/fivetranctl/input.h"
#include "client/fivetranctl/runner.h"

namespace fivetranctl {
namespace {

constexpr char kExitCodes[] = R"(Exit codes:
  0  success
  1  other error (INTERNAL, FAILED_PRECONDITION, ALREADY_EXISTS, ...)
  2  usage error: bad flags or unusable local input; nothing was sent
  3  not found (NOT_FOUND)
  4  invalid argument (INVALID_ARGUMENT, OUT_OF_RANGE)
  5  permission or authentication (PERMISSION_DENIED, UNAUTHENTICATED)
  6  gateway or Fivetran unavailable, or deadline exceeded (UNAVAILABLE, DEADLINE_EXCEEDED)
  7  rate limited (RESOURCE_EXHAUSTED); the error line gives retry_after
  8  connection created but not ready (setup_state is not "connected")
  sync --wait and watch:
  9  the sync failed
  10 the sync was rescheduled (waiting for source quota; manual schedules need a new trigger)
  11 the connection is paused
  12 --timeout ran out before the sync ended
  13 no connection: the TLS handshake failed (untrusted certificate, wrong server name), or
     TLS on one side only (e.g. no --tls/--ca-file for a gateway that serves TLS)
)";

constexpr char kCompletionFooter[] = R"(
Examples:
  source <(fivetranctl completion bash)     # in ~/.bashrc
  source <(fivetranctl completion zsh)      # in ~/.zshrc, after compinit
  fivetranctl completion bash >/etc/bash_completion.d/fivetranctl
)";

constexpr char kMainFooter[] = R"(
Examples:
  fivetranctl connections get decent_dropsy
  fivetranctl connections sync decent_dropsy --force
  fivetranctl groups connections amber_fjord --all --output jsonl
  fivetranctl users list --suspended --output json
  fivetranctl help connections create-ftp
  source <(fivetranctl completion bash)

  fivetranctl --server gw.example:50051 --ca-file ca.crt --token-file ~/.fivetran-gateway-token \
      groups list

Environment:
  FIVETRAN_GATEWAY_ADDR        default of --server
  FIVETRAN_GATEWAY_TOKEN       bearer token (when --token-file is not given)
  FIVETRAN_GATEWAY_TOKEN_FILE  file holding the token (when neither of the above is given)
  FIVETRAN_GATEWAY_CA_FILE     default of --ca-file
  FIVETRAN_GATEWAY_CERT, FIVETRAN_GATEWAY_KEY  defaults of --cert and --key
  FIVETRAN_GATEWAY_TLS=1, FIVETRAN_GATEWAY_SERVER_NAME  defaults of --tls and --server-name
  FIVETRAN_FTP_PASSWORD        FTP password for create-ftp (when --password-file is not given)
  GRPC_VERBOSITY               set (e.g. to debug) to see gRPC's own log lines

Errors are printed to stderr as one line:
  fivetranctl: error: CODE: message (fivetran_code=..., http_status=..., retry_after=...)

)";

// gRPC's own log lines (e.g. "Handshake failed with fatal error ...") would break the one-line
// errors; they are shown only when GRPC_VERBOSITY asks for them.
void NoGrpcLog(gpr_log_func_args* /*args*/) {}

int Main(int argc, char** argv) {
  if (std::getenv("GRPC_VERBOSITY") == nullptr) gpr_set_log_function(NoGrpcLog);
  CLI::App app{"fivetranctl: the command-line client of the Fivetran gRPC gateway."};
  app.name("fivetranctl");
  app.footer(std::string(kMainFooter) + kExitCodes);
  app.require_subcommand(1);
  app.fallthrough();
  Globals g;
  AddGlobalFlags(&app, &g);

  // In the order of the help.
  std::unique_ptr<Command> commands[] = {
      AddConnectionsCommand(&app),
      AddGroupsCommand(&app),
      AddUsersCommand(&app),
  };
  CLI::App* help = app.add_subcommand("help", "Show the help of a command: help [COMMAND...]");
  std::string shell;
  CLI::App* completion = app.add_subcommand("completion", "Print a shell completion script");
  completion->add_option("SHELL", shell, "bash or zsh")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh"}));
  completion->footer(kCompletionFooter);

  // `help COMMAND...` is `COMMAND... --help` (CLI11 would take the words for subcommands).
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args[0] == "help") {
    args.erase(args.begin());
    args.push_back("--help");
  }
  std::reverse(args.begin(), args.end());  // CLI11 takes the arguments last-first.
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e, std::cout, std::cerr);
    std::cerr << "fivetranctl: usage error: " << OneLine(e.what()) << " (run with --help for usage)"
              << std::endl;
    return kExitUsage;
  }

  try {
    if (help->parsed()) {
      std::cout << app.help();
      return kExitOk;
    }
    if (completion->parsed()) {
      std::cout << (shell == "zsh" ? ZshCompletion(app) : BashCompletion(app));
      return kExitOk;
    }
    ResolveGlobals(app, &g);
    for (const auto& command : commands) {
      if (std::optional<int> exit_code = command->Run(g)) return *exit_code;
    }
  } catch (const UsageError& e) {
    std::cerr << "fivetranctl: usage error: " << OneLine(e.what()) << std::endl;
    return kExitUsage;
  }
  std::cerr << "fivetranctl: usage error: no command (run with --help for usage)" << std::endl;
  return kExitUsage;
}

}  // namespace
}  // namespace fivetranctl

int main(int argc, char** argv) { return fivetranctl::Main(argc, argv); }
