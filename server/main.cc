// fivetran_gateway: the Fivetran REST API behind one gRPC interface.
//
//   FIVETRAN_API_KEY=... FIVETRAN_API_SECRET=... fivetran_gateway
//       --listen=127.0.0.1:50051 --fivetran_base_url=https://api.fivetran.com
//
// Serves fivetran.gateway.v1.{Connection,Group,User}Service, server
// reflection and grpc.health.v1.Health. SIGINT/SIGTERM: stop accepting,
// drain in-flight calls for --grace_period, exit 0.
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/config.h"
#include "server/flags.h"
#include "server/gateway.h"
#include "spdlog/spdlog.h"

namespace fivetran_gateway {
namespace {

void WritePortFile(const std::string& path, int port) {
  if (path.empty()) return;
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << port << "\n";
  }
  std::rename(tmp.c_str(), path.c_str());
}

int Run(const GatewayFlags& flags) {
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  absl::StatusOr<GatewayConfig> config = BuildConfig(flags);
  if (!config.ok()) {
    std::fprintf(stderr, "fivetran_gateway: %s\n", std::string(config.status().message()).c_str());
    return 2;
  }
  spdlog::set_level(spdlog::level::from_str(config->log_level));

  // Block the shutdown signals in every thread; one thread waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const absl::Duration grace = config->grace_period;
  const std::string port_file = config->port_file;
  const std::string metrics_port_file = config->metrics_port_file;
  Gateway gateway(*std::move(config));
  if (absl::Status s = gateway.Start(); !s.ok()) {
    std::fprintf(stderr, "fivetran_gateway: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  WritePortFile(port_file, gateway.port());
  WritePortFile(metrics_port_file, gateway.metrics_port());
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    spdlog::info("received {}, draining for up to {}", sig == SIGINT ? "SIGINT" : "SIGTERM",
                 absl::FormatDuration(grace));
    gateway.Shutdown(grace);
  });
  gateway.Wait();
  waiter.join();
  spdlog::info("stopped");
  return 0;
}

}  // namespace
}  // namespace fivetran_gateway

int main(int argc, char** argv) {
#ifdef NDEBUG
  // Debian's Abseil is built without NDEBUG, so absl::Mutex (the gateway's
  // and gRPC's) checks every Lock for deadlock cycles by default: a global
  // graph of lock order, updated on each acquisition. Optimized builds skip
  // that; tests and fastbuild binaries keep it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
  return fivetran_gateway::Run(fivetran_gateway::ParseGatewayFlags(argc, argv));
}
