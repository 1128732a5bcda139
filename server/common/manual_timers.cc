#include "server/common/manual_timers.h"

#include <algorithm>

namespace fivetran_gateway {

absl::Time ManualTimers::Now() const {
  absl::MutexLock lock(&mu_);
  return now_;
}

uint64_t ManualTimers::Schedule(absl::Time when, std::function<void()> fn) {
  absl::MutexLock lock(&mu_);
  return timers_.Add(std::max(when, now_), std::move(fn));
}

bool ManualTimers::Cancel(uint64_t id) {
  absl::MutexLock lock(&mu_);
  return timers_.Remove(id);
}

void ManualTimers::Advance(absl::Duration d) {
  absl::Time end;
  {
    absl::MutexLock lock(&mu_);
    end = now_ + d;
  }
  for (;;) {
    std::function<void()> fn;
    {
      absl::MutexLock lock(&mu_);
      absl::Time due;
      fn = timers_.PopDue(end, &due);
      if (!fn) {
        now_ = end;
        return;
      }
      now_ = std::max(now_, due);
    }
    fn();
  }
}

size_t ManualTimers::pending() const {
  absl::MutexLock lock(&mu_);
  return timers_.size();
}

absl::Time ManualTimers::next_due() const {
  absl::MutexLock lock(&mu_);
  return timers_.next_due();
}

}  // namespace fivetran_gateway
