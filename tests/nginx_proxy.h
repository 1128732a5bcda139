// NginxProxy: Debian's nginx in front of gateway replicas, configured from
// deploy/nginx/fivetran-gateway.conf.template (the deployed file itself),
// on a free loopback port, stopped when destroyed.
#ifndef FIVETRAN_GATEWAY_TESTS_NGINX_PROXY_H_
#define FIVETRAN_GATEWAY_TESTS_NGINX_PROXY_H_

#include <memory>
#include <string>
#include <vector>

#include "tests/harness.h"

namespace fivetran_gateway::testing {

class NginxProxy {
 public:
  // `upstream_ports`: the replicas' gRPC ports on 127.0.0.1.
  explicit NginxProxy(const std::vector<int>& upstream_ports);
  ~NginxProxy();
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string error_log() const;

 private:
  bool Start(const std::vector<int>& upstream_ports);
  std::string dir_;
  int port_ = 0;
  std::unique_ptr<Process> process_;
};

}  // namespace fivetran_gateway::testing

#endif  // FIVETRAN_GATEWAY_TESTS_NGINX_PROXY_H_
