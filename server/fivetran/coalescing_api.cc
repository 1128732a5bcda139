#include "server/fivetran/coalescing_api.h"

#include <algorithm>
#include <functional>
#include <map>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "server/common/gateway_metrics.h"
#include "server/common/status.h"
#include "server/common/trace_context.h"

namespace fivetran_gateway::fivetran {

// The reads of one kind in flight, by key. A flight is the one upstream
// request of a key and the waiters for its result. The request carries the
// deadline of the waiter that started it; a waiter that joins with an
// earlier deadline gets a timer of its own, and waiters with a later one are
// sent again (as a new flight) if the request runs out of time before them.
template <typename T>
class CoalescingFivetranApi::Flights
    : public std::enable_shared_from_this<CoalescingFivetranApi::Flights<T>> {
 public:
  using Start = std::function<std::shared_ptr<Cancellable>(absl::Time, ApiCallback<T>)>;

  Flights(Timers* timers, std::shared_ptr<Counters> counters)
      : timers_(timers), counters_(std::move(counters)) {}

  // Adds a waiter for `key`, starting the upstream request with `start` when
  // none is in flight. The handle ends this waiter only. A `fresh` read (one
  // a read cache below must not answer) joins only a fresh flight; any read
  // may join a fresh one.
  std::shared_ptr<Cancellable> Join(const std::string& read_key, bool fresh, absl::Time deadline,
                                    ApiCallback<T> done, Start start) {
    auto waiter = std::make_shared<Waiter>();
    // Run with the trace context of the caller that joined: the shared
    // request carries the first caller's, but what each does next is its own.
    waiter->done = WithCurrentTrace(std::move(done));
    waiter->deadline = deadline;
    std::shared_ptr<Flight> started;
    std::string key = absl::StrCat("F", read_key);
    {
      absl::MutexLock lock(&mu_);
      if (!fresh && flights_.count(key) == 0) key = absl::StrCat("C", read_key);
      started = AddLocked(key, waiter, std::move(start));
    }
    (started ? counters_->upstream_reads : counters_->coalesced_reads)
        .fetch_add(1, std::memory_order_relaxed);
    if (!started) GatewayMetrics::Get().coalesced_reads->With({})->Increment();
    if (started) Launch(key, started);
    return std::make_shared<Handle>(this->weak_from_this(), key, waiter);
  }

 private:
  struct Flight;
  struct Waiter {
    ApiCallback<T> done;
    absl::Time deadline;
    uint64_t timer = 0;
    std::shared_ptr<Flight> flight;  // Null once answered. Guarded by mu_.
  };
  struct Flight {
    absl::Time deadline;  // Of the upstream request.
    Start start;
    std::vector<std::shared_ptr<Waiter>> waiters;
    std::shared_ptr<Cancellable> call;
    bool finished = false;
  };

  // One waiter's handle: cancelling it ends that waiter's wait.
  class Handle final : public Cancellable {
   public:
    Handle(std::weak_ptr<Flights> owner, std::string key, std::shared_ptr<Waiter> waiter)
        : owner_(std::move(owner)), key_(std::move(key)), waiter_(std::move(waiter)) {}
    void Cancel() override {
      if (auto owner = owner_.lock()) {
        owner->Leave(
            key_, waiter_,
            MakeError(absl::StatusCode::kCancelled, "cancelled by the caller", "CANCELLED"));
      }
    }

   private:
    const std::weak_ptr<Flights> owner_;
    const std::string key_;
    const std::shared_ptr<Waiter> waiter_;
  };

  // Puts `waiter` on the flight of `key`, or on a new one (returned, to be
  // launched outside the lock).
  std::shared_ptr<Flight> AddLocked(const std::string& key, const std::shared_ptr<Waiter>& waiter,
                                    Start start) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::shared_ptr<Flight>& slot = flights_[key];
    std::shared_ptr<Flight> started;
    if (slot == nullptr) {
      slot = std::make_shared<Flight>();
      slot->deadline = waiter->deadline;
      slot->start = std::move(start);
      started = slot;
    }
    slot->waiters.push_back(waiter);
    waiter->flight = slot;
    if (waiter->deadline < slot->deadline && waiter->timer == 0) {
      std::weak_ptr<Flights> weak = this->weak_from_this();
      waiter->timer = timers_->Schedule(waiter->deadline, [weak, key, waiter] {
        if (auto self = weak.lock()) {
          self->Leave(key, waiter,
                      MakeError(absl::StatusCode::kDeadlineExceeded,
                                "deadline exceeded while waiting for Fivetran's answer",
                                "DEADLINE_EXCEEDED"));
        }
      });
    }
    return started;
  }

