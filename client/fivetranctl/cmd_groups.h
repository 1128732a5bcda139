// `fivetranctl groups`: list groups, and the connections of a group.
#ifndef CLIENT_FIVETRANCTL_CMD_GROUPS_H_
#define CLIENT_FIVETRANCTL_CMD_GROUPS_H_

#include <CLI/CLI.hpp>
#include <memory>

#include "client/fivetranctl/runner.h"

namespace fivetranctl {

// Registers `groups list` and `groups connections GROUP_ID` on `app`.
std::unique_ptr<Command> AddGroupsCommand(CLI::App* app);

}  // namespace fivetranctl

#endif  // CLIENT_FIVETRANCTL_CMD_GROUPS_H_
