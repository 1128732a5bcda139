#include "tests/redis_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <thread>

namespace fivetran_gateway::testing {

int PickFreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

RedisServer::RedisServer(const std::string& password) : password_(password) {
  // A short path: a unix socket's path is limited to 107 bytes, and
  // TEST_TMPDIR is often longer.
  char dir[] = "/tmp/fgw-redis.XXXXXX";
  if (mkdtemp(dir) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = dir;
  unix_path_ = dir_ + "/redis.sock";
  for (int attempt = 0; attempt < 5 && process_ == nullptr; ++attempt) {
    port_ = PickFreePort();
    Start();
  }
  if (process_ == nullptr) throw std::runtime_error("redis-server did not start");
}

RedisServer::~RedisServer() {
  if (process_ != nullptr) process_->StopWith(SIGTERM, 5);
  unlink(unix_path_.c_str());
  unlink((dir_ + "/redis.log").c_str());
  rmdir(dir_.c_str());
}

std::string RedisServer::url() const { return "redis://127.0.0.1:" + std::to_string(port_) + "/0"; }

void RedisServer::Kill() {
  if (process_ == nullptr) return;
  process_->StopWith(SIGKILL, 5);
  process_.reset();
}

void RedisServer::Pause() {
  if (process_ != nullptr) kill(process_->pid(), SIGSTOP);
}

void RedisServer::Resume() {
  if (process_ != nullptr) kill(process_->pid(), SIGCONT);
}

void RedisServer::Start() {
  std::vector<std::string> argv = {"/usr/bin/redis-server",
                                   "--port",
                                   std::to_string(port_),
                                   "--bind",
                                   "127.0.0.1",
                                   "--unixsocket",
                                   unix_path_,
                                   "--unixsocketperm",
                                   "700",
                                   "--save",
                                   "",
                                   "--appendonly",
                                   "no",
                                   "--dir",
                                   dir_,
                                   "--daemonize",
                                   "no",
                                   "--loglevel",
                                   "warning"};
  if (!password_.empty()) {
    argv.push_back("--requirepass");
    argv.push_back(password_);
  }
  process_ =
      std::make_unique<Process>(argv, std::map<std::string, std::string>{}, dir_ + "/redis.log");
  if (!WaitReady(10)) {
    process_->StopWith(SIGKILL, 2);
    process_.reset();
  }
}

bool RedisServer::WaitReady(double timeout_s) const {
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (std::chrono::steady_clock::now() < end) {
    if (!process_->Running()) return false;
    std::string reply = Command({"PING"});
    if (reply.rfind("+PONG", 0) == 0 || reply.rfind("-NOAUTH", 0) == 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // Polls readiness.
  }
  return false;
}

std::string RedisServer::Command(const std::vector<std::string>& argv) const {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port_));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return "";
  }
  timeval tv{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  auto resp = [](const std::vector<std::string>& args) {
    std::string out = "*" + std::to_string(args.size()) + "\r\n";
    for (const std::string& a : args) out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
    return out;
  };
  std::string request;
  if (!password_.empty()) request += resp({"AUTH", password_});
  request += resp(argv);
  (void)!write(fd, request.data(), request.size());
  std::string reply;
  char buf[4096];
  // With AUTH first, skip its "+OK" line.
  const size_t lines_wanted = password_.empty() ? 1 : 2;
  for (;;) {
    size_t lines = 0;
    for (char c : reply) lines += c == '\n';
    // A bulk reply ($N) has a second line.
    size_t bulk_extra = 0;
    size_t start = password_.empty() ? 0 : reply.find('\n') + 1;
    if (lines >= lines_wanted && start < reply.size() && reply[start] == '$' &&
        reply.compare(start, 3, "$-1") != 0) {
      bulk_extra = 1;
    }
    if (lines >= lines_wanted + bulk_extra) break;
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    reply.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  if (!password_.empty()) {
    size_t nl = reply.find('\n');
    reply = nl == std::string::npos ? "" : reply.substr(nl + 1);
  }
  while (!reply.empty() && (reply.back() == '\n' || reply.back() == '\r')) reply.pop_back();
  return reply;
}

}  // namespace fivetran_gateway::testing
