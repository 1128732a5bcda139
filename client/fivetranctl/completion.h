// Shell completion scripts for fivetranctl, generated from the CLI11 command tree: every
// subcommand (and alias), every flag, the choices of enum options, file names for FILE options.
#ifndef CLIENT_FIVETRANCTL_COMPLETION_H_
#define CLIENT_FIVETRANCTL_COMPLETION_H_

#include <CLI/CLI.hpp>
#include <string>

namespace fivetranctl {

// A bash script defining _fivetranctl and `complete -F _fivetranctl fivetranctl`.
std::string BashCompletion(const CLI::App& app);

// The bash script behind zsh's bashcompinit (source it after compinit).
std::string ZshCompletion(const CLI::App& app);

}  // namespace fivetranctl

#endif  // CLIENT_FIVETRANCTL_COMPLETION_H_
