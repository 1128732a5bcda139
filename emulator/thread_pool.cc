#include "emulator/thread_pool.h"

#include <algorithm>
#include <utility>

namespace fivetran_emulator {

ElasticThreadPool::ElasticThreadPool(size_t max_threads)
    : max_threads_(std::max<size_t>(max_threads, 1)) {}

ElasticThreadPool::~ElasticThreadPool() { shutdown(); }

void ElasticThreadPool::enqueue(std::function<void()> fn) {
  absl::MutexLock lock(&mu_);
  jobs_.push_back(std::move(fn));
  // Every queued job needs a worker of its own: start one unless enough are
  // idle (a worker that is still starting is not counted: at worst one extra).
  if (!stopping_ && idle_ < jobs_.size() && threads_.size() < max_threads_) {
    threads_.emplace_back([this] { Work(); });
  }
}

void ElasticThreadPool::Work() {
  mu_.Lock();
  for (;;) {
    ++idle_;
    mu_.Await(absl::Condition(this, &ElasticThreadPool::HasWorkOrStop));
    --idle_;
    if (jobs_.empty()) break;  // stopping, nothing left to run
    std::function<void()> fn = std::move(jobs_.front());
    jobs_.pop_front();
    mu_.Unlock();
    fn();
    mu_.Lock();
  }
  mu_.Unlock();
}

void ElasticThreadPool::shutdown() {
  std::vector<std::thread> threads;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    threads.swap(threads_);
  }
  for (std::thread& t : threads) t.join();
}

size_t ElasticThreadPool::thread_count() const {
  absl::MutexLock lock(&mu_);
  return threads_.size();
}

size_t ElasticThreadPool::idle_count() const {
  absl::MutexLock lock(&mu_);
  return idle_;
}

}  // namespace fivetran_emulator
