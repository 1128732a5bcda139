#include "tests/nginx_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "tests/redis_server.h"

namespace fivetran_gateway::testing {
namespace {

void ReplaceAll(std::string& text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

bool Accepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

}  // namespace

NginxProxy::NginxProxy(const std::vector<int>& upstream_ports) {
  // Workers may run as another user (nginx started by root): a directory
  // they can traverse, outside TEST_TMPDIR.
  char dir[] = "/tmp/fgw-nginx.XXXXXX";
  if (mkdtemp(dir) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = dir;
  chmod(dir_.c_str(), 0755);
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (Start(upstream_ports)) return;
  }
  throw std::runtime_error("nginx did not start: " + error_log());
}

bool NginxProxy::Start(const std::vector<int>& upstream_ports) {
  port_ = PickFreePort();
  std::string conf = ReadFile(Runfile("deploy/nginx/fivetran-gateway.conf.template"));
  if (conf.empty()) throw std::runtime_error("nginx template not found");
  std::string servers;
  for (int p : upstream_ports) {
    servers += "server 127.0.0.1:" + std::to_string(p) + " max_fails=1 fail_timeout=2s; ";
  }
  ReplaceAll(conf, "@LISTEN@", "127.0.0.1:" + std::to_string(port_));
  ReplaceAll(conf, "@RUN_DIR@", dir_);
  ReplaceAll(conf, "@UPSTREAM_SERVERS@", servers);
  const std::string conf_path = dir_ + "/nginx.conf";
  std::ofstream(conf_path) << conf;
  process_ = std::make_unique<Process>(
      std::vector<std::string>{"/usr/sbin/nginx", "-c", conf_path, "-p", dir_, "-g", "daemon off;"},
      std::map<std::string, std::string>{}, dir_ + "/stdout.log");
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < end) {
    if (!process_->Running()) break;
    if (Accepts(port_)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // Polls readiness.
  }
  process_->StopWith(SIGKILL, 2);
  process_.reset();
  return false;
}

NginxProxy::~NginxProxy() {
  if (process_ != nullptr) process_->StopWith(SIGTERM, 5);
  std::string cmd = "rm -rf '" + dir_ + "'";
  (void)!std::system(cmd.c_str());
}

std::string NginxProxy::error_log() const {
  return ReadFile(dir_ + "/error.log") + ReadFile(dir_ + "/stdout.log");
}

}  // namespace fivetran_gateway::testing
