#include "emulator/thread_pool.h"

#include <atomic>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace fivetran_emulator {
namespace {

// Jobs that block (like idle keep-alive connections) each get a worker of
// their own, up to the maximum; one more waits for a free worker.
TEST(ElasticThreadPoolTest, EveryJobGetsAWorkerUpToTheMaximum) {
  constexpr int kMax = 8;
  ElasticThreadPool pool(kMax);
  absl::Notification release;
  absl::BlockingCounter started(kMax);
  for (int i = 0; i < kMax; ++i) {
    pool.enqueue([&] {
      started.DecrementCount();
      release.WaitForNotification();
    });
  }
  started.Wait();  // all kMax blocked jobs run at once
  EXPECT_EQ(pool.thread_count(), static_cast<size_t>(kMax));

  absl::Notification extra_ran;
  pool.enqueue([&] { extra_ran.Notify(); });
  EXPECT_FALSE(extra_ran.WaitForNotificationWithTimeout(absl::Milliseconds(100)));
  EXPECT_EQ(pool.thread_count(), static_cast<size_t>(kMax));
  release.Notify();
  EXPECT_TRUE(extra_ran.WaitForNotificationWithTimeout(absl::Seconds(10)));
  pool.shutdown();
}

// Idle workers are reused: a job queued while one waits starts no new one.
TEST(ElasticThreadPoolTest, ReusesIdleWorkers) {
  ElasticThreadPool pool(8);
  for (int i = 0; i < 20; ++i) {
    absl::Notification done;
    pool.enqueue([&] { done.Notify(); });
    done.WaitForNotification();
    // The worker goes back to waiting right after the job; wait for that.
    while (pool.idle_count() == 0) absl::SleepFor(absl::Milliseconds(1));
  }
  EXPECT_EQ(pool.thread_count(), 1u);
  pool.shutdown();
}

// shutdown runs what is queued, then joins.
TEST(ElasticThreadPoolTest, ShutdownRunsQueuedJobs) {
  std::atomic<int> ran{0};
  {
    ElasticThreadPool pool(1);
    for (int i = 0; i < 5; ++i) pool.enqueue([&] { ++ran; });
    pool.shutdown();
    pool.shutdown();  // idempotent
  }
  EXPECT_EQ(ran.load(), 5);
}

}  // namespace
}  // namespace fivetran_emulator
