// RedisServer: a real Debian redis-server for tests, on a free loopback port
// (and a unix socket), without persistence, stopped when destroyed. It can
// be killed and restarted on the same port to show a store outage.
#ifndef FIVETRAN_GATEWAY_TESTS_REDIS_SERVER_H_
#define FIVETRAN_GATEWAY_TESTS_REDIS_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "tests/harness.h"

namespace fivetran_gateway::testing {

// A loopback TCP port that was free a moment ago (bound to port 0, closed).
int PickFreePort();

class RedisServer {
 public:
  // `password`: "" = no AUTH required.
  explicit RedisServer(const std::string& password = "");
  ~RedisServer();
  int port() const { return port_; }
  std::string unix_path() const { return unix_path_; }
  std::string url() const;  // redis://127.0.0.1:PORT/0
  // SIGKILL, as a crash; Start() brings it back on the same port, empty.
  void Kill();
  void Start();
  // SIGSTOP / SIGCONT: a server that accepts nothing and answers nothing.
  void Pause();
  void Resume();
  bool running() const { return process_ != nullptr; }
  // Runs one command with redis-cli-free plain RESP; returns the raw reply
  // line(s), e.g. "+PONG" or "$-1" (tests: peek at keys).
  std::string Command(const std::vector<std::string>& argv) const;

 private:
  bool WaitReady(double timeout_s) const;
  std::string password_;
  std::string unix_path_;
  std::string dir_;
  int port_ = 0;
  std::unique_ptr<Process> process_;
};

}  // namespace fivetran_gateway::testing

#endif  // FIVETRAN_GATEWAY_TESTS_REDIS_SERVER_H_
