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
  std::map<std::pair<absl::Time, uint64_t>, std::function<void()>> timers_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, absl::Time> when_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace fivetran_gateway

#endif  // FIVETRAN_GATEWAY_SERVER_COMMON_TIMER_QUEUE_H_
