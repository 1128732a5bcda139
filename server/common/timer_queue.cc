#include "server/common/timer_queue.h"

#include <algorithm>

namespace fivetran_gateway {

uint64_t TimerSchedule::Add(absl::Time when, std::function<void()> fn) {
  uint64_t id = next_id_++;
  timers_.emplace(std::make_pair(when, id), std::move(fn));
  when_[id] = when;
  return id;
}

bool TimerSchedule::Remove(uint64_t id) {
  auto it = when_.find(id);
  if (it == when_.end()) return false;
  timers_.erase({it->second, id});
  when_.erase(it);
  return true;
}

std::function<void()> TimerSchedule::PopDue(absl::Time now, absl::Time* due) {
  if (timers_.empty() || timers_.begin()->first.first > now) return nullptr;
  auto first = timers_.begin();
  if (due != nullptr) *due = first->first.first;
  std::function<void()> fn = std::move(first->second);
  when_.erase(first->first.second);
  timers_.erase(first);
  return fn;
}

absl::Time TimerSchedule::next_due() const {
  return timers_.empty() ? absl::InfiniteFuture() : timers_.begin()->first.first;
}

std::vector<std::function<void()>> TimerSchedule::TakeAll() {
  std::vector<std::function<void()>> out;
  out.reserve(timers_.size());
  for (auto& [key, fn] : timers_) out.push_back(std::move(fn));
  timers_.clear();
  when_.clear();
  return out;
}

TimerQueue::TimerQueue() : thread_([this] { Loop(); }) {}

TimerQueue::~TimerQueue() { Stop(); }

void TimerQueue::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
  // Destroyed outside the lock: a callback's captures may schedule or cancel.
  std::vector<std::function<void()>> dropped;
  {
    absl::MutexLock lock(&mu_);
    dropped = timers_.TakeAll();
  }
}

uint64_t TimerQueue::Schedule(absl::Time when, std::function<void()> fn) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) return timers_.Add(when, std::move(fn));
  }
  return 0;  // Stopped: `fn` is destroyed here, outside the lock.
}

bool TimerQueue::Cancel(uint64_t id) {
  absl::MutexLock lock(&mu_);
  return timers_.Remove(id);
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
        const absl::Time now = absl::Now();
        fn = timers_.PopDue(now);
        if (fn) break;
        const absl::Time wake = std::min(timers_.next_due(), now + absl::Seconds(1));
        auto changed = [this, wake]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return stopping_ || timers_.next_due() < wake;
        };
        mu_.AwaitWithDeadline(absl::Condition(&changed), wake);
      }
    }
    fn();
  }
}

}  // namespace fivetran_gateway
