#include "server/sync_watch.h"

#include <algorithm>
#include <atomic>
#include <deque>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "server/common/gateway_metrics.h"
#include "server/common/safe_text.h"
#include "server/common/status.h"
#include "server/grpc_status.h"
#include "server/rpc_reactor.h"
#include "server/sync_rules.h"
#include "server/validation.h"
#include "spdlog/spdlog.h"

namespace fivetran_gateway {

using fivetran::UpstreamInfo;

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
  std::shared_ptr<const TraceContext> trace;

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
  // The start-up read (a watch without baseline or trigger) has not
  // answered yet: any error ends the watch, transient or not.
  bool first_read ABSL_GUARDED_BY(mu) = false;
  bool have_last ABSL_GUARDED_BY(mu) = false;
  v1::SyncObservation last ABSL_GUARDED_BY(mu);
  absl::Time last_observed_at ABSL_GUARDED_BY(mu);
  std::unique_ptr<SyncPollers::Subscription> subscription ABSL_GUARDED_BY(mu);
  std::shared_ptr<Cancellable> call ABSL_GUARDED_BY(mu);
  uint64_t deadline_timer ABSL_GUARDED_BY(mu) = 0;

  void Emit(WatchResponse response);
  void End(absl::Status status);
  void WriteDone(bool ok);
  void SetCall(std::shared_ptr<Cancellable> c);
  void Subscribe(bool soon);
  // The first update is the connection's current state
  // (SyncPollers::SubscribeCurrent).
  void SubscribeCurrent(bool fresh);
  void OnObservation(const absl::StatusOr<v1::Connection>& result, absl::Time observed_at);
  void OnDeadline();
  SyncPollers::Callback Callback();
  // Keeps the subscription, or drops it when the watch has ended meanwhile.
  void Keep(std::unique_ptr<SyncPollers::Subscription> sub);
  WatchResponse Message(const v1::SyncObservation& o) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);

 private:
  // Starts the next write or the Finish, outside the lock.
  void Pump();
};

class WatchReactor final : public grpc::ServerWriteReactor<WatchResponse> {
 public:
  explicit WatchReactor(std::shared_ptr<WatchCore> core) : core_(std::move(core)) {}
  // Called by the handler as it returns the reactor to gRPC. gRPC calls the
  // On* methods on its own threads, ordered after that return by
  // synchronisation inside libgrpc that ThreadSanitizer cannot see; this
  // release/acquire pair states the same order in code TSan does see, so it
  // checks the core's use without reporting its setup as a race.
  WatchReactor* Publish() {
    published_.store(true, std::memory_order_release);
    return this;
  }
  void OnWriteDone(bool ok) override { core()->WriteDone(ok); }
  void OnCancel() override {
    core()->End(MakeError(absl::StatusCode::kCancelled, "cancelled by the caller", "CANCELLED"));
  }
  void OnDone() override {
    core()->End(absl::CancelledError("done"));  // Releases subscription and timers.
    delete this;
  }

 private:
  WatchCore* core() {
    (void)published_.load(std::memory_order_acquire);
    return core_.get();
  }
  std::shared_ptr<WatchCore> core_;
  const LiveCount open_{GatewayMetrics::Get().sync_watchers->With({})};
  std::atomic<bool> published_{false};
};

WatchResponse WatchCore::Message(const v1::SyncObservation& o) {
  WatchResponse r;
  *r.mutable_observation() = o;
  if (baseline) *r.mutable_baseline() = TimestampOf(*baseline);
  if (triggered_at) *r.mutable_triggered_at() = TimestampOf(*triggered_at);
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
    const std::string code = status.ok() ? "OK" : absl::StatusCodeToString(status.code());
    const absl::Duration elapsed = absl::Now() - start;
    GatewayMetrics::Get().RecordRpc("WatchConnectionSync", code, elapsed);
    // connection_id is the caller's, possibly rejected: escaped and bounded.
    spdlog::info(
        "rpc method=WatchConnectionSync code={} connection_id=\"{}\" latency_ms={:.1f} "
        "request_id={} trace_id={}{}",
        code, SafeText(connection_id), absl::ToDoubleMilliseconds(elapsed), trace->request_id,
        trace->trace_id,
        status.ok()
            ? ""
            : absl::StrCat(" error=\"", SafeText(status.message(), kMaxLoggedMessage), "\""));
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
  // A write that failed because the call was cancelled may come after
  // OnCancel ended the watch (End then found the write in flight and left
  // the finishing to it): End does nothing the second time, so Pump always
  // runs here, and finishes the call once nothing is being written.
  if (!ok) End(MakeError(absl::StatusCode::kCancelled, "the caller went away", "CANCELLED"));
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
  Keep(pollers->Subscribe(connection_id, interval, soon, Callback()));
}

void WatchCore::SubscribeCurrent(bool fresh) {
  Keep(pollers->SubscribeCurrent(connection_id, interval, fresh, Callback()));
}

SyncPollers::Callback WatchCore::Callback() {
  std::weak_ptr<WatchCore> weak = weak_from_this();
  return [weak](const absl::StatusOr<v1::Connection>& result, absl::Time observed_at) {
    if (auto self = weak.lock()) self->OnObservation(result, observed_at);
  };
}

void WatchCore::Keep(std::unique_ptr<SyncPollers::Subscription> sub) {
  absl::MutexLock lock(&mu);
  if (!ended) subscription = std::move(sub);
  // Otherwise `sub` unsubscribes when destroyed, after the lock is released
  // (it is a parameter, destroyed after the lock).
}

void WatchCore::OnObservation(const absl::StatusOr<v1::Connection>& result,
                              absl::Time observed_at) {
  if (!result.ok()) {
    bool end;
    {
      absl::MutexLock lock(&mu);
      end = first_read || !IsTransient(result.status());
    }
    if (end) End(result.status());
    return;  // Transient: the poller retries with backoff.
  }
  v1::SyncObservation o = Observe(*result, observed_at);
  std::optional<WatchResponse> update, final_message;
  {
    absl::MutexLock lock(&mu);
    if (ended) return;
    // The poller's kept observation can reach a new watcher after a newer
    // poll did: the newest wins.
    if (have_last && observed_at < last_observed_at) return;
    first_read = false;
    bool changed = !have_last || !SameState(last, o);
    last = o;
    last_observed_at = observed_at;
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
  core->trace = CallTrace(*context);
  context->AddInitialMetadata("x-request-id", core->trace->request_id);

  if (absl::Status s = ValidateId("connection_id", request->connection_id()); !s.ok()) {
    core->End(s);
    return reactor->Publish();
  }
  if (request->has_poll_interval()) {
    if (absl::Status s = ValidateInterval("poll_interval", request->poll_interval()); !s.ok()) {
      core->End(s);
      return reactor->Publish();
    }
  }
  std::optional<absl::Time> baseline;
  if (request->has_baseline()) {
    absl::StatusOr<absl::Time> t = RequestTime("baseline", request->baseline());
    if (!t.ok()) {
      core->End(t.status());
      return reactor->Publish();
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
    // The current state is the baseline and the first update: what the
    // connection's poller saw less than an interval ago, or its read
    // (SyncPollers::SubscribeCurrent); `cache-control: no-cache`: a read
    // started for this watch (or one in flight).
    {
      absl::MutexLock lock(&core->mu);
      core->first_read = true;
    }
    core->SubscribeCurrent(ReadOptionsOf(*context).fresh);
  }
  return reactor->Publish();
}

}  // namespace fivetran_gateway
