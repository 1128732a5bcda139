// Running the fivetranctl binary in end-to-end tests: as a subprocess with files for stdout and
// stderr (never a terminal), or under a pseudo-terminal of a chosen size, to check what a person
// at a terminal sees.
#ifndef FIVETRAN_GATEWAY_TESTS_CTL_HARNESS_H_
#define FIVETRAN_GATEWAY_TESTS_CTL_HARNESS_H_

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace fivetran_gateway::testing {

struct Result {
  int code = -1;
  std::string out;
  std::string err;
};

// A fivetranctl process started by StartCtl; WaitCtl collects its result.
struct RunningCtl {
  pid_t pid = -1;
  std::string out_path;
  std::string err_path;
};

// Starts fivetranctl with `args`; stdin from `stdin_file` (/dev/null by default, so never a
// terminal). `env` entries with empty values are unset. FIVETRAN_GATEWAY_ADDR,
// FIVETRAN_FTP_PASSWORD and the FIVETRAN_GATEWAY_TOKEN/CA/CERT/KEY variables are unset unless
// given. Its stdout and stderr go to files named after `name`.
RunningCtl StartCtl(const std::vector<std::string>& args,
                    std::map<std::string, std::string> env = {},
                    const std::string& stdin_file = "/dev/null", const std::string& name = "ctl");

// Waits (at most 60 s, then kills it) for a fivetranctl started by StartCtl.
Result WaitCtl(const RunningCtl& ctl);

// Waits (at most 20 s) until the file at `path`, e.g. a running fivetranctl's
// err_path, contains `needle`; its text then (or at the end of the wait).
std::string WaitForText(const std::string& path, const std::string& needle);

// Runs fivetranctl to the end (see StartCtl).
Result RunCtl(const std::vector<std::string>& args, std::map<std::string, std::string> env = {},
              const std::string& stdin_file = "/dev/null");

// Runs fivetranctl with stdin, stdout and stderr on a new pseudo-terminal of `columns` x 24
// (60 s at most). `out` is everything it wrote to the terminal, stdout and stderr together,
// with the terminal's \r\n line ends.
Result RunCtlInTerminal(const std::vector<std::string>& args, int columns,
                        std::map<std::string, std::string> env = {});

std::string Describe(const Result& r);
std::vector<std::string> Lines(const std::string& text);

}  // namespace fivetran_gateway::testing

#endif  // FIVETRAN_GATEWAY_TESTS_CTL_HARNESS_H_
