// The CreateConnectionOptions flags shared by `connections create` and `create-ftp`.
#ifndef CLIENT_FIVETRANCTL_CREATE_OPTIONS_H_
#define CLIENT_FIVETRANCTL_CREATE_OPTIONS_H_

#include <CLI/CLI.hpp>

#include "client/fivetranctl/flags.h"
#include "fivetran/gateway/v1/connection_service.pb.h"

namespace fivetranctl {

// Adds every create option as a flag of `cmd` (help group "Create options"); `apply` fills a
// CreateConnectionOptions from the flags that were given.
void AddCreateOptions(CLI::App* cmd,
                      Appliers<::fivetran::gateway::v1::CreateConnectionOptions>* apply);

}  // namespace fivetranctl

#endif  // CLIENT_FIVETRANCTL_CREATE_OPTIONS_H_
