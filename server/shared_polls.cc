#include "server/shared_polls.h"

#include <algorithm>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "server/common/status.h"

namespace fivetran_gateway {

using fivetran::UpstreamInfo;
using ::fivetran::gateway::v1::Connection;

class SharedPolls::Attempt final : public Cancellable,
                                   public std::enable_shared_from_this<Attempt> {
 public:
  Attempt(std::shared_ptr<SharedPolls> owner, const std::string& connection_id,
          absl::Duration interval, Read read, fivetran::ApiCallback<Connection> done)
      : owner_(std::move(owner)),
        lease_key_(absl::StrCat("polls:", owner_->scope_, ":", connection_id, ":lease")),
        seen_key_(absl::StrCat("polls:", owner_->scope_, ":", connection_id, ":seen")),
        interval_(interval),
        read_(std::move(read)),
        done_(std::move(done)) {}

  void Start() {
    Timers* timers = owner_->timers_;
    const absl::Time now = timers->Now();
    wait_until_ = now + std::min(owner_->options_.max_wait, interval_ / 2);
    owner_->store_->SetIfAbsent(
        lease_key_, absl::StrCat(absl::ToUnixMillis(now)),
        std::max(interval_ * 0.9, absl::Milliseconds(1)),
        [self = shared_from_this()](absl::StatusOr<state::MaybeValue> held) {
          if (!held.ok()) return self->ReadUpstream(false);         // Store away: read.
          if (!held->has_value()) return self->ReadUpstream(true);  // The lease is ours.
          int64_t lease_ms = 0;
          if (!absl::SimpleAtoi(**held, &lease_ms)) return self->ReadUpstream(false);
          self->lease_start_ = absl::FromUnixMillis(lease_ms);
          self->CheckSeen();
        });
  }

  void Cancel() override {
    std::shared_ptr<Cancellable> call;
    uint64_t timer = 0;
    {
      absl::MutexLock lock(&mu_);
      if (cancelled_) return;
      cancelled_ = true;
      call = call_;
      timer = timer_;
      timer_ = 0;
    }
    if (timer != 0) owner_->timers_->Cancel(timer);
    if (call != nullptr) return call->Cancel();  // Its callback finishes.
    Finish(absl::CancelledError("the poll was cancelled"), UpstreamInfo{});
  }

 private:
  // Another replica holds the lease: wait for what it saw.
  void CheckSeen() {
    {
      absl::MutexLock lock(&mu_);
      if (cancelled_) return;
    }
    owner_->store_->Get(seen_key_, [self = shared_from_this()](
                                       absl::StatusOr<state::MaybeValue> seen) {
      if (seen.ok() && seen->has_value()) {
        absl::string_view text = **seen;
        size_t nl = text.find('\n');
        int64_t observed_ms = 0;
        Connection connection;
        if (nl != absl::string_view::npos && absl::SimpleAtoi(text.substr(0, nl), &observed_ms) &&
            absl::FromUnixMillis(observed_ms) >= self->lease_start_ &&
            connection.ParseFromArray(text.data() + nl + 1,
                                      static_cast<int>(text.size() - nl - 1))) {
          return self->Finish(std::move(connection), UpstreamInfo{});
        }
      }
      Timers* timers = self->owner_->timers_;
      if (!seen.ok() || timers->Now() >= self->wait_until_) return self->ReadUpstream(false);
      {
        absl::MutexLock lock(&self->mu_);
        if (self->cancelled_) return;
        self->timer_ = timers->Schedule(timers->Now() + self->owner_->options_.check_every,
                                        [self] { self->CheckSeen(); });
        if (self->timer_ != 0) return;
      }
      // The timers have stopped: the gateway is exiting.
      self->Finish(absl::UnavailableError("the gateway is stopping"), UpstreamInfo{});
    });
  }

  void ReadUpstream(bool publish) {
    {
      absl::MutexLock lock(&mu_);
      if (cancelled_) return;
    }
    std::shared_ptr<Cancellable> call =
        read_([self = shared_from_this(), publish](absl::StatusOr<Connection> result,
                                                   const UpstreamInfo& info) {
          if (publish && result.ok()) {
            const absl::Time now = self->owner_->timers_->Now();
            self->owner_->store_->Set(
                self->seen_key_,
                absl::StrCat(absl::ToUnixMillis(now), "\n", result->SerializeAsString()),
                self->interval_ * 2 + absl::Seconds(1), [](absl::Status) {});
          }
          self->Finish(std::move(result), info);
        });
    bool cancel_now = false;
    {
      absl::MutexLock lock(&mu_);
      if (!finished_) call_ = call;
      cancel_now = cancelled_;
    }
    if (cancel_now && call != nullptr) call->Cancel();
  }

  void Finish(absl::StatusOr<Connection> result, const UpstreamInfo& info) {
    fivetran::ApiCallback<Connection> done;
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return;
      finished_ = true;
      call_ = nullptr;
      done = std::move(done_);
    }
    done(std::move(result), info);
  }

  const std::shared_ptr<SharedPolls> owner_;
  const std::string lease_key_;
  const std::string seen_key_;
  const absl::Duration interval_;
  const Read read_;
  absl::Time wait_until_;
  absl::Time lease_start_;
  absl::Mutex mu_;
  fivetran::ApiCallback<Connection> done_ ABSL_GUARDED_BY(mu_);
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t timer_ ABSL_GUARDED_BY(mu_) = 0;
  std::shared_ptr<Cancellable> call_ ABSL_GUARDED_BY(mu_);
};

SharedPolls::SharedPolls(state::StateStore* store, std::string scope, Timers* timers,
                         SharedPollOptions options)
    : store_(store), scope_(std::move(scope)), timers_(timers), options_(options) {}

std::shared_ptr<Cancellable> SharedPolls::Poll(const std::string& connection_id,
                                               absl::Duration interval, Read read,
                                               fivetran::ApiCallback<Connection> done) {
  auto attempt = std::make_shared<Attempt>(shared_from_this(), connection_id, interval,
                                           std::move(read), std::move(done));
  attempt->Start();
  return attempt;
}

}  // namespace fivetran_gateway
