#include "tests/ctl_harness.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "gtest/gtest.h"
#include "tests/harness.h"

namespace fivetran_gateway::testing {
namespace {

constexpr int kTimeoutSeconds = 60;

// LeakSanitizer suppressions for the fivetranctl processes of the ASan run: Debian's gRPC 1.51
// with OpenSSL 3 now and then leaves one TLS object that libcrypto allocated (904 bytes, from
// CRYPTO_zalloc) at the exit of a client that used TLS. It is not fivetranctl's allocation;
// leaks anywhere else are still reported. Written once, before the first fork.
const std::string& LsanSuppressions() {
  static const std::string path = [] {
    std::string p = TempPath("fivetranctl.lsan.supp");
    std::ofstream(p) << "leak:libcrypto.so\n";
    return p;
  }();
  return path;
}

// In a forked child: the environment of `env` over the defaults, then exec fivetranctl.
[[noreturn]] void ExecCtl(const std::vector<std::string>& args,
                          std::map<std::string, std::string> env) {
  for (const char* name :
       {"FIVETRAN_GATEWAY_ADDR", "FIVETRAN_FTP_PASSWORD", "FIVETRAN_GATEWAY_TOKEN",
        "FIVETRAN_GATEWAY_TOKEN_FILE", "FIVETRAN_GATEWAY_CA_FILE", "FIVETRAN_GATEWAY_CERT",
        "FIVETRAN_GATEWAY_KEY", "FIVETRAN_GATEWAY_TLS", "FIVETRAN_GATEWAY_SERVER_NAME",
        "COLUMNS"}) {
    env.emplace(name, "");
  }
  env.emplace("LSAN_OPTIONS", "print_suppressions=0:suppressions=" + LsanSuppressions());
  for (const auto& [k, v] : env) {
    if (v.empty()) {
      unsetenv(k.c_str());
    } else {
      setenv(k.c_str(), v.c_str(), 1);
    }
  }
  std::vector<std::string> argv = {Runfile("client/fivetranctl")};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargs;
  for (const std::string& a : argv) cargs.push_back(const_cast<char*>(a.c_str()));
  cargs.push_back(nullptr);
  execv(cargs[0], cargs.data());
  _exit(127);
}

int ExitCodeOf(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

RunningCtl StartCtl(const std::vector<std::string>& args, std::map<std::string, std::string> env,
                    const std::string& stdin_file, const std::string& name) {
  LsanSuppressions();
  RunningCtl ctl;
  ctl.out_path = TempPath(name + ".out");
  ctl.err_path = TempPath(name + ".err");
  pid_t pid = fork();
  if (pid == 0) {
    int in = open(stdin_file.c_str(), O_RDONLY);
    int out = open(ctl.out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = open(ctl.err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0 || err < 0) _exit(126);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    ExecCtl(args, std::move(env));
  }
  ctl.pid = pid;
  return ctl;
}

std::string WaitForText(const std::string& path, const std::string& needle) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::string text;
  while ((text = ReadFile(path)).find(needle) == std::string::npos &&
         std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return text;
}

Result WaitCtl(const RunningCtl& ctl) {
  Result r;
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(kTimeoutSeconds);
  int status = 0;
  while (true) {
    pid_t w = waitpid(ctl.pid, &status, WNOHANG);
    if (w == ctl.pid) break;
    if (std::chrono::steady_clock::now() > end) {
      kill(ctl.pid, SIGKILL);
      waitpid(ctl.pid, &status, 0);
      ADD_FAILURE() << "fivetranctl timed out";
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  r.code = ExitCodeOf(status);
  r.out = ReadFile(ctl.out_path);
  r.err = ReadFile(ctl.err_path);
  return r;
}

Result RunCtl(const std::vector<std::string>& args, std::map<std::string, std::string> env,
              const std::string& stdin_file) {
  return WaitCtl(StartCtl(args, std::move(env), stdin_file));
}

Result RunCtlInTerminal(const std::vector<std::string>& args, int columns,
                        std::map<std::string, std::string> env) {
  LsanSuppressions();
  winsize size{};
  size.ws_col = static_cast<unsigned short>(columns);
  size.ws_row = 24;
  int master = -1;
  pid_t pid = forkpty(&master, nullptr, nullptr, &size);
  if (pid < 0) throw std::runtime_error("forkpty failed");
  if (pid == 0) ExecCtl(args, std::move(env));

  Result r;
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(kTimeoutSeconds);
  char buffer[4096];
  while (std::chrono::steady_clock::now() < end) {
    pollfd p{master, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    ssize_t n = read(master, buffer, sizeof buffer);
    if (n > 0) {
      r.out.append(buffer, static_cast<size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;  // EIO: the child closed the terminal (it exited).
    }
  }
  int status = 0;
  if (waitpid(pid, &status, WNOHANG) != pid) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    if (std::chrono::steady_clock::now() >= end) ADD_FAILURE() << "fivetranctl timed out";
  }
  close(master);
  r.code = ExitCodeOf(status);
  return r;
}

std::string Describe(const Result& r) {
  return "exit " + std::to_string(r.code) + "\n--- stdout:\n" + r.out.substr(0, 2000) +
         "\n--- stderr:\n" + r.err;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream s(text);
  std::string line;
  while (std::getline(s, line)) lines.push_back(line);
  return lines;
}

}  // namespace fivetran_gateway::testing
