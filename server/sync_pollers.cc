#include "server/sync_pollers.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "server/common/gateway_metrics.h"
#include "server/common/safe_text.h"
#include "server/common/status.h"
#include "spdlog/spdlog.h"

namespace fivetran_gateway {
namespace {

using fivetran::UpstreamInfo;

// A longer polling interval is lowered to this, as a shorter one than the
// minimum is raised.
constexpr absl::Duration kMaxPollInterval = absl::Hours(1);

}  // namespace

bool IsTransient(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kDeadlineExceeded:
      return true;
    case absl::StatusCode::kInternal:
      return ErrorReasonOf(status) == "FIVETRAN_SERVER_ERROR";
    default:
      return false;
  }
}

struct SyncPollers::Poller {
  explicit Poller(std::string id) : connection_id(std::move(id)) {}
  const std::string connection_id;
  // All below guarded by SyncPollers::mu_.
  std::map<uint64_t, std::pair<absl::Duration, Callback>> subscribers;
  uint64_t timer_id = 0;                             // 0: no poll scheduled.
  absl::Time next_poll_at = absl::InfiniteFuture();  // When timer_id runs.
  bool polling = false;
  uint64_t poll_seq = 0;  // Number of the latest poll started.
  absl::Time last_poll_start = absl::InfinitePast();
  // The last poll's result when it succeeded, and when it came.
  std::optional<v1::Connection> seen;
  absl::Time seen_at = absl::InfinitePast();
  int failures = 0;
  std::shared_ptr<Cancellable> call;
  const LiveCount live{GatewayMetrics::Get().sync_pollers->With({})};  // Metrics.

  absl::Duration Interval() const {
    absl::Duration d = absl::InfiniteDuration();
    for (const auto& [id, sub] : subscribers) d = std::min(d, sub.first);
    return d;
  }
};

class SyncPollers::SubscriptionImpl final : public SyncPollers::Subscription {
 public:
  SubscriptionImpl(std::weak_ptr<SyncPollers> owner, std::shared_ptr<Poller> poller, uint64_t id)
      : owner_(std::move(owner)), poller_(std::move(poller)), id_(id) {}
  ~SubscriptionImpl() override { Cancel(); }
  void Cancel() override {
    if (poller_ == nullptr) return;
    if (auto owner = owner_.lock()) owner->Unsubscribe(poller_, id_);
    poller_ = nullptr;
  }

 private:
  std::weak_ptr<SyncPollers> owner_;
  std::shared_ptr<Poller> poller_;
  uint64_t id_;
};

SyncPollers::SyncPollers(fivetran::FivetranApi* api, Timers* timers, SyncWatchOptions options)
    : api_(api), timers_(timers), options_(options) {}

SyncPollers::~SyncPollers() {
  absl::MutexLock lock(&mu_);
  for (auto& [id, poller] : pollers_) {
    if (poller->timer_id != 0) timers_->Cancel(poller->timer_id);
  }
}

absl::Duration SyncPollers::EffectiveInterval(const google::protobuf::Duration* requested) const {
  absl::Duration d = options_.default_poll_interval;
  // Valid (CheckInterval) and not zero: the caller's.
  if (requested != nullptr && (requested->seconds() > 0 || requested->nanos() > 0)) {
    d = absl::Seconds(requested->seconds()) + absl::Nanoseconds(requested->nanos());
  }
  return std::clamp(d, options_.min_poll_interval,
                    std::max(kMaxPollInterval, options_.min_poll_interval));
}

size_t SyncPollers::active_pollers() const {
  absl::MutexLock lock(&mu_);
  return pollers_.size();
}

size_t SyncPollers::subscribers() const {
  absl::MutexLock lock(&mu_);
  size_t n = 0;
  for (const auto& [id, poller] : pollers_) n += poller->subscribers.size();
  return n;
}

