#include "server/sync_watch.h"

#include <algorithm>
#include <deque>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/rpc/error_details.pb.h"
#include "server/common/safe_text.h"
#include "server/common/status.h"
#include "server/grpc_status.h"
#include "server/rpc_reactor.h"
#include "server/sync_rules.h"
#include "server/validation.h"
#include "spdlog/spdlog.h"

namespace fivetran_gateway {
namespace {

using fivetran::UpstreamInfo;

// google.protobuf.Timestamp's range, 0001-01-01T00:00:00Z to
// 9999-12-31T23:59:59.999999999Z, and Duration's, +-10,000 years.
constexpr int64_t kMinTimestampSeconds = -62135596800;
constexpr int64_t kMaxTimestampSeconds = 253402300799;
constexpr int64_t kMaxDurationSeconds = 315576000000;
// A longer polling interval is lowered to this, as a shorter one than the
// minimum is raised.
constexpr absl::Duration kMaxPollInterval = absl::Hours(1);

// Seconds and nanoseconds apart: int64 nanoseconds overflow after 2262.
google::protobuf::Timestamp ToProto(absl::Time t) {
  google::protobuf::Timestamp out;
  const int64_t seconds = absl::ToUnixSeconds(t);  // Rounds towards the past.
  out.set_seconds(seconds);
  out.set_nanos(static_cast<int32_t>((t - absl::FromUnixSeconds(seconds)) / absl::Nanoseconds(1)));
  return out;
}

absl::Status InvalidField(absl::string_view field, absl::string_view why) {
  return MakeFieldError(absl::StatusCode::kInvalidArgument, field, absl::StrCat(field, " ", why),
                        "INVALID_FIELD");
}

// A request Timestamp, checked against its documented range.
absl::StatusOr<absl::Time> TimeFromProto(absl::string_view field,
                                         const google::protobuf::Timestamp& t) {
  if (t.nanos() < 0 || t.nanos() > 999999999) {
    return InvalidField(field, "has nanos outside 0..999999999");
  }
  if (t.seconds() < kMinTimestampSeconds || t.seconds() > kMaxTimestampSeconds) {
    return InvalidField(field, "is outside 0001-01-01T00:00:00Z..9999-12-31T23:59:59.999999999Z");
  }
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

// A request Duration, checked against its documented form; negative is
// refused (a polling interval cannot be).
absl::Status CheckInterval(absl::string_view field, const google::protobuf::Duration& d) {
  if (d.nanos() < -999999999 || d.nanos() > 999999999) {
    return InvalidField(field, "has nanos outside -999999999..999999999");
  }
  if ((d.seconds() > 0 && d.nanos() < 0) || (d.seconds() < 0 && d.nanos() > 0)) {
    return InvalidField(field, "has seconds and nanos of different signs");
  }
  if (d.seconds() < -kMaxDurationSeconds || d.seconds() > kMaxDurationSeconds) {
    return InvalidField(field, "is outside the range of google.protobuf.Duration");
  }
  if (d.seconds() < 0 || d.nanos() < 0) return InvalidField(field, "is negative");
  return absl::OkStatus();
}

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

// ---------------------------------------------------------------------------
// SyncPollers

struct SyncPollers::Poller {
  explicit Poller(std::string id) : connection_id(std::move(id)) {}
  const std::string connection_id;
  // All below guarded by SyncPollers::mu_.
  std::map<uint64_t, std::pair<absl::Duration, Callback>> subscribers;
  uint64_t timer_id = 0;                             // 0: no poll scheduled.
  absl::Time next_poll_at = absl::InfiniteFuture();  // When timer_id runs.
  bool polling = false;
  absl::Time last_poll_start = absl::InfinitePast();
  int failures = 0;
  std::shared_ptr<Cancellable> call;

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
  if (!poller->polling) {
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
  return std::make_unique<SubscriptionImpl>(weak_from_this(), poller, id);
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
  {
    absl::MutexLock lock(&mu_);
    poller->timer_id = 0;
    if (poller->subscribers.empty() || poller->polling) return;
    poller->polling = true;
    poller->last_poll_start = timers_->Now();
  }
  std::weak_ptr<SyncPollers> weak = weak_from_this();
  std::shared_ptr<Cancellable> call = api_->GetConnection(
      poller->connection_id, fivetran::kFreshRead, timers_->Now() + options_.poll_timeout,
      [weak, poller](absl::StatusOr<v1::Connection> connection, const UpstreamInfo&) {
        if (auto self = weak.lock()) self->OnResult(poller, std::move(connection));
      });
  absl::MutexLock lock(&mu_);
  if (poller->polling) poller->call = std::move(call);
}

void SyncPollers::OnResult(const std::shared_ptr<Poller>& poller,
                           absl::StatusOr<v1::Connection> result) {
  absl::Time observed_at = timers_->Now();
  std::vector<Callback> callbacks;
  {
    absl::MutexLock lock(&mu_);
    poller->polling = false;
    poller->call = nullptr;
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

// ---------------------------------------------------------------------------
// TriggerSync

namespace {

bool IsSyncing(const v1::Connection& c) {
  return c.status().sync_state() == v1::SYNC_STATE_SYNCING;
}

// Fivetran answered the trigger with 409 (a sync in progress, or another
// conflict): one more read says which (field report N2). Never re-sent.
void RecheckConflict(fivetran::FivetranApi* api, const std::string& connection_id,
                     absl::Time deadline, absl::Status conflict, TriggerResult result,
                     std::function<void(std::shared_ptr<Cancellable>)> on_call,
                     TriggerCallback done) {
  on_call(api->GetConnection(
      connection_id, fivetran::kFreshRead, deadline,
      [conflict = std::move(conflict), result, done](absl::StatusOr<v1::Connection> connection,
                                                     const UpstreamInfo&) mutable {
        if (connection.ok() && IsSyncing(*connection)) {
          result.already_syncing = true;
          return done(std::move(result));
        }
        absl::Status status(absl::StatusCode::kFailedPrecondition, conflict.message());
        conflict.ForEachPayload([&status](absl::string_view url, const absl::Cord& payload) {
          status.SetPayload(url, payload);
        });
        done(std::move(status));
      }));
}

bool IsConflict(const absl::Status& status) {
  auto p = status.GetPayload(kErrorInfoUrl);
  if (!p.has_value()) return false;
  google::rpc::ErrorInfo info;
  if (!info.ParseFromString(std::string(*p))) return false;
  auto it = info.metadata().find("http_status");
  return it != info.metadata().end() && it->second == "409";
}

}  // namespace

void TriggerSync(fivetran::FivetranApi* api, Timers* timers, const std::string& connection_id,
                 bool force, absl::Time deadline,
                 std::function<void(std::shared_ptr<Cancellable>)> on_call, TriggerCallback done) {
  on_call(api->GetConnection(
      connection_id, fivetran::kFreshRead, deadline,
      [api, timers, connection_id, force, deadline, on_call, done](
          absl::StatusOr<v1::Connection> connection, const UpstreamInfo& read_info) {
        if (!connection.ok()) return done(connection.status());
        if (absl::Status s = CheckSyncable(*connection); !s.ok()) return done(s);
        TriggerResult result;
        result.baseline = LastSyncEnd(*connection);
        result.setup_state_at_trigger = connection->status().setup_state();
        result.already_syncing = !force && IsSyncing(*connection);
        result.triggered_at = timers->Now();
        result.upstream = read_info;
        on_call(api->TriggerSync(connection_id, force, deadline,
                                 [api, connection_id, deadline, on_call, result, done](
                                     absl::StatusOr<fivetran::SyncTriggered> triggered,
                                     const UpstreamInfo& info) mutable {
                                   result.upstream = info;
                                   if (!triggered.ok() && IsConflict(triggered.status())) {
                                     return RecheckConflict(api, connection_id, deadline,
                                                            triggered.status(), result, on_call,
                                                            done);
                                   }
                                   if (!triggered.ok()) return done(triggered.status());
                                   result.message = std::move(triggered->message);
                                   done(std::move(result));
                                 }));
      }));
}

// ---------------------------------------------------------------------------
// WatchConnectionSync

namespace {

using WatchResponse = v1::WatchConnectionSyncResponse;

class WatchReactor;

// Everything the reactor's asynchronous callbacks touch. They hold it by
// shared_ptr; `reactor` is used only until `finished` is set.
struct WatchCore : std::enable_shared_from_this<WatchCore> {
  WatchReactor* reactor = nullptr;
  fivetran::FivetranApi* api = nullptr;
  std::shared_ptr<SyncPollers> pollers;
  Timers* timers = nullptr;
  std::string connection_id;
  absl::Duration interval;
  absl::Time start;

  absl::Mutex mu;
  std::deque<WatchResponse> queue ABSL_GUARDED_BY(mu);
  bool writing ABSL_GUARDED_BY(mu) = false;
  bool ended ABSL_GUARDED_BY(mu) = false;
  bool finished ABSL_GUARDED_BY(mu) = false;
  absl::Status final_status ABSL_GUARDED_BY(mu);
  bool baseline_known ABSL_GUARDED_BY(mu) = false;
  std::optional<absl::Time> baseline ABSL_GUARDED_BY(mu);
  std::optional<absl::Time> triggered_at ABSL_GUARDED_BY(mu);
  bool already_syncing ABSL_GUARDED_BY(mu) = false;
  v1::SetupState setup_state_at_trigger ABSL_GUARDED_BY(mu) = v1::SETUP_STATE_UNSPECIFIED;
  bool have_last ABSL_GUARDED_BY(mu) = false;
  v1::SyncObservation last ABSL_GUARDED_BY(mu);
  std::unique_ptr<SyncPollers::Subscription> subscription ABSL_GUARDED_BY(mu);
  std::shared_ptr<Cancellable> call ABSL_GUARDED_BY(mu);
  uint64_t deadline_timer ABSL_GUARDED_BY(mu) = 0;

  void Emit(WatchResponse response);
  void End(absl::Status status);
  void WriteDone(bool ok);
  void SetCall(std::shared_ptr<Cancellable> c);
  void Subscribe(bool soon);
  void OnObservation(const absl::StatusOr<v1::Connection>& result, absl::Time observed_at);
  void OnDeadline();
  WatchResponse Message(const v1::SyncObservation& o) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);

 private:
  // Starts the next write or the Finish, outside the lock.
  void Pump();
};

class WatchReactor final : public grpc::ServerWriteReactor<WatchResponse> {
 public:
  explicit WatchReactor(std::shared_ptr<WatchCore> core) : core_(std::move(core)) {}
  void OnWriteDone(bool ok) override { core_->WriteDone(ok); }
  void OnCancel() override {
    core_->End(MakeError(absl::StatusCode::kCancelled, "cancelled by the caller", "CANCELLED"));
  }
  void OnDone() override {
    core_->End(absl::CancelledError("done"));  // Releases subscription and timers.
    delete this;
  }

 private:
  std::shared_ptr<WatchCore> core_;
};

WatchResponse WatchCore::Message(const v1::SyncObservation& o) {
  WatchResponse r;
  *r.mutable_observation() = o;
  if (baseline) *r.mutable_baseline() = ToProto(*baseline);
  if (triggered_at) *r.mutable_triggered_at() = ToProto(*triggered_at);
  r.set_already_syncing(already_syncing);
  r.set_setup_state_at_trigger(setup_state_at_trigger);
  return r;
}

void WatchCore::Emit(WatchResponse response) {
  {
    absl::MutexLock lock(&mu);
    if (ended) return;
    queue.push_back(std::move(response));
  }
  Pump();
}

void WatchCore::Pump() {
  const WatchResponse* next = nullptr;
  bool finish = false;
  absl::Status status;
  {
    absl::MutexLock lock(&mu);
    if (finished || writing) return;
    if (!queue.empty()) {
      writing = true;
      next = &queue.front();  // Stays put until WriteDone pops it.
    } else if (ended) {
      finished = true;
      finish = true;
      status = final_status;
    }
  }
  if (next != nullptr) {
    reactor->StartWrite(next);
  } else if (finish) {
    // connection_id is the caller's, possibly rejected: escaped and bounded.
    spdlog::info("rpc method=WatchConnectionSync code={} connection_id=\"{}\" latency_ms={:.1f}{}",
                 status.ok() ? "OK" : absl::StatusCodeToString(status.code()),
                 SafeText(connection_id), absl::ToDoubleMilliseconds(absl::Now() - start),
                 status.ok() ? ""
                             : absl::StrCat(" error=\"",
                                            SafeText(status.message(), kMaxLoggedMessage), "\""));
    reactor->Finish(ToGrpcStatus(status));
  }
}

void WatchCore::WriteDone(bool ok) {
  {
    absl::MutexLock lock(&mu);
    writing = false;
    if (!queue.empty()) queue.pop_front();
    if (!ok) {
      queue.clear();  // The stream is broken; OnCancel/OnDone follow.
    }
  }
  if (!ok) {
    End(MakeError(absl::StatusCode::kCancelled, "the caller went away", "CANCELLED"));
    return;
  }
  Pump();
}

void WatchCore::End(absl::Status status) {
  std::unique_ptr<SyncPollers::Subscription> sub;
  std::shared_ptr<Cancellable> c;
  uint64_t timer = 0;
  {
    absl::MutexLock lock(&mu);
    if (ended) return;
    ended = true;
    final_status = std::move(status);
    sub = std::move(subscription);
    c = std::move(call);
    timer = deadline_timer;
    deadline_timer = 0;
  }
  if (timer != 0) timers->Cancel(timer);
  sub.reset();  // Unsubscribes: the poller stops if nobody else watches.
  if (c) c->Cancel();
  Pump();
}

void WatchCore::SetCall(std::shared_ptr<Cancellable> c) {
  bool cancel = false;
  {
    absl::MutexLock lock(&mu);
    if (ended) {
      cancel = true;
    } else {
      call = c;
    }
  }
  if (cancel && c) c->Cancel();
}

void WatchCore::Subscribe(bool soon) {
  std::weak_ptr<WatchCore> weak = weak_from_this();
  auto sub = pollers->Subscribe(
      connection_id, interval, soon,
      [weak](const absl::StatusOr<v1::Connection>& result, absl::Time observed_at) {
        if (auto self = weak.lock()) self->OnObservation(result, observed_at);
      });
  absl::MutexLock lock(&mu);
  if (!ended) subscription = std::move(sub);
  // Otherwise `sub` unsubscribes when destroyed, after the lock is released
  // (it was declared before the lock).
}

void WatchCore::OnObservation(const absl::StatusOr<v1::Connection>& result,
                              absl::Time observed_at) {
  if (!result.ok()) {
    if (!IsTransient(result.status())) End(result.status());
    return;  // Transient: the poller retries with backoff.
  }
  v1::SyncObservation o = Observe(*result, observed_at);
  std::optional<WatchResponse> update, final_message;
  {
    absl::MutexLock lock(&mu);
    if (ended) return;
    bool changed = !have_last || !SameState(last, o);
    last = o;
    have_last = true;
    if (!baseline_known) {
      baseline = LastSyncEnd(o);
      baseline_known = true;
    }
    bool trigger_required = false;
    v1::SyncOutcome outcome = Decide(o, baseline, &trigger_required);
    if (outcome != v1::SYNC_OUTCOME_UNSPECIFIED) {
      final_message = Message(o);
      final_message->set_outcome(outcome);
      final_message->set_trigger_required(trigger_required);
    } else if (changed) {
      update = Message(o);
    }
  }
  if (update) Emit(*std::move(update));
  if (final_message) {
    Emit(*std::move(final_message));
    End(absl::OkStatus());
  }
}

void WatchCore::OnDeadline() {
  absl::Status status = MakeError(absl::StatusCode::kDeadlineExceeded,
                                  absl::StrCat("the sync of connection \"", SafeText(connection_id),
                                               "\" did not finish before the deadline"),
                                  "DEADLINE_EXCEEDED", {{"connection_id", connection_id}});
  {
    absl::MutexLock lock(&mu);
    deadline_timer = 0;
    if (have_last) {
      AddErrorMetadata(status, "last_sync_state", last.sync_state_raw());
      status.SetPayload("type.googleapis.com/fivetran.gateway.v1.SyncObservation",
                        absl::Cord(last.SerializeAsString()));
    }
  }
  End(std::move(status));
}

}  // namespace

grpc::ServerWriteReactor<v1::WatchConnectionSyncResponse>* StartSyncWatch(
    grpc::CallbackServerContext* context, const v1::WatchConnectionSyncRequest* request,
    fivetran::FivetranApi* api, std::shared_ptr<SyncPollers> pollers, Timers* timers) {
  auto core = std::make_shared<WatchCore>();
  auto* reactor = new WatchReactor(core);
  core->reactor = reactor;
  core->api = api;
  core->pollers = pollers;
  core->timers = timers;
  core->connection_id = request->connection_id();
  core->start = absl::Now();

  if (absl::Status s = ValidateId("connection_id", request->connection_id()); !s.ok()) {
    core->End(s);
    return reactor;
  }
  if (request->has_poll_interval()) {
    if (absl::Status s = CheckInterval("poll_interval", request->poll_interval()); !s.ok()) {
      core->End(s);
      return reactor;
    }
  }
  std::optional<absl::Time> baseline;
  if (request->has_baseline()) {
    absl::StatusOr<absl::Time> t = TimeFromProto("baseline", request->baseline());
    if (!t.ok()) {
      core->End(t.status());
      return reactor;
    }
    baseline = *t;
  }
  core->interval = pollers->EffectiveInterval(
      request->has_poll_interval() ? &request->poll_interval() : nullptr);

  // End a little before the caller's deadline, so that the DEADLINE_EXCEEDED
  // with the last observation reaches the caller instead of gRPC's own.
  absl::Time deadline = CallerDeadline(*context);
  if (deadline != absl::InfiniteFuture()) {
    absl::Duration margin =
        std::clamp((deadline - timers->Now()) / 10, absl::Milliseconds(50), absl::Seconds(2));
    std::weak_ptr<WatchCore> weak = core;
    uint64_t timer = timers->Schedule(deadline - margin, [weak] {
      if (auto c = weak.lock()) c->OnDeadline();
    });
    absl::MutexLock lock(&core->mu);
    core->deadline_timer = timer;
  }

  if (baseline.has_value()) {
    absl::MutexLock lock(&core->mu);
    core->baseline_known = true;
    core->baseline = baseline;
  }

  std::weak_ptr<WatchCore> weak = core;
  auto on_call = [weak](std::shared_ptr<Cancellable> call) {
    if (auto c = weak.lock()) c->SetCall(std::move(call));
  };
  if (request->trigger()) {
    bool has_baseline = request->has_baseline();
    TriggerSync(api, timers, core->connection_id, request->force(), deadline, on_call,
                [weak, has_baseline](absl::StatusOr<TriggerResult> result) {
                  auto c = weak.lock();
                  if (!c) return;
                  if (!result.ok()) return c->End(result.status());
                  {
                    absl::MutexLock lock(&c->mu);
                    c->call = nullptr;
                    c->triggered_at = result->triggered_at;
                    c->already_syncing = result->already_syncing;
                    c->setup_state_at_trigger = result->setup_state_at_trigger;
                    if (!has_baseline) {
                      c->baseline = result->baseline;
                      c->baseline_known = true;
                    }
                  }
                  c->Subscribe(/*soon=*/false);
                });
  } else if (request->has_baseline()) {
    core->Subscribe(/*soon=*/true);
  } else {
    // Read the current state: it is the baseline and the first update.
    on_call(
        api->GetConnection(core->connection_id, fivetran::kFreshRead, deadline,
                           [weak](absl::StatusOr<v1::Connection> connection, const UpstreamInfo&) {
                             auto c = weak.lock();
                             if (!c) return;
                             if (!connection.ok()) return c->End(connection.status());
                             {
                               absl::MutexLock lock(&c->mu);
                               c->call = nullptr;
                             }
                             c->OnObservation(connection, c->timers->Now());
                             c->Subscribe(/*soon=*/false);
                           }));
  }
  return reactor;
}

}  // namespace fivetran_gateway
