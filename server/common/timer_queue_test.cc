#include "server/common/timer_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <vector>

#include "absl/synchronization/notification.h"
#include "server/common/manual_timers.h"

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

TEST(TimerQueueTest, AfterStopScheduleFailsAndDropsTheCallback) {
  TimerQueue q;
  std::atomic<int> ran{0};
  auto alive = std::make_shared<int>(1);
  q.Schedule(absl::Now() + absl::Hours(1), [&ran, alive] { ++ran; });
  EXPECT_EQ(alive.use_count(), 2);
  q.Stop();
  EXPECT_EQ(q.pending(), 0u);
  EXPECT_EQ(alive.use_count(), 1);  // the pending callback was dropped
  EXPECT_EQ(q.Schedule(absl::Now(), [&ran, alive] { ++ran; }), 0u);
  EXPECT_EQ(alive.use_count(), 1);  // and so was the refused one
  EXPECT_FALSE(q.Cancel(0));
  q.Stop();  // idempotent
  EXPECT_EQ(ran.load(), 0);
}

TEST(ManualTimersTest, AdvanceRunsDueTimersInOrderAtTheirOwnTimes) {
  ManualTimers t;
  const absl::Time start = t.Now();
  std::vector<std::pair<int, absl::Duration>> ran;
  t.Schedule(start + absl::Seconds(3), [&] { ran.emplace_back(3, t.Now() - start); });
  t.Schedule(start + absl::Seconds(1), [&] {
    ran.emplace_back(1, t.Now() - start);
    // Scheduled from a callback, due within the same Advance.
    t.Schedule(t.Now() + absl::Seconds(1), [&] { ran.emplace_back(2, t.Now() - start); });
  });
  uint64_t cancelled =
      t.Schedule(start + absl::Seconds(2), [&] { ran.emplace_back(99, absl::ZeroDuration()); });
  EXPECT_TRUE(t.Cancel(cancelled));
  EXPECT_FALSE(t.Cancel(cancelled));

  t.Advance(absl::Milliseconds(999));
  EXPECT_TRUE(ran.empty());
  t.Advance(absl::Seconds(5));
  ASSERT_EQ(ran.size(), 3u);
  EXPECT_EQ(ran[0], std::make_pair(1, absl::Seconds(1)));
  EXPECT_EQ(ran[1], std::make_pair(2, absl::Seconds(2)));
  EXPECT_EQ(ran[2], std::make_pair(3, absl::Seconds(3)));
  EXPECT_EQ(t.Now() - start, absl::Seconds(5) + absl::Milliseconds(999));
  EXPECT_EQ(t.pending(), 0u);
  EXPECT_EQ(t.next_due(), absl::InfiniteFuture());
}

}  // namespace fivetran_gateway
