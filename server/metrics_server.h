// MetricsServer: GET /metrics over HTTP/1.1 on --metrics_listen, answering
// the default registry (server/common/metrics.h) in the Prometheus text
// format 0.0.4; anything else is an HTTP error (404 for another path). It
// needs no token: config.cc allows a non-loopback address only with
// --allow_remote_metrics. Two worker threads; a scrape never touches a gRPC
// thread or the upstream.
#ifndef FIVETRAN_GATEWAY_SERVER_METRICS_SERVER_H_
#define FIVETRAN_GATEWAY_SERVER_METRICS_SERVER_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace fivetran_gateway {

class MetricsServer {
 public:
  // Binds `listen` (HOST:PORT, IPv6 in brackets, port 0 = a free one) and
  // serves from a thread of its own. UNAVAILABLE when it cannot bind.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(const std::string& listen);
  ~MetricsServer();  // Stops serving and joins the thread.
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  int port() const { return port_; }

 private:
  MetricsServer();
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace fivetran_gateway

#endif  // FIVETRAN_GATEWAY_SERVER_METRICS_SERVER_H_
