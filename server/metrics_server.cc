#include "server/metrics_server.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "httplib.h"
#include "server/common/metrics.h"

namespace fivetran_gateway {

MetricsServer::MetricsServer() : server_(std::make_unique<httplib::Server>()) {}

MetricsServer::~MetricsServer() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  int port = -1;
  if (colon == std::string::npos || !absl::SimpleAtoi(listen.substr(colon + 1), &port)) {
    return absl::InvalidArgumentError(absl::StrCat("--metrics_listen=", listen, ": no port"));
  }
  std::string host = listen.substr(0, colon);
  if (absl::StartsWith(host, "[") && absl::EndsWith(host, "]")) {
    host = host.substr(1, host.size() - 2);
  }

  std::unique_ptr<MetricsServer> out(new MetricsServer());
  httplib::Server& server = *out->server_;
  server.new_task_queue = [] { return new httplib::ThreadPool(2); };
  // A scraper keeps its connection; a stop waits at most this long for it.
  server.set_keep_alive_timeout(2);
  server.set_read_timeout(5, 0);
  server.set_write_timeout(5, 0);
  server.set_payload_max_length(4096);
  server.Get("/metrics", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics::DefaultRegistry().Expose(), metrics::kContentType);
  });
  server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    res.set_content("this server answers GET /metrics only\n", "text/plain; charset=utf-8");
  });
  out->port_ =
      port == 0 ? server.bind_to_any_port(host) : (server.bind_to_port(host, port) ? port : -1);
  if (out->port_ <= 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on --metrics_listen=", listen));
  }
  out->thread_ = std::thread([&server] { server.listen_after_bind(); });
  return out;
}

}  // namespace fivetran_gateway
