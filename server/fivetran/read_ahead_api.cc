#include "server/fivetran/read_ahead_api.h"

#include <algorithm>
#include <atomic>
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

struct ReadAheadFivetranApi::Counters {
  std::atomic<int64_t> started{0};
  std::atomic<int64_t> used{0};
  std::atomic<int64_t> unused{0};
  std::atomic<int64_t> skipped{0};
  std::atomic<size_t> held{0};  // Read-aheads kept or in flight, every kind.

  void Count(std::atomic<int64_t>& counter, const char* result) {
    counter.fetch_add(1, std::memory_order_relaxed);
    GatewayMetrics::Get().read_ahead->With({result})->Increment();
  }
};

namespace {

std::string PageKey(const std::string& listing, const PageRequest& page) {
  return absl::StrCat(listing, "\n", page.limit, "\n", page.cursor.size(), ":", page.cursor);
}

}  // namespace

// The read-aheads of one kind of listing, by page (listing, limit, cursor).
template <typename T>
class ReadAheadFivetranApi::Pages
    : public std::enable_shared_from_this<ReadAheadFivetranApi::Pages<T>> {
 public:
  // Reads one page from the layer below.
  using Start = std::function<std::shared_ptr<Cancellable>(const PageRequest&, ReadOptions,
                                                           absl::Time, ApiCallback<Page<T>>)>;

  Pages(Timers* timers, ReadAheadOptions options, std::shared_ptr<Counters> counters)
      : timers_(timers), options_(std::move(options)), counters_(std::move(counters)) {}

  // A caller's read of `page` of `listing`: answered from a kept read-ahead,
  // or made to wait for one in flight, or sent; when the caller is paging,
  // its answer starts the read-ahead of the page after it.
  std::shared_ptr<Cancellable> Read(const std::string& listing, const PageRequest& page,
                                    ReadOptions read, absl::Time deadline,
                                    ApiCallback<Page<T>> done, Start start) {
    const std::string key = PageKey(listing, page);
    std::optional<Entry> taken;
    std::shared_ptr<Waiter> waiter;
    std::shared_ptr<Flight> flight;
    std::shared_ptr<Chain> waited_chain;
    bool first_waiter = false;
    {
      absl::MutexLock lock(&mu_);
      auto it = entries_.find(key);
      if (it != entries_.end()) {
        Entry& entry = it->second;
        // In flight: this read waits for its answer (unless it is fresh and
        // the read-ahead was not, or everyone who waited left). It waits
        // here, not by sending the same request to the layer below to be
        // shared there: that request may have just been answered, its
        // answer not yet here. The entry stays listed while in flight, so
        // that later callers of the page wait for it too.
        if (!entry.result.has_value() && (!read.fresh || entry.fresh)) {
          waiter = AddWaiterLocked(entry.flight, listing, page, read, deadline, done);
        }
        if (waiter != nullptr) {
          first_waiter = !entry.used;
          entry.used = true;
          flight = entry.flight;
          waited_chain = entry.chain;
        } else {
          taken = std::move(entry);
          EraseLocked(it);
        }
      }
    }
    if (waiter != nullptr) {
      if (first_waiter) counters_->Count(counters_->used, "used");
      Claim(listing, page.limit, read, start, waited_chain);
      return std::make_shared<WaiterHandle>(timers_, flight, waiter);
    }
    if (taken.has_value()) {
      if (taken->timer != 0) timers_->Cancel(taken->timer);
      if (taken->result.has_value() && !read.fresh) {
        counters_->Count(counters_->used, "used");
        UpstreamInfo info = taken->info;
        info.cache = UpstreamInfo::Cache::kReadAhead;
        // How long ago Fivetran was read: the read-ahead may have been
        // answered by the read cache below, already that old.
        info.cache_age = timers_->Now() - taken->sent_at;
        if (taken->info.cache == UpstreamInfo::Cache::kHit) info.cache_age += taken->info.cache_age;
        FollowAndAnswer(listing, page, read, std::move(*taken->result), info, done, start, nullptr);
        return std::make_shared<AlreadyAnswered>();
      }
      // Kept or in flight, but this read is fresh (or the read-ahead is
      // being cancelled): dropped, and read again.
      if (!taken->used) counters_->Count(counters_->unused, "unused");
      if (!taken->result.has_value()) CancelUnwaited(*taken->flight);
    }
    std::weak_ptr<Pages> weak = this->weak_from_this();
    // A paging caller's own read: the next page is read ahead as soon as
    // its cursor is seen.
    PageRequest sent = page;
    std::shared_ptr<Chain> chain;
    if (!page.cursor.empty()) {
      sent.on_next_cursor = Hint(listing, page.limit, read, start, true, &chain);
    }
    return start(sent, read, deadline,
                 [weak, listing, page, read, done = std::move(done), start, chain](
                     absl::StatusOr<Page<T>> result, const UpstreamInfo& info) {
                   auto self = weak.lock();
                   if (self == nullptr || !result.ok()) {
                     done(std::move(result), info);
                     return;
                   }
                   self->FollowAndAnswer(listing, page, read, *std::move(result), info, done, start,
                                         chain);
                 });
  }

  // Drops every kept page and cancels every read-ahead in flight that no
  // caller waits for (callers that wait get its answer). With
  // `close` (the decorator is going), nothing is read ahead afterwards: an
  // answer on its way may still hold this object.
  void DropAll(bool close = false) {
    std::map<std::string, Entry> dropped;
    {
      absl::MutexLock lock(&mu_);
      closed_ = closed_ || close;
      counters_->held.fetch_sub(entries_.size(), std::memory_order_relaxed);
      dropped.swap(entries_);
    }
    for (auto& [key, entry] : dropped) {
      if (!entry.used) counters_->Count(counters_->unused, "unused");
      if (entry.timer != 0) timers_->Cancel(entry.timer);
      if (!entry.result.has_value()) CancelUnwaited(*entry.flight);
    }
  }

 private:
  // One page request sent by this decorator, for its next-cursor hint.
  struct Chain {
    absl::Mutex mu;
    bool claimed ABSL_GUARDED_BY(mu) = false;   // A caller waits for this page.
    std::string hinted ABSL_GUARDED_BY(mu);     // Its next_cursor, once seen.
    bool followed ABSL_GUARDED_BY(mu) = false;  // The next page's read-ahead started.
  };

  // A caller waiting for a read-ahead in flight. Guarded by its Flight's mu.
  struct Waiter {
    ApiCallback<Page<T>> done;  // Null once answered or ended.
    std::string listing;
    PageRequest page;  // Without a hint.
    ReadOptions read;
    absl::Time deadline;
    std::shared_ptr<const TraceContext> trace;  // The caller's, for what is sent for it later.
    uint64_t timer = 0;                 // Ends the wait at `deadline`, if before the request's.
    std::shared_ptr<Cancellable> sent;  // Its own read, sent when the read-ahead ran out of time.
    bool cancelled = false;
  };

  // A read-ahead's request and the callers waiting for its answer. The
  // request's callback holds it, so that its answer reaches them after this
  // object is gone.
  struct Flight {
    Timers* timers = nullptr;
    absl::Time deadline;  // Of the request.
    absl::Mutex mu;
    bool answered ABSL_GUARDED_BY(mu) = false;
    bool abandoned ABSL_GUARDED_BY(mu) = false;             // Every waiter left: being cancelled.
    std::shared_ptr<Cancellable> call ABSL_GUARDED_BY(mu);  // Once `start` returned.
    std::vector<std::shared_ptr<Waiter>> waiters ABSL_GUARDED_BY(mu);
  };

  struct Entry {
    uint64_t id = 0;
    std::shared_ptr<Chain> chain;
    std::shared_ptr<Flight> flight;
    bool fresh = false;  // Sent as a fresh read.
    bool used = false;   // A caller waits or waited for it (counted `used` once).
    absl::Time sent_at;
    std::optional<Page<T>> result;  // Set once answered.
    UpstreamInfo info;
    uint64_t timer = 0;  // Drops the kept page after `keep`.
  };

  // A waiter's handle: cancelling ends its wait, or its own read once sent.
  class WaiterHandle final : public Cancellable {
   public:
    WaiterHandle(Timers* timers, std::shared_ptr<Flight> flight, std::shared_ptr<Waiter> waiter)
        : timers_(timers), flight_(std::move(flight)), waiter_(std::move(waiter)) {}
    void Cancel() override {
      std::shared_ptr<Cancellable> sent;
      {
        absl::MutexLock lock(&flight_->mu);
        waiter_->cancelled = true;
        sent = waiter_->sent;
      }
      if (sent != nullptr) sent->Cancel();
      Leave(timers_, flight_, waiter_,
            MakeError(absl::StatusCode::kCancelled, "cancelled by the caller", "CANCELLED"));
    }

   private:
    Timers* const timers_;
    const std::shared_ptr<Flight> flight_;
    const std::shared_ptr<Waiter> waiter_;
  };

  // Adds a caller to the waiters of `flight`, which is not answered yet
  // (its answer takes mu_ before it is given out); null when everyone who
  // waited for it left (it is being cancelled).
  std::shared_ptr<Waiter> AddWaiterLocked(const std::shared_ptr<Flight>& flight,
                                          const std::string& listing, const PageRequest& page,
                                          ReadOptions read, absl::Time deadline,
                                          const ApiCallback<Page<T>>& done)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    absl::MutexLock lock(&flight->mu);
    if (flight->abandoned) return nullptr;
    auto waiter = std::make_shared<Waiter>();
    waiter->trace = CurrentTrace();
    waiter->done = WithCurrentTrace(done);
    waiter->listing = listing;
    waiter->page = PageRequest{page.limit, page.cursor};
    waiter->read = read;
    waiter->deadline = deadline;
    flight->waiters.push_back(waiter);
    if (deadline < flight->deadline) {
      std::weak_ptr<Flight> weak = flight;
      Timers* timers = timers_;
      waiter->timer = timers_->Schedule(deadline, [timers, weak, waiter] {
        if (auto f = weak.lock()) {
          Leave(timers, f, waiter,
                MakeError(absl::StatusCode::kDeadlineExceeded,
                          "deadline exceeded while waiting for Fivetran's answer",
                          "DEADLINE_EXCEEDED"));
        }
      });
    }
    return waiter;
  }

  // Ends `waiter`'s wait with `status` (cancelled, or its deadline passed);
  // when nobody waits any more, the read-ahead's request is cancelled.
  static void Leave(Timers* timers, const std::shared_ptr<Flight>& flight,
                    const std::shared_ptr<Waiter>& waiter, absl::Status status) {
    ApiCallback<Page<T>> done;
    uint64_t timer = 0;
    std::shared_ptr<Cancellable> call;
    {
      absl::MutexLock lock(&flight->mu);
      if (!waiter->done) return;  // Answered, or its own read was sent.
      done = std::move(waiter->done);
      waiter->done = nullptr;
      timer = waiter->timer;
      auto& ws = flight->waiters;
      ws.erase(std::remove(ws.begin(), ws.end(), waiter), ws.end());
      if (ws.empty() && !flight->answered) {
        flight->abandoned = true;
        call = std::move(flight->call);
      }
    }
    if (timer != 0) timers->Cancel(timer);
    done(std::move(status), UpstreamInfo{});
    if (call != nullptr) call->Cancel();
  }

  // Cancels the request of a read-ahead dropped from entries_ before any
  // caller waited for it (if `start` has not returned yet, ReadAhead does).
  static void CancelUnwaited(Flight& flight) {
    std::shared_ptr<Cancellable> call;
    {
      absl::MutexLock lock(&flight.mu);
      if (flight.waiters.empty()) call = std::move(flight.call);
    }
    if (call != nullptr) call->Cancel();
  }

  // The hint of a page request: once a caller waits for the page (`claimed`,
  // or later through Claim) and its next_cursor is seen, that next page is
  // read ahead. A read-ahead's own request starts unclaimed, so that
  // read-aheads never chain without a caller.
  NextCursorHint Hint(const std::string& listing, int limit, ReadOptions read, const Start& start,
                      bool claimed, std::shared_ptr<Chain>* chain_out) {
    auto chain = std::make_shared<Chain>();
    {
      absl::MutexLock lock(&chain->mu);
      chain->claimed = claimed;
    }
    *chain_out = chain;
    std::weak_ptr<Pages> weak = this->weak_from_this();
    return [weak, listing, limit, read, start, chain](const std::string& next_cursor) {
      bool go = false;
      {
        absl::MutexLock lock(&chain->mu);
        chain->hinted = next_cursor;
        go = chain->claimed && !chain->followed;
        chain->followed = chain->followed || go;
      }
      auto self = weak.lock();
      if (go && self != nullptr)
        self->ReadAhead(listing, PageRequest{limit, next_cursor}, read, start);
    };
  }

  // A caller now waits for the read-ahead of `chain`: if its next_cursor
  // was already seen, the page after it is read ahead now.
  void Claim(const std::string& listing, int limit, ReadOptions read, const Start& start,
             const std::shared_ptr<Chain>& chain) {
    if (chain == nullptr) return;
    std::string next_cursor;
    {
      absl::MutexLock lock(&chain->mu);
      chain->claimed = true;
      if (chain->hinted.empty() || chain->followed) return;
      chain->followed = true;
      next_cursor = chain->hinted;
    }
    ReadAhead(listing, PageRequest{limit, next_cursor}, read, start);
  }

  void EraseLocked(typename std::map<std::string, Entry>::iterator it)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    entries_.erase(it);
    counters_->held.fetch_sub(1, std::memory_order_relaxed);
  }

  // Starts the read-ahead of the page after `page` (when the caller is
  // paging and there is one, and the hint of `chain`, the request that
  // answered, did not already), then answers the caller.
  void FollowAndAnswer(const std::string& listing, const PageRequest& page, ReadOptions read,
                       Page<T> result, const UpstreamInfo& info, const ApiCallback<Page<T>>& done,
                       const Start& start, const std::shared_ptr<Chain>& chain) {
    bool hinted = false;
    if (chain != nullptr) {
      absl::MutexLock lock(&chain->mu);
      hinted = chain->followed && chain->hinted == result.next_cursor;
      // Followed from here: a Claim of this chain that comes later (a
      // waiter answered before it claimed) starts nothing more.
      chain->claimed = true;
      chain->followed = true;
      chain->hinted = result.next_cursor;
    }
    if (!hinted && !page.cursor.empty() && !result.next_cursor.empty()) {
      ReadAhead(listing, PageRequest{page.limit, result.next_cursor}, read, start);
    }
    done(std::move(result), info);
  }

  void ReadAhead(const std::string& listing, const PageRequest& page, ReadOptions read,
                 const Start& start) {
    if (options_.budget_low && options_.budget_low()) {
      counters_->Count(counters_->skipped, "skipped");
      return;
    }
    const std::string key = PageKey(listing, page);
    const absl::Time now = timers_->Now();
    std::shared_ptr<Chain> chain;
    PageRequest sent = page;
    sent.on_next_cursor = Hint(listing, page.limit, read, start, false, &chain);
    auto flight = std::make_shared<Flight>();
    flight->timers = timers_;
    flight->deadline = now + options_.timeout;
    uint64_t id = 0;
    {
      absl::MutexLock lock(&mu_);
      if (closed_ || entries_.count(key) != 0) return;  // Closed, or already read ahead.
      // A slot of the bound, shared by the three kinds of listing (each
      // with its own lock): taken only while under it.
      size_t held = counters_->held.load(std::memory_order_relaxed);
      while (held < options_.max_pages &&
             !counters_->held.compare_exchange_weak(held, held + 1, std::memory_order_relaxed)) {
      }
      if (held < options_.max_pages) {
        id = ++next_id_;
        Entry& entry = entries_[key];
        entry.id = id;
        entry.chain = chain;
        entry.flight = flight;
        entry.fresh = read.fresh;
        entry.sent_at = now;
        counters_->started.fetch_add(1, std::memory_order_relaxed);
      }
    }
    if (id == 0) {
      counters_->Count(counters_->skipped, "skipped");
      return;
    }
    std::weak_ptr<Pages> weak = this->weak_from_this();
    std::shared_ptr<Cancellable> call =
        start(sent, read, flight->deadline,
              [weak, key, id, flight, chain, start](absl::StatusOr<Page<T>> result,
                                                    const UpstreamInfo& info) {
                Answered(weak, key, id, *flight, chain, start, std::move(result), info);
              });
    bool cancel = false;
    {
      absl::MutexLock lock(&mu_);
      auto it = entries_.find(key);
      const bool listed = it != entries_.end() && it->second.id == id;
      absl::MutexLock flight_lock(&flight->mu);
      if (!flight->answered) {
        // Dropped meanwhile and nobody waits for it, or everyone who waited
        // left before it could be cancelled: not needed.
        cancel = flight->abandoned || (!listed && flight->waiters.empty());
        if (!cancel) flight->call = call;
      }
    }
    if (cancel && call != nullptr) call->Cancel();
  }

  // The answer of read-ahead `id` of `key`: given to the callers waiting
  // for it, or else kept for `keep` (unless it failed or was dropped).
  static void Answered(const std::weak_ptr<Pages>& weak, const std::string& key, uint64_t id,
                       Flight& flight, const std::shared_ptr<Chain>& chain, const Start& start,
                       absl::StatusOr<Page<T>> result, const UpstreamInfo& info) {
    std::vector<std::shared_ptr<Waiter>> waiters;
    auto take_waiters = [&] {
      absl::MutexLock lock(&flight.mu);
      flight.answered = true;
      flight.call = nullptr;
      waiters.swap(flight.waiters);
    };
    std::shared_ptr<Pages> self = weak.lock();
    if (self == nullptr) {
      take_waiters();
    } else {
      bool unused = false;
      {
        absl::MutexLock lock(&self->mu_);
        take_waiters();
        auto it = self->entries_.find(key);
        if (it != self->entries_.end() && it->second.id == id) {
          // Given to its waiters, failed, or everyone who waited left: not
          // kept.
          if (it->second.used || !result.ok()) {
            unused = !it->second.used;
            self->EraseLocked(it);
          } else {
            Entry& entry = it->second;
            entry.result = *std::move(result);
            entry.info = info;
            entry.timer = self->timers_->Schedule(self->timers_->Now() + self->options_.keep,
                                                  [weak, key, id] {
                                                    if (auto s = weak.lock()) s->Expire(key, id);
                                                  });
            return;
          }
        }
      }
      if (unused) self->counters_->Count(self->counters_->unused, "unused");
    }
    // The read-ahead's request ran out of its time: a waiter with time left
    // sends its own read rather than get that error (as coalescing does).
    const bool expired =
        !result.ok() && result.status().code() == absl::StatusCode::kDeadlineExceeded;
    for (size_t i = 0; i < waiters.size(); ++i) {
      const std::shared_ptr<Waiter>& w = waiters[i];
      ApiCallback<Page<T>> done;
      uint64_t timer = 0;
      {
        absl::MutexLock lock(&flight.mu);
        if (!w->done) continue;  // Left first.
        done = std::move(w->done);
        w->done = nullptr;
        timer = w->timer;
      }
      if (timer != 0) flight.timers->Cancel(timer);
      // What is sent for this waiter carries its trace context.
      ScopedTrace scope(w->trace);
      if (self == nullptr) {
        done(i + 1 < waiters.size() ? absl::StatusOr<Page<T>>(result) : std::move(result), info);
      } else if (expired && w->deadline > flight.deadline) {
        std::shared_ptr<Cancellable> sent =
            self->Read(w->listing, w->page, w->read, w->deadline, std::move(done), start);
        bool cancelled = false;
        {
          absl::MutexLock lock(&flight.mu);
          w->sent = sent;
          cancelled = w->cancelled;
        }
        if (cancelled && sent != nullptr) sent->Cancel();
      } else if (!result.ok()) {
        done(result.status(), info);
      } else {
        // A copy for every waiter but the last, which takes the page itself.
        Page<T> page = i + 1 < waiters.size() ? *result : *std::move(result);
        self->FollowAndAnswer(w->listing, w->page, w->read, std::move(page), info, done, start,
                              chain);
      }
    }
  }

  void Expire(const std::string& key, uint64_t id) {
    {
      absl::MutexLock lock(&mu_);
      auto it = entries_.find(key);
      if (it == entries_.end() || it->second.id != id) return;
      EraseLocked(it);
    }
    counters_->Count(counters_->unused, "unused");
  }

  Timers* const timers_;
  const ReadAheadOptions options_;
  const std::shared_ptr<Counters> counters_;
  absl::Mutex mu_;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

