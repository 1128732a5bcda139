// Timers: the gateway's clock and its way of running work later, behind one
// interface so that time-dependent code (retries, sync polling, watch
// deadlines) can be driven by a manual clock in unit tests.
//
// TimerQueue is the real one: one thread that runs short callbacks at given
// times, so that no thread sleeps per call or per watch. Callbacks must not
// block; they run on the queue's thread.
#ifndef FIVETRAN_GATEWAY_SERVER_COMMON_TIMER_QUEUE_H_
#define FIVETRAN_GATEWAY_SERVER_COMMON_TIMER_QUEUE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace fivetran_gateway {

class Timers {
 public:
  virtual ~Timers() = default;
  // The current time of this clock.
  virtual absl::Time Now() const = 0;
  // Runs `fn` at `when` (soon if it is past), never inside this call.
  // Returns an id for Cancel, or 0 when the timers have stopped: then `fn`
  // is dropped and never runs, and the caller must end its work itself.
  virtual uint64_t Schedule(absl::Time when, std::function<void()> fn) = 0;
  // Removes a timer that has not run yet; false when it already ran or ran
  // out. Never waits for a running callback.
  virtual bool Cancel(uint64_t id) = 0;
};

// The pending timers of a Timers implementation, ordered by time, then by
// id. Not thread-safe: its owner guards it with its own mutex.
class TimerSchedule {
 public:
  // Adds `fn` due at `when`; returns its id (never 0).
  uint64_t Add(absl::Time when, std::function<void()> fn);
  // Removes a pending timer; false when there is none with `id`.
  bool Remove(uint64_t id);
  // Removes and returns the earliest timer due at or before `now`; an empty
  // function when none is due. `*due` (if given) gets its time.
  std::function<void()> PopDue(absl::Time now, absl::Time* due = nullptr);
  // When the earliest timer is due; InfiniteFuture when none is pending.
  absl::Time next_due() const;
  size_t size() const { return timers_.size(); }
  // Removes every timer and returns their callbacks, to be destroyed by the
  // caller (outside its lock: captures may schedule or cancel).
  std::vector<std::function<void()>> TakeAll();

 private:
  std::map<std::pair<absl::Time, uint64_t>, std::function<void()>> timers_;
  std::map<uint64_t, absl::Time> when_;
  uint64_t next_id_ = 1;
};

class TimerQueue final : public Timers {
 public:
  TimerQueue();
  ~TimerQueue() override;  // Stop().
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  absl::Time Now() const override { return absl::Now(); }
  uint64_t Schedule(absl::Time when, std::function<void()> fn) override;
  bool Cancel(uint64_t id) override;
  size_t pending() const;
  // Joins the thread (a running callback finishes first) and drops pending
  // timers without running them; afterwards Schedule returns 0. Idempotent;
  // not from a callback of this queue.
  void Stop();

 private:
  void Loop();
  mutable absl::Mutex mu_;
  // Ordered by (time, id).
  TimerSchedule timers_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace fivetran_gateway

#endif  // FIVETRAN_GATEWAY_SERVER_COMMON_TIMER_QUEUE_H_
