// ManualTimers (testonly): a Timers whose clock moves only when a test
// calls Advance(). Due callbacks run on the thread that advances, in time
// order, so time-dependent code is tested without sleeping.
#ifndef FIVETRAN_GATEWAY_SERVER_COMMON_MANUAL_TIMERS_H_
#define FIVETRAN_GATEWAY_SERVER_COMMON_MANUAL_TIMERS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/common/timer_queue.h"

namespace fivetran_gateway {

class ManualTimers final : public Timers {
 public:
  explicit ManualTimers(absl::Time start = absl::FromUnixSeconds(1'800'000'000)) : now_(start) {}

  absl::Time Now() const override;
  uint64_t Schedule(absl::Time when, std::function<void()> fn) override;
  bool Cancel(uint64_t id) override;

  // Moves the clock forward by `d`, running every timer that falls due, in
  // time order, each with the clock set to its own time. Timers scheduled by
  // those callbacks run too when they fall due within `d`.
  void Advance(absl::Duration d);
  // Runs the timers already due (e.g. scheduled for "now").
  void RunDue() { Advance(absl::ZeroDuration()); }
  size_t pending() const;
  // When the next timer is due; InfiniteFuture when none is pending.
  absl::Time next_due() const;

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
  TimerSchedule timers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace fivetran_gateway

#endif  // FIVETRAN_GATEWAY_SERVER_COMMON_MANUAL_TIMERS_H_
