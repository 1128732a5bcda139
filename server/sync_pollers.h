// SyncPollers keeps one poller per watched connection: it reads the
// connection (FivetranApi::GetConnection) on a timer while at least one
// watcher is subscribed, and hands each result to every subscriber, so N
// watchers of one connection cost one upstream read per interval. A poller
// whose last watcher leaves stops at once.
//
// Every read made here is fresh (fivetran::kFreshRead), never served from
// the read cache: polls exist to see the current state, and the read before
// a trigger gives the baseline and the refusal checks.
//
// A watcher's start-up read (SubscribeCurrent) costs nothing more: each
// poller keeps its last successful observation and when it was made, and a
// new watcher starts from it while it is younger than the watcher's
// interval; otherwise it joins the poll in flight, or a poll started at once
// that is the poller's own (the schedule goes on from it). So W watchers of
// K connections starting within one interval cost K reads in it, not W.
#ifndef FIVETRAN_GATEWAY_SERVER_SYNC_POLLERS_H_
#define FIVETRAN_GATEWAY_SERVER_SYNC_POLLERS_H_

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "fivetran/gateway/v1/connection_service.pb.h"
#include "server/common/timer_queue.h"
#include "server/fivetran/fivetran_api.h"

namespace fivetran_gateway {

namespace v1 = ::fivetran::gateway::v1;

struct SyncWatchOptions {
  absl::Duration default_poll_interval = absl::Seconds(10);
  absl::Duration min_poll_interval = absl::Seconds(1);
  // Bound of one poll request.
  absl::Duration poll_timeout = absl::Seconds(30);
  // Longest pause after repeated transient failures.
  absl::Duration max_backoff = absl::Seconds(60);
  // Whether the credential set's remaining request budget is under the
  // reserve kept for interactive calls (RateBudget::BelowReserve). While it
  // is, polling yields: each poll waits `reserve_slowdown` times its
  // interval. Null: never.
  std::function<bool()> budget_low;
  int reserve_slowdown = 4;
  // With a fleet (--state_store; shared_polls.h): one poll of a connection
  // polled every `interval`, which calls `read` (the upstream read) or uses
  // another replica's observation. Null: every poll reads.
  using Read = std::function<std::shared_ptr<Cancellable>(fivetran::ApiCallback<v1::Connection>)>;
  std::function<std::shared_ptr<Cancellable>(const std::string& connection_id,
                                             absl::Duration interval, Read read,
                                             fivetran::ApiCallback<v1::Connection> done)>
      fleet_poll;
};

// Whether a failed poll is worth retrying (the watch goes on).
bool IsTransient(const absl::Status& status);

class SyncPollers : public std::enable_shared_from_this<SyncPollers> {
 public:
  using Callback =
      std::function<void(const absl::StatusOr<v1::Connection>& result, absl::Time observed_at)>;
  // Removes the subscription when destroyed (or Cancel()).
  class Subscription {
   public:
    virtual ~Subscription() = default;
    virtual void Cancel() = 0;
  };

  // Time comes from `timers` (a manual clock in unit tests).
  SyncPollers(fivetran::FivetranApi* api, Timers* timers, SyncWatchOptions options);
  ~SyncPollers();

  // `interval` is raised to min_poll_interval. With `soon`, the subscriber
  // gets a result as soon as possible: the poll in flight, or a new one
  // unless the last started less than min_poll_interval ago; otherwise the
  // first poll is one interval away. Must be owned by a shared_ptr.
  std::unique_ptr<Subscription> Subscribe(const std::string& connection_id, absl::Duration interval,
                                          bool soon, Callback callback);
  // Like Subscribe, for a subscriber whose first result must be the
  // connection's current state (a watch without baseline or trigger):
  // - unless `fresh`, the poller's last successful observation when it was
  //   made less than `interval` (raised to min_poll_interval) ago, with the
  //   time it was made: delivered at once, before this returns; no read;
  // - otherwise the poll in flight, or a poll started now. That poll is the
  //   poller's: it serves every subscriber and the next one is an interval
  //   after it. With `fresh` it reads Fivetran itself, never another
  //   replica's observation (fleet_poll).
  // An error result is delivered as any poll's (it is not kept: the next
  // subscriber reads again). Later results are the poller's polls. The kept
  // observation goes with the poller, when its last subscriber leaves. With
  // a fleet, a poll's result may be another replica's read, kept as made
  // when it arrived here.
  std::unique_ptr<Subscription> SubscribeCurrent(const std::string& connection_id,
                                                 absl::Duration interval, bool fresh,
                                                 Callback callback);
  // Connections currently polled (for tests and logs).
  size_t active_pollers() const;
  // Subscriptions to all pollers (for tests).
  size_t subscribers() const;
  const SyncWatchOptions& options() const { return options_; }
  absl::Duration EffectiveInterval(const google::protobuf::Duration* requested) const;

 private:
  struct Poller;
  class SubscriptionImpl;
  void Unsubscribe(const std::shared_ptr<Poller>& poller, uint64_t id);
  void ScheduleNext(const std::shared_ptr<Poller>& poller, absl::Duration delay)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A new subscriber with `interval` wants a poll one interval after the
  // last one (or after joining when there was none), or `soon`: keeps an
  // earlier scheduled poll, moves a later one forward.
  void Reschedule(const std::shared_ptr<Poller>& poller, absl::Duration interval, bool soon)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The timer's poll.
  void Poll(const std::shared_ptr<Poller>& poller);
  // Marks a poll started now; returns its number. Then Read (outside mu_).
  uint64_t BeginPoll(const std::shared_ptr<Poller>& poller) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sends the read of poll `seq`; `direct`: never through fleet_poll.
  void Read(const std::shared_ptr<Poller>& poller, uint64_t seq, absl::Duration interval,
            bool direct);
  void OnResult(const std::shared_ptr<Poller>& poller, absl::StatusOr<v1::Connection> result);

  fivetran::FivetranApi* const api_;
  Timers* const timers_;
  const SyncWatchOptions options_;
  mutable absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<Poller>> pollers_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace fivetran_gateway

#endif  // FIVETRAN_GATEWAY_SERVER_SYNC_POLLERS_H_