ReadAheadFivetranApi::ReadAheadFivetranApi(FivetranApi* inner, Timers* timers,
                                           ReadAheadOptions options)
    : inner_(inner),
      counters_(std::make_shared<Counters>()),
      groups_(std::make_shared<Pages<v1::Group>>(timers, options, counters_)),
      connections_(std::make_shared<Pages<SerializedConnection>>(timers, options, counters_)),
      users_(std::make_shared<Pages<v1::User>>(timers, options, counters_)) {}

ReadAheadFivetranApi::~ReadAheadFivetranApi() {
  groups_->DropAll(/*close=*/true);
  connections_->DropAll(/*close=*/true);
  users_->DropAll(/*close=*/true);
}

void ReadAheadFivetranApi::DropAll() {
  groups_->DropAll();
  connections_->DropAll();
  users_->DropAll();
}

template <typename R>
ApiCallback<R> ReadAheadFivetranApi::DropAllThen(ApiCallback<R> done) const {
  std::weak_ptr<Pages<v1::Group>> groups = groups_;
  std::weak_ptr<Pages<SerializedConnection>> connections = connections_;
  std::weak_ptr<Pages<v1::User>> users = users_;
  return [groups, connections, users, done = std::move(done)](absl::StatusOr<R> result,
                                                              const UpstreamInfo& info) {
    if (auto pages = groups.lock()) pages->DropAll();
    if (auto pages = connections.lock()) pages->DropAll();
    if (auto pages = users.lock()) pages->DropAll();
    done(std::move(result), info);
  };
}

