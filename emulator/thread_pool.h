// The emulator's HTTP worker pool. cpp-httplib serves one connection per
// worker for the connection's whole life, idle keep-alive time included, so a
// fixed pool of N workers stalls connection N+1 until an idle one times out
// (--keep_alive_timeout_sec). This pool starts a worker whenever a connection
// arrives and none is free, up to `max_threads`; workers are started on
// demand and kept until shutdown.
#ifndef EMULATOR_THREAD_POOL_H_
#define EMULATOR_THREAD_POOL_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "httplib.h"

namespace fivetran_emulator {

class ElasticThreadPool final : public httplib::TaskQueue {
 public:
  explicit ElasticThreadPool(size_t max_threads);
  ~ElasticThreadPool() override;
  ElasticThreadPool(const ElasticThreadPool&) = delete;
  ElasticThreadPool& operator=(const ElasticThreadPool&) = delete;

  // Runs `fn` on a free worker, on a new one if none is free and fewer than
  // max_threads exist, else as soon as a worker is free.
  void enqueue(std::function<void()> fn) override ABSL_LOCKS_EXCLUDED(mu_);
  // Runs the queued jobs, then joins every worker. Idempotent.
  void shutdown() override ABSL_LOCKS_EXCLUDED(mu_);

  // Workers started so far, and those waiting for a job.
  size_t thread_count() const ABSL_LOCKS_EXCLUDED(mu_);
  size_t idle_count() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Work() ABSL_LOCKS_EXCLUDED(mu_);
  bool HasWorkOrStop() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !jobs_.empty() || stopping_;
  }

  const size_t max_threads_;
  mutable absl::Mutex mu_;
  std::deque<std::function<void()>> jobs_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
  size_t idle_ ABSL_GUARDED_BY(mu_) = 0;  // workers waiting for a job
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace fivetran_emulator

#endif  // EMULATOR_THREAD_POOL_H_
