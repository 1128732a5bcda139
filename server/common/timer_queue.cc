#include "server/common/timer_queue.h"

namespace fivetran_gateway {

TimerQueue::TimerQueue() : thread_([this] { Loop(); }) {}

TimerQueue::~TimerQueue() { Stop(); }

void TimerQueue::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
  // Destroyed outside the lock: a callback's captures may schedule or cancel.
  std::map<std::pair<absl::Time, uint64_t>, std::function<void()>> dropped;
  {
    absl::MutexLock lock(&mu_);
    dropped.swap(timers_);
    when_.clear();
  }
}

uint64_t TimerQueue::Schedule(absl::Time when, std::function<void()> fn) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      uint64_t id = next_id_++;
      timers_.emplace(std::make_pair(when, id), std::move(fn));
      when_[id] = when;
      return id;
    }
  }
  return 0;  // Stopped: `fn` is destroyed here, outside the lock.
}

bool TimerQueue::Cancel(uint64_t id) {
  absl::MutexLock lock(&mu_);
  auto it = when_.find(id);
  if (it == when_.end()) return false;
  timers_.erase({it->second, id});
  when_.erase(it);
  return true;
}

size_t TimerQueue::pending() const {
  absl::MutexLock lock(&mu_);
  return timers_.size();
}

void TimerQueue::Loop() {
  for (;;) {
    std::function<void()> fn;
    {
      absl::MutexLock lock(&mu_);
      for (;;) {
        if (stopping_) return;
        absl::Time now = absl::Now();
        if (!timers_.empty() && timers_.begin()->first.first <= now) break;
        absl::Time wake = timers_.empty() ? now + absl::Seconds(1) : timers_.begin()->first.first;
        auto changed = [this, wake]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return stopping_ || (!timers_.empty() && timers_.begin()->first.first < wake);
        };
        mu_.AwaitWithDeadline(absl::Condition(&changed), wake);
      }
      auto first = timers_.begin();
      fn = std::move(first->second);
      when_.erase(first->first.second);
      timers_.erase(first);
    }
    fn();
  }
}

}  // namespace fivetran_gateway