  void Launch(const std::string& key, const std::shared_ptr<Flight>& flight) {
    std::weak_ptr<Flights> weak = this->weak_from_this();
    std::shared_ptr<Cancellable> call = flight->start(
        flight->deadline, [weak, key, flight](absl::StatusOr<T> result, const UpstreamInfo& info) {
          if (auto self = weak.lock()) self->Finish(key, flight, std::move(result), info);
        });
    bool cancel = false;
    {
      absl::MutexLock lock(&mu_);
      if (!flight->finished) flight->call = call;
      cancel = flight->finished && flight->waiters.empty() && call != nullptr;
    }
    if (cancel) call->Cancel();  // Everyone left while it was starting.
  }

  // Ends one waiter with `status`; the last one to leave cancels the
  // upstream request.
  void Leave(const std::string& key, const std::shared_ptr<Waiter>& waiter, absl::Status status) {
    std::shared_ptr<Cancellable> call;
    ApiCallback<T> done;
    uint64_t timer = 0;
    {
      absl::MutexLock lock(&mu_);
      std::shared_ptr<Flight> flight = std::move(waiter->flight);
      if (flight == nullptr) return;  // Already answered.
      auto& ws = flight->waiters;
      ws.erase(std::remove(ws.begin(), ws.end(), waiter), ws.end());
      if (ws.empty() && !flight->finished) {
        flight->finished = true;  // Nobody waits: a later read starts afresh.
        call = std::move(flight->call);
        auto slot = flights_.find(key);
        if (slot != flights_.end() && slot->second == flight) flights_.erase(slot);
      }
      done = std::move(waiter->done);
      timer = waiter->timer;
    }
    if (timer != 0) timers_->Cancel(timer);
    done(std::move(status), UpstreamInfo{});
    if (call) call->Cancel();
  }

  void Finish(const std::string& key, const std::shared_ptr<Flight>& flight,
              absl::StatusOr<T> result, const UpstreamInfo& info) {
    std::vector<std::pair<ApiCallback<T>, uint64_t>> answered;
    std::shared_ptr<Flight> relaunch;
    {
      absl::MutexLock lock(&mu_);
      flight->finished = true;
      flight->call = nullptr;
      auto slot = flights_.find(key);
      if (slot != flights_.end() && slot->second == flight) flights_.erase(slot);
      // The request ran out of the time of the waiter that started it:
      // waiters with time left are sent again rather than given its error.
      const bool expired =
          !result.ok() && result.status().code() == absl::StatusCode::kDeadlineExceeded;
      for (std::shared_ptr<Waiter>& w : flight->waiters) {
        if (w->flight != flight) continue;
        w->flight = nullptr;
        if (expired && w->deadline > flight->deadline) {
          if (auto started = AddLocked(key, w, flight->start)) relaunch = started;
          continue;
        }
        answered.emplace_back(std::move(w->done), w->timer);
      }
      flight->waiters.clear();
    }
    if (relaunch) {
      counters_->upstream_reads.fetch_add(1, std::memory_order_relaxed);
      Launch(key, relaunch);
    }
    for (size_t i = 0; i < answered.size(); ++i) {
      auto& [done, timer] = answered[i];
      if (timer != 0) timers_->Cancel(timer);
      // A copy for every waiter but the last, which takes the result itself
      // (a page of 1,000 connections is costly to copy).
      if (i + 1 < answered.size()) {
        done(result, info);
      } else {
        done(std::move(result), info);
      }
    }
  }

  Timers* const timers_;
  const std::shared_ptr<Counters> counters_;
  absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<Flight>> flights_ ABSL_GUARDED_BY(mu_);
};

namespace {

std::string PageKey(const PageRequest& page) {
  return absl::StrCat(page.limit, "\n", page.cursor.size(), ":", page.cursor);
}

}  // namespace

