#include "server/health_service.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace fivetran_gateway {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

std::string PeerAddress(const std::string& peer) {
  if (absl::StartsWith(peer, "unix")) return "unix";
  absl::string_view address = peer;
  if (absl::StartsWith(address, "ipv4:") || absl::StartsWith(address, "ipv6:")) {
    address.remove_prefix(5);
  }
  if (absl::StartsWith(address, "[")) {  // "[::1]:5123"
    const size_t close = address.find(']');
    if (close != absl::string_view::npos) return std::string(address.substr(0, close + 1));
  }
  const size_t colon = address.find(':');
  if (colon != absl::string_view::npos && address.rfind(':') == colon) {  // "10.0.0.7:5123"
    return std::string(address.substr(0, colon));
  }
  return std::string(address);
}

// One Watch stream: writes the latest status whenever it changes (never two
// writes at once), and ends when asked to or when the caller leaves.
class HealthService::WatchReactor final : public grpc::ServerWriteReactor<HealthCheckResponse> {
 public:
  // Registered watch (`service` forgets it when done) or, with a non-OK
  // `refusal`, a stream that ends at once.
  WatchReactor(HealthService* service, std::string peer, const grpc::Status& refusal)
      : service_(service), peer_(std::move(peer)) {
    if (!refusal.ok()) {
      finished_ = true;
      Finish(refusal);
    }
  }

  // Sends `status` unless it is the last one sent; with `last`, the stream
  // then ends (UNAVAILABLE: the gateway is shutting down).
  void Update(ServingStatus status, bool last) {
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return;
      pending_ = status;
      have_pending_ = true;
      end_after_ = end_after_ || last;
    }
    Pump();
  }

  void OnWriteDone(bool ok) override {
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (!ok) end_after_ = cancelled_ = true;
    }
    Pump();
  }

  void OnCancel() override {
    {
      absl::MutexLock lock(&mu_);
      end_after_ = cancelled_ = true;
    }
    Pump();
  }

  void OnDone() override {
    service_->Forget(this, peer_);
    delete this;
  }

 private:
  // Starts the next write or the finish, outside the lock.
  void Pump() {
    enum { kNothing, kWrite, kFinish } action = kNothing;
    grpc::Status end;
    {
      absl::MutexLock lock(&mu_);
      if (finished_ || writing_) return;
      if (have_pending_ && !cancelled_ && (!sent_any_ || pending_ != last_sent_)) {
        response_.set_status(pending_);
        last_sent_ = pending_;
        sent_any_ = writing_ = true;
        have_pending_ = false;
        action = kWrite;
      } else if (end_after_) {
        finished_ = true;
        end = cancelled_
                  ? grpc::Status::CANCELLED
                  : grpc::Status(grpc::StatusCode::UNAVAILABLE, "the gateway is shutting down");
        action = kFinish;
      }
    }
    if (action == kWrite) StartWrite(&response_);
    if (action == kFinish) Finish(end);
  }

  HealthService* const service_;
  const std::string peer_;
  absl::Mutex mu_;
  HealthCheckResponse response_;  // The write in flight.
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool have_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool end_after_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool sent_any_ ABSL_GUARDED_BY(mu_) = false;
  ServingStatus pending_ ABSL_GUARDED_BY(mu_) = HealthCheckResponse::UNKNOWN;
  ServingStatus last_sent_ ABSL_GUARDED_BY(mu_) = HealthCheckResponse::UNKNOWN;
};

HealthService::HealthService(HealthLimits limits, std::vector<std::string> services)
    : limits_(limits) {
  serving_[""] = true;
  for (const std::string& service : services) serving_[service] = true;
}

HealthService::~HealthService() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](int* live) { return *live == 0; }, &live_reactors_));
}

HealthService::ServingStatus HealthService::StatusOf(const std::string& service) const {
  auto it = serving_.find(service);
  if (it == serving_.end()) return HealthCheckResponse::SERVICE_UNKNOWN;
  return it->second ? HealthCheckResponse::SERVING : HealthCheckResponse::NOT_SERVING;
}

void HealthService::SetServing(bool serving) {
  absl::MutexLock lock(&mu_);
  if (shut_down_) return;
  for (auto& [service, status] : serving_) status = serving;
  // Reactors finish and call OnDone on gRPC's executor, never inside
  // StartWrite or Finish, so updating them under mu_ cannot deadlock.
  for (const auto& [watch, service] : watches_) watch->Update(StatusOf(service), false);
}

void HealthService::SetServing(const std::string& service, bool serving) {
  absl::MutexLock lock(&mu_);
  if (shut_down_) return;
  serving_[service] = serving;
  for (const auto& [watch, watched] : watches_) {
    if (watched == service) watch->Update(StatusOf(service), false);
  }
}

void HealthService::Shutdown() {
  absl::MutexLock lock(&mu_);
  shut_down_ = true;
  for (auto& [service, status] : serving_) status = false;
  for (const auto& [watch, service] : watches_) {
    watch->Update(HealthCheckResponse::NOT_SERVING, true);
  }
}

int HealthService::open_watches() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(watches_.size());
}

grpc::ServerUnaryReactor* HealthService::Check(grpc::CallbackServerContext* context,
                                               const HealthCheckRequest* request,
                                               HealthCheckResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  ServingStatus status;
  {
    absl::MutexLock lock(&mu_);
    status = StatusOf(request->service());
  }
  if (status == HealthCheckResponse::SERVICE_UNKNOWN) {
    reactor->Finish(grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown service"));
  } else {
    response->set_status(status);
    reactor->Finish(grpc::Status::OK);
  }
  return reactor;
}

grpc::ServerWriteReactor<HealthCheckResponse>* HealthService::Watch(
    grpc::CallbackServerContext* context, const HealthCheckRequest* request) {
  const std::string peer = PeerAddress(context->peer());
  absl::MutexLock lock(&mu_);
  ++live_reactors_;  // Every path below makes one reactor; its OnDone forgets it.
  if (shut_down_) {
    return new WatchReactor(
        this, "", grpc::Status(grpc::StatusCode::UNAVAILABLE, "the gateway is shutting down"));
  }
  if (static_cast<int>(watches_.size()) >= limits_.max_watches) {
    return new WatchReactor(
        this, "",
        grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                     absl::StrCat("too many open health Watch streams (", limits_.max_watches,
                                  ", --max_health_watches); use Check or retry later")));
  }
  int& from_peer = watches_per_peer_[peer];
  if (from_peer >= limits_.max_watches_per_peer) {
    return new WatchReactor(
        this, "",
        grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                     absl::StrCat("too many open health Watch streams from this address (",
                                  limits_.max_watches_per_peer,
                                  ", --max_health_watches_per_peer); use Check or retry later")));
  }
  ++from_peer;
  auto* watch = new WatchReactor(this, peer, grpc::Status::OK);
  watches_.emplace(watch, request->service());
  watch->Update(StatusOf(request->service()), false);
  return watch;
}

void HealthService::Forget(WatchReactor* watch, const std::string& peer) {
  absl::MutexLock lock(&mu_);
  --live_reactors_;
  if (watches_.erase(watch) == 0) return;  // A refused stream was never counted.
  auto it = watches_per_peer_.find(peer);
  if (it != watches_per_peer_.end() && --it->second <= 0) watches_per_peer_.erase(it);
}

}  // namespace fivetran_gateway
