// `fivetranctl users`: list users.
#ifndef CLIENT_FIVETRANCTL_CMD_USERS_H_
#define CLIENT_FIVETRANCTL_CMD_USERS_H_

#include <CLI/CLI.hpp>
#include <memory>

#include "client/fivetranctl/runner.h"

namespace fivetranctl {

// Registers `users list [--active|--suspended]` on `app`.
std::unique_ptr<Command> AddUsersCommand(CLI::App* app);

}  // namespace fivetranctl

#endif  // CLIENT_FIVETRANCTL_CMD_USERS_H_
