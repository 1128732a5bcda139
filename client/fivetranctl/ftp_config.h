// The typed FTP config of `connections create-ftp`: its flags, its --config file, the required
// fields and the password.
#ifndef CLIENT_FIVETRANCTL_FTP_CONFIG_H_
#define CLIENT_FIVETRANCTL_FTP_CONFIG_H_

#include <CLI/CLI.hpp>
#include <string>

#include "client/fivetranctl/flags.h"
#include "fivetran/gateway/v1/ftp_config.pb.h"

namespace fivetranctl {

// Every typed FtpConfig field as a flag of `cmd` (help group "FTP config"); secrets only from
// files. The appliers may throw UsageError (an unreadable secret file).
void AddFtpFlags(CLI::App* cmd, Appliers<::fivetran::gateway::v1::FtpConfig>* apply);

// The FtpConfig in a JSON file (or stdin for "-"): proto field names, enums in Fivetran's
// spelling ("csv", "tar_gz") or as proto enum names. Throws UsageError.
::fivetran::gateway::v1::FtpConfig FtpConfigFromFile(const std::string& path);

// Throws UsageError naming every required field that is missing (schema, host, user, and a
// table, table group name or file mapping method).
void CheckFtpRequired(const ::fivetran::gateway::v1::FtpConfig& config);

// Sets the password from `password_file` when given; else keeps one from the --config file;
// else takes $FIVETRAN_FTP_PASSWORD; else prompts on a terminal. Throws UsageError when there
// is none.
void SetFtpPassword(const std::string& password_file, ::fivetran::gateway::v1::FtpConfig* config);

}  // namespace fivetranctl

#endif  // CLIENT_FIVETRANCTL_FTP_CONFIG_H_
