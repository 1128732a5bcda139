// TimerQueue: one thread that runs short callbacks at given times. Used for
// sync polling and watch deadlines, so that no thread sleeps per watch.
// Callbacks must not block; they run on the queue's thread.
#ifndef FIVETRAN_GATEWAY_SERVER_TIMER_QUEUE_H_
#define FIVETRAN_GATEWAY_SERVER_TIMER_QUEUE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace fivetran_gateway {

class TimerQueue {
 public:
  TimerQueue();
  ~TimerQueue();  // Drops pending timers without running them.
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  // Runs `fn` at `when` (at once if it is past). Returns an id for Cancel.
  uint64_t Schedule(absl::Time when, std::function<void()> fn);
  // Removes a timer that has not run yet; false when it already ran or ran
  // out. Never waits for a running callback.
  bool Cancel(uint64_t id);
  size_t pending() const;

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

#endif  // FIVETRAN_GATEWAY_SERVER_TIMER_QUEUE_H_
