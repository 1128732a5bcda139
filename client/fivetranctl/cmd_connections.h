// `fivetranctl connections` (alias `connectors`): get, create, create-ftp, sync and watch.
#ifndef CLIENT_FIVETRANCTL_CMD_CONNECTIONS_H_
#define CLIENT_FIVETRANCTL_CMD_CONNECTIONS_H_

#include <CLI/CLI.hpp>
#include <memory>

#include "client/fivetranctl/runner.h"

namespace fivetranctl {

// Registers `connections` and its subcommands on `app`.
std::unique_ptr<Command> AddConnectionsCommand(CLI::App* app);

}  // namespace fivetranctl

#endif  // CLIENT_FIVETRANCTL_CMD_CONNECTIONS_H_