CoalescingFivetranApi::CoalescingFivetranApi(FivetranApi* inner, Timers* timers)
    : inner_(inner),
      counters_(std::make_shared<Counters>()),
      connections_(std::make_shared<Flights<SerializedConnection>>(timers, counters_)),
      group_pages_(std::make_shared<Flights<Page<v1::Group>>>(timers, counters_)),
      connection_pages_(std::make_shared<Flights<Page<SerializedConnection>>>(timers, counters_)),
      user_pages_(std::make_shared<Flights<Page<v1::User>>>(timers, counters_)) {}

CoalescingFivetranApi::~CoalescingFivetranApi() = default;

CoalescingStats CoalescingFivetranApi::stats() const {
  CoalescingStats s;
  s.upstream_reads = counters_->upstream_reads.load(std::memory_order_relaxed);
  s.coalesced_reads = counters_->coalesced_reads.load(std::memory_order_relaxed);
  return s;
}

// Both ways of reading a connection share one flight, in wire form: a
// GetConnection waiter parses the shared answer for itself.
std::shared_ptr<Cancellable> CoalescingFivetranApi::GetConnection(
    const std::string& connection_id, ReadOptions read, absl::Time deadline,
    ApiCallback<v1::Connection> done) {
  return GetSerializedConnection(connection_id, read, deadline, ParsedInto(std::move(done)));
}

std::shared_ptr<Cancellable> CoalescingFivetranApi::GetSerializedConnection(
    const std::string& connection_id, ReadOptions read, absl::Time deadline,
    ApiCallback<SerializedConnection> done) {
  return connections_->Join(
      connection_id, read.fresh, deadline, std::move(done),
      [this, connection_id, read](absl::Time d, ApiCallback<SerializedConnection> cb) {
        return inner_->GetSerializedConnection(connection_id, read, d, std::move(cb));
      });
}

std::shared_ptr<Cancellable> CoalescingFivetranApi::CreateConnection(
    const NewConnection& connection, absl::Time deadline, ApiCallback<v1::Connection> done) {
  return inner_->CreateConnection(connection, deadline, std::move(done));
}

std::shared_ptr<Cancellable> CoalescingFivetranApi::TriggerSync(const std::string& connection_id,
                                                                bool force, absl::Time deadline,
                                                                ApiCallback<SyncTriggered> done) {
  return inner_->TriggerSync(connection_id, force, deadline, std::move(done));
}

std::shared_ptr<Cancellable> CoalescingFivetranApi::ListGroups(const PageRequest& page,
                                                               ReadOptions read,
                                                               absl::Time deadline,
                                                               ApiCallback<Page<v1::Group>> done) {
  return group_pages_->Join(PageKey(page), read.fresh, deadline, std::move(done),
                            [this, page, read](absl::Time d, ApiCallback<Page<v1::Group>> cb) {
                              return inner_->ListGroups(page, read, d, std::move(cb));
                            });
}

std::shared_ptr<Cancellable> CoalescingFivetranApi::ListGroupConnections(
    const std::string& group_id, const std::string& schema, const PageRequest& page,
    ReadOptions read, absl::Time deadline, ApiCallback<Page<SerializedConnection>> done) {
  std::string key =
      absl::StrCat(group_id.size(), ":", group_id, schema.size(), ":", schema, PageKey(page));
  return connection_pages_->Join(key, read.fresh, deadline, std::move(done),
                                 [this, group_id, schema, page, read](
                                     absl::Time d, ApiCallback<Page<SerializedConnection>> cb) {
                                   return inner_->ListGroupConnections(group_id, schema, page, read,
                                                                       d, std::move(cb));
                                 });
}

std::shared_ptr<Cancellable> CoalescingFivetranApi::ListUsers(std::optional<bool> active,
                                                              const PageRequest& page,
                                                              ReadOptions read, absl::Time deadline,
                                                              ApiCallback<Page<v1::User>> done) {
  std::string key = absl::StrCat(active.has_value() ? (*active ? "t" : "f") : "-", PageKey(page));
  return user_pages_->Join(
      key, read.fresh, deadline, std::move(done),
      [this, active, page, read](absl::Time d, ApiCallback<Page<v1::User>> cb) {
        return inner_->ListUsers(active, page, read, d, std::move(cb));
      });
}

}  // namespace fivetran_gateway::fivetran
