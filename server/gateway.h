// Gateway: one running fivetran_gateway, wired from a GatewayConfig.
//
// Owns, in construction order: the libcurl transport, the timer queue, the
// services of the gateway's own Fivetran credentials (client -> REST API ->
// sync pollers -> services), the ServiceGuard that admits each call (token,
// scope, per-call credentials), and the gRPC server with reflection and
// health. Destroyed in reverse: the server stops before anything it calls,
// then the timers and the transport stop (ending upstream calls that still
// run on their own) before the services those calls report to.
// Usable in-process (tests) as well as from main.cc.
#ifndef FIVETRAN_GATEWAY_SERVER_GATEWAY_H_
#define FIVETRAN_GATEWAY_SERVER_GATEWAY_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/auth_services.h"
#include "server/common/timer_queue.h"
#include "server/config.h"
#include "server/fivetran/http_transport.h"
#include "server/health_service.h"
#include "server/metrics_server.h"
#include "server/state/redis_store.h"
#include "server/tls.h"

namespace fivetran_gateway {

// The grpc.health.v1 service name that reports the fleet's state store:
// SERVING while it answers, NOT_SERVING during an outage (the gateway itself,
// service "", keeps serving: reads, syncs and watches go on).
inline constexpr char kStateStoreHealthService[] = "fivetran-gateway.state-store";

class Gateway {
 public:
  explicit Gateway(GatewayConfig config);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Builds everything and starts listening; UNAVAILABLE when the address
  // cannot be bound. Logs what is on (never a secret).
  absl::Status Start();
  // The bound gRPC port (after Start).
  int port() const { return port_; }
  // The bound port of GET /metrics (after Start); 0 without --metrics_listen.
  int metrics_port() const { return metrics_server_ ? metrics_server_->port() : 0; }
  // Health turns NOT_SERVING, new calls are refused, in-flight calls get
  // until `grace` to finish. Safe from any thread; Wait() then returns.
  void Shutdown(absl::Duration grace);
  // Blocks until the server has shut down.
  void Wait();

 private:
  // Asks the state store every second whether it is up (reconnecting if
  // needed) and reports it under kStateStoreHealthService.
  void ProbeStore();
  std::unique_ptr<ServiceSet> MakeSet(const std::string& api_key, const std::string& api_secret,
                                      const ApiDecorator& decorate = nullptr);

  const GatewayConfig config_;
  std::unique_ptr<fivetran::CurlTransport> transport_;
  // Waits between attempts, sync polls, watch deadlines. Stopped (dropping
  // pending waits) before the transport, both before the services.
  std::unique_ptr<TimerQueue> timers_;
  // The fleet's shared state (--state_store); null = this process only.
  // Stopped after the timers, before the transport.
  std::unique_ptr<state::RedisStateStore> store_;
  std::unique_ptr<ServiceSet> default_set_;
  std::unique_ptr<ServiceGuard> guard_;
  std::unique_ptr<HealthService> health_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::unique_ptr<MetricsServer> metrics_server_;  // Null without --metrics_listen.
  // Listener TLS only: looks at the certificate files every
  // --tls_reload_interval, for the TLS metrics (timer thread).
  void WatchTlsFiles();
  std::unique_ptr<TlsFileWatch> tls_watch_;
  std::atomic<bool> stopping_{false};
};

}  // namespace fivetran_gateway

#endif  // FIVETRAN_GATEWAY_SERVER_GATEWAY_H_
