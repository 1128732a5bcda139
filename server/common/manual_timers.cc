#include "server/common/manual_timers.h"

#include <algorithm>

namespace fivetran_gateway {

absl::Time ManualTimers::Now() const {
  absl::MutexLock lock(&mu_);
  return now_;
}

uint64_t ManualTimers::Schedule(absl::Time when, std::function<void()> fn) {
  absl::MutexLock lock(&mu_);
  uint64_t id = next_id_++;
  when = std::max(when, now_);
  timers_.emplace(std::make_pair(when, id), std::move(fn));
  when_[id] = when;
  return id;
}

bool ManualTimers::Cancel(uint64_t id) {
  absl::MutexLock lock(&mu_);
  auto it = when_.find(id);
  if (it == when_.end()) return false;
  timers_.erase({it->second, id});
  when_.erase(it);
  return true;
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
      if (timers_.empty() || timers_.begin()->first.first > end) {
        now_ = end;
        return;
      }
      auto first = timers_.begin();
      now_ = std::max(now_, first->first.first);
      fn = std::move(first->second);
      when_.erase(first->first.second);
      timers_.erase(first);
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
  return timers_.empty() ? absl::InfiniteFuture() : timers_.begin()->first.first;
}

}  // namespace fivetran_gateway