std::unique_ptr<SyncPollers::Subscription> SyncPollers::Subscribe(const std::string& connection_id,
                                                                  absl::Duration interval,
                                                                  bool soon, Callback callback) {
  interval = std::max(interval, options_.min_poll_interval);
  absl::MutexLock lock(&mu_);
  std::shared_ptr<Poller>& slot = pollers_[connection_id];
  if (slot == nullptr) slot = std::make_shared<Poller>(connection_id);
  std::shared_ptr<Poller> poller = slot;
  uint64_t id = next_id_++;
  poller->subscribers.emplace(id, std::make_pair(interval, std::move(callback)));
  if (!poller->polling) Reschedule(poller, interval, soon);
  return std::make_unique<SubscriptionImpl>(weak_from_this(), poller, id);
}

std::unique_ptr<SyncPollers::Subscription> SyncPollers::SubscribeCurrent(
    const std::string& connection_id, absl::Duration interval, bool fresh, Callback callback) {
  interval = std::max(interval, options_.min_poll_interval);
  std::shared_ptr<Poller> poller;
  uint64_t id = 0;
  std::optional<v1::Connection> seen;  // Served from the poller.
  absl::Time seen_at;
  uint64_t started = 0;  // A poll started for this subscriber.
  absl::Duration poll_interval;
  {
    absl::MutexLock lock(&mu_);
    std::shared_ptr<Poller>& slot = pollers_[connection_id];
    if (slot == nullptr) slot = std::make_shared<Poller>(connection_id);
    poller = slot;
    id = next_id_++;
    poller->subscribers.emplace(id, std::make_pair(interval, callback));
    const absl::Time now = timers_->Now();
    if (!fresh && poller->seen.has_value() && now - poller->seen_at < interval) {
      seen = poller->seen;
      seen_at = poller->seen_at;
      if (!poller->polling) Reschedule(poller, interval, /*soon=*/false);
    } else if (poller->polling) {
      // The poll in flight answers this subscriber too.
    } else if (poller->timer_id != 0 && !timers_->Cancel(poller->timer_id)) {
      // The timer is running: its poll (about to start) answers.
    } else {
      poller->timer_id = 0;
      started = BeginPoll(poller);
      poll_interval = poller->Interval();
    }
  }
  if (seen.has_value()) {
    callback(*std::move(seen), seen_at);
  } else if (started != 0) {
    Read(poller, started, poll_interval, /*direct=*/fresh);
  }
  return std::make_unique<SubscriptionImpl>(weak_from_this(), poller, id);
}

void SyncPollers::Reschedule(const std::shared_ptr<Poller>& poller, absl::Duration interval,
                             bool soon) {
  absl::Duration delay = interval;
  if (soon) {
    absl::Duration since = timers_->Now() - poller->last_poll_start;
    delay = since >= options_.min_poll_interval ? absl::ZeroDuration()
                                                : options_.min_poll_interval - since;
  }
  // This subscriber wants a poll one interval after the last one (or after
  // joining, when there was none yet), or soon. Keep an earlier scheduled
  // poll; move a later one forward.
  const absl::Time now = timers_->Now();
  absl::Time want = now + delay;
  if (!soon && poller->last_poll_start != absl::InfinitePast()) {
    want = std::min(want, std::max(now, poller->last_poll_start + interval));
  }
  if (poller->timer_id == 0) {
    ScheduleNext(poller, want - now);
  } else if (want < poller->next_poll_at && timers_->Cancel(poller->timer_id)) {
    poller->timer_id = 0;
    ScheduleNext(poller, want - now);
  }
}

void SyncPollers::ScheduleNext(const std::shared_ptr<Poller>& poller, absl::Duration delay) {
  std::weak_ptr<SyncPollers> weak = weak_from_this();
  poller->next_poll_at = timers_->Now() + delay;
  poller->timer_id = timers_->Schedule(poller->next_poll_at, [weak, poller] {
    if (auto self = weak.lock()) self->Poll(poller);
  });
}

void SyncPollers::Unsubscribe(const std::shared_ptr<Poller>& poller, uint64_t id) {
  std::shared_ptr<Cancellable> call;
  {
    absl::MutexLock lock(&mu_);
    poller->subscribers.erase(id);
    if (!poller->subscribers.empty()) return;
    // The last watcher left: stop polling now.
    if (poller->timer_id != 0) {
      timers_->Cancel(poller->timer_id);
      poller->timer_id = 0;
    }
    auto it = pollers_.find(poller->connection_id);
    if (it != pollers_.end() && it->second == poller) pollers_.erase(it);
    call = std::move(poller->call);
  }
  if (call) call->Cancel();
}

