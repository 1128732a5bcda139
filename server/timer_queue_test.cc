#include "server/timer_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

#include "absl/synchronization/notification.h"

namespace fivetran_gateway {
namespace {

TEST(TimerQueueTest, RunsInTimeOrder) {
  TimerQueue q;
  absl::Mutex mu;
  std::vector<int> order;
  absl::Notification done;
  absl::Time now = absl::Now();
  q.Schedule(now + absl::Milliseconds(60), [&] {
    absl::MutexLock l(&mu);
    order.push_back(3);
    done.Notify();
  });
  q.Schedule(now + absl::Milliseconds(20), [&] {
    absl::MutexLock l(&mu);
    order.push_back(1);
  });
  q.Schedule(now + absl::Milliseconds(40), [&] {
    absl::MutexLock l(&mu);
    order.push_back(2);
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(5)));
  absl::MutexLock l(&mu);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(TimerQueueTest, CancelledTimersNeverRun) {
  TimerQueue q;
  std::atomic<int> ran{0};
  uint64_t id = q.Schedule(absl::Now() + absl::Milliseconds(50), [&] { ++ran; });
  EXPECT_TRUE(q.Cancel(id));
  EXPECT_FALSE(q.Cancel(id));
  absl::Notification later;
  q.Schedule(absl::Now() + absl::Milliseconds(100), [&] { later.Notify(); });
  ASSERT_TRUE(later.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_EQ(ran.load(), 0);
  EXPECT_EQ(q.pending(), 0u);
}

TEST(TimerQueueTest, AnEarlierTimerWakesTheLoop) {
  TimerQueue q;
  q.Schedule(absl::Now() + absl::Hours(1), [] {});
  absl::Notification soon;
  absl::Time start = absl::Now();
  q.Schedule(absl::Now() + absl::Milliseconds(10), [&] { soon.Notify(); });
  ASSERT_TRUE(soon.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
}

}  // namespace
}  // namespace fivetran_gateway