ReadAheadStats ReadAheadFivetranApi::stats() const {
  ReadAheadStats s;
  s.started = counters_->started.load(std::memory_order_relaxed);
  s.used = counters_->used.load(std::memory_order_relaxed);
  s.unused = counters_->unused.load(std::memory_order_relaxed);
  s.skipped = counters_->skipped.load(std::memory_order_relaxed);
  return s;
}

std::shared_ptr<Cancellable> ReadAheadFivetranApi::GetConnection(const std::string& connection_id,
                                                                 ReadOptions read,
                                                                 absl::Time deadline,
                                                                 ApiCallback<v1::Connection> done) {
  return inner_->GetConnection(connection_id, read, deadline, std::move(done));
}

std::shared_ptr<Cancellable> ReadAheadFivetranApi::GetSerializedConnection(
    const std::string& connection_id, ReadOptions read, absl::Time deadline,
    ApiCallback<SerializedConnection> done) {
  return inner_->GetSerializedConnection(connection_id, read, deadline, std::move(done));
}

std::shared_ptr<Cancellable> ReadAheadFivetranApi::CreateConnection(
    const NewConnection& connection, absl::Time deadline, ApiCallback<v1::Connection> done) {
  DropAll();
  return inner_->CreateConnection(connection, deadline,
                                  DropAllThen<v1::Connection>(std::move(done)));
}