void SyncPollers::Poll(const std::shared_ptr<Poller>& poller) {
  absl::Duration interval;
  uint64_t seq = 0;
  {
    absl::MutexLock lock(&mu_);
    poller->timer_id = 0;
    if (poller->subscribers.empty() || poller->polling) return;
    seq = BeginPoll(poller);
    interval = poller->Interval();
  }
  Read(poller, seq, interval, /*direct=*/false);
}

uint64_t SyncPollers::BeginPoll(const std::shared_ptr<Poller>& poller) {
  poller->polling = true;
  poller->last_poll_start = timers_->Now();
  return ++poller->poll_seq;
}

void SyncPollers::Read(const std::shared_ptr<Poller>& poller, uint64_t seq, absl::Duration interval,
                       bool direct) {
  std::weak_ptr<SyncPollers> weak = weak_from_this();
  fivetran::ApiCallback<v1::Connection> done =
      [weak, poller](absl::StatusOr<v1::Connection> connection, const UpstreamInfo&) {
        if (auto self = weak.lock()) self->OnResult(poller, std::move(connection));
      };
  SyncWatchOptions::Read read = [api = api_, id = poller->connection_id,
                                 deadline = timers_->Now() + options_.poll_timeout](
                                    fivetran::ApiCallback<v1::Connection> cb) {
    return api->GetConnection(id, fivetran::kFreshRead, deadline, std::move(cb));
  };
  std::shared_ptr<Cancellable> call =
      options_.fleet_poll && !direct
          ? options_.fleet_poll(poller->connection_id, interval, std::move(read), std::move(done))
          : read(std::move(done));
  bool cancel = false;
  {
    absl::MutexLock lock(&mu_);
    if (poller->polling && poller->poll_seq == seq) {
      poller->call = call;
      // The last subscriber left before the call was known: stop it.
      cancel = poller->subscribers.empty();
    }
  }
  if (cancel && call != nullptr) call->Cancel();
}

void SyncPollers::OnResult(const std::shared_ptr<Poller>& poller,
                           absl::StatusOr<v1::Connection> result) {
  absl::Time observed_at = timers_->Now();
  std::vector<Callback> callbacks;
  {
    absl::MutexLock lock(&mu_);
    poller->polling = false;
    poller->call = nullptr;
    if (result.ok()) {
      poller->seen = *result;
      poller->seen_at = observed_at;
    } else {
      poller->seen.reset();  // The latest news is an error: start-up reads read again.
    }
    if (poller->subscribers.empty()) return;
    absl::Duration delay = poller->Interval();
    if (!result.ok() && IsTransient(result.status())) {
      // Back off: interval, 2x, 4x ... up to max_backoff, and never sooner
      // than Fivetran's Retry-After.
      ++poller->failures;
      int shift = std::min(poller->failures - 1, 6);
      delay = std::min(delay * (1 << shift), std::max(delay, options_.max_backoff));
      if (auto retry = RetryDelayOf(result.status())) delay = std::max(delay, *retry);
      spdlog::debug(
          "sync poll of \"{}\" failed (\"{}\"), retrying in {}", SafeText(poller->connection_id),
          SafeText(result.status().message(), kMaxLoggedMessage), absl::FormatDuration(delay));
    } else {
      // Fixed rate: the interval counts from the start of this poll. Under
      // the budget reserve, background polling yields to interactive calls.
      poller->failures = 0;
      if (options_.budget_low && options_.budget_low()) delay *= options_.reserve_slowdown;
      delay = std::max(absl::ZeroDuration(), poller->last_poll_start + delay - timers_->Now());
    }
    ScheduleNext(poller, delay);
    for (const auto& [id, sub] : poller->subscribers) callbacks.push_back(sub.second);
  }
  for (const Callback& cb : callbacks) cb(result, observed_at);
}

}  // namespace fivetran_gateway
