// grpc.health.v1.Health (the standard health protocol, as gRPC's built-in
// service serves it) with bounds on open Watch streams.
//
// Health needs no token, so anyone who can connect can open Watch streams,
// and each stays open until its caller ends it. gRPC's built-in service has
// no bound; this one refuses a Watch beyond `max_watches` open streams in
// all, or beyond `max_watches_per_peer` from one client address (IP without
// port; every unix-socket peer counts as one address), with
// RESOURCE_EXHAUSTED. Check is never bounded.
//
// Known services: "" (the whole gateway), each name given to the
// constructor, and each name given to SetServing(service, ...). Check of
// another name is NOT_FOUND; Watch of another name answers SERVICE_UNKNOWN
// and stays open, as the protocol says. Shutdown() answers NOT_SERVING to every watcher and ends
// its stream with UNAVAILABLE, so open watches never hold a drain.
#ifndef FIVETRAN_GATEWAY_SERVER_HEALTH_SERVICE_H_
#define FIVETRAN_GATEWAY_SERVER_HEALTH_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace fivetran_gateway {

struct HealthLimits {
  int max_watches = 1000;          // Open Watch streams in all; at least 1.
  int max_watches_per_peer = 100;  // Open Watch streams from one address; at least 1.
};

class HealthService final : public grpc::health::v1::Health::CallbackService {
 public:
  HealthService(HealthLimits limits, std::vector<std::string> services);
  // Waits until every Watch stream it started has had its OnDone: destroy it
  // after the server has shut down (gRPC may still run the OnDone of a
  // cancelled stream on its executor when Server::Shutdown returns).
  ~HealthService() override;

  // SERVING (true) or NOT_SERVING (false) for every known service; watchers
  // get the new status.
  void SetServing(bool serving);
  // The status of one service (known from then on); its watchers get it.
  void SetServing(const std::string& service, bool serving);
  // NOT_SERVING for good; every open Watch gets it and then ends
  // (UNAVAILABLE). Later Watch calls are refused the same way.
  void Shutdown();
  // Open Watch streams (for tests and diagnostics).
  int open_watches() const;

  grpc::ServerUnaryReactor* Check(grpc::CallbackServerContext* context,
                                  const grpc::health::v1::HealthCheckRequest* request,
                                  grpc::health::v1::HealthCheckResponse* response) override;
  grpc::ServerWriteReactor<grpc::health::v1::HealthCheckResponse>* Watch(
      grpc::CallbackServerContext* context,
      const grpc::health::v1::HealthCheckRequest* request) override;

 private:
  class WatchReactor;
  using ServingStatus = grpc::health::v1::HealthCheckResponse::ServingStatus;

  // The status of `service` (SERVICE_UNKNOWN for an unknown name).
  ServingStatus StatusOf(const std::string& service) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Forget(WatchReactor* watch, const std::string& peer);

  const HealthLimits limits_;
  mutable absl::Mutex mu_;
  // Known services and whether each is serving ("" is the whole gateway).
  std::map<std::string, bool> serving_ ABSL_GUARDED_BY(mu_);
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  // Each open watch and the service it watches.
  std::map<WatchReactor*, std::string> watches_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int> watches_per_peer_ ABSL_GUARDED_BY(mu_);
  // Watch reactors made, refused ones too, whose OnDone has not yet run.
  int live_reactors_ ABSL_GUARDED_BY(mu_) = 0;
};

// The address part of a gRPC peer string: "ipv4:10.0.0.7:5123" -> "10.0.0.7",
// "ipv6:[::1]:5123" -> "[::1]", any "unix:..." -> "unix".
std::string PeerAddress(const std::string& peer);

}  // namespace fivetran_gateway

#endif  // FIVETRAN_GATEWAY_SERVER_HEALTH_SERVICE_H_