std::shared_ptr<Cancellable> ReadAheadFivetranApi::TriggerSync(const std::string& connection_id,
                                                               bool force, absl::Time deadline,
                                                               ApiCallback<SyncTriggered> done) {
  DropAll();
  return inner_->TriggerSync(connection_id, force, deadline,
                             DropAllThen<SyncTriggered>(std::move(done)));
}

std::shared_ptr<Cancellable> ReadAheadFivetranApi::ListGroups(const PageRequest& page,
                                                              ReadOptions read, absl::Time deadline,
                                                              ApiCallback<Page<v1::Group>> done) {
  return groups_->Read("groups", page, read, deadline, std::move(done),
                       [inner = inner_](const PageRequest& p, ReadOptions r, absl::Time d,
                                        ApiCallback<Page<v1::Group>> cb) {
                         return inner->ListGroups(p, r, d, std::move(cb));
                       });
}

std::shared_ptr<Cancellable> ReadAheadFivetranApi::ListGroupConnections(
    const std::string& group_id, const std::string& schema, const PageRequest& page,
    ReadOptions read, absl::Time deadline, ApiCallback<Page<SerializedConnection>> done) {
  std::string listing = absl::StrCat(group_id.size(), ":", group_id, schema.size(), ":", schema);
  return connections_->Read(
      listing, page, read, deadline, std::move(done),
      [inner = inner_, group_id, schema](const PageRequest& p, ReadOptions r, absl::Time d,
                                         ApiCallback<Page<SerializedConnection>> cb) {
        return inner->ListGroupConnections(group_id, schema, p, r, d, std::move(cb));
      });
}

std::shared_ptr<Cancellable> ReadAheadFivetranApi::ListUsers(std::optional<bool> active,
                                                             const PageRequest& page,
                                                             ReadOptions read, absl::Time deadline,
                                                             ApiCallback<Page<v1::User>> done) {
  std::string listing = active.has_value() ? (*active ? "active" : "inactive") : "all";
  return users_->Read(listing, page, read, deadline, std::move(done),
                      [inner = inner_, active](const PageRequest& p, ReadOptions r, absl::Time d,
                                               ApiCallback<Page<v1::User>> cb) {
                        return inner->ListUsers(active, p, r, d, std::move(cb));
                      });
}

}  // namespace fivetran_gateway::fivetran
