#include "server/idempotency.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "fivetran/gateway/v1/connection_service.pb.h"
#include "server/common/status.h"

namespace fivetran_gateway {
namespace {

namespace v1 = ::fivetran::gateway::v1;
using Verdict = IdempotencyCache::Verdict;
using Result = IdempotencyCache::Result;

// A clock the test moves by hand.
struct FakeClock {
  absl::Time now = absl::FromUnixSeconds(1790000000);
  std::function<absl::Time()> Fn() {
    return [this] { return now; };
  }
};

Result Ok(const std::string& response) {
  Result r;
  r.response = response;
  r.upstream.http_status = 201;
  r.upstream.attempts = 1;
  return r;
}

Result Error(absl::Status status, int http_status) {
  Result r;
  r.status = std::move(status);
  r.upstream.http_status = http_status;
  return r;
}

const IdempotencyCache::Key kKey{"CreateConnection", "req-1"};

TEST(RequestFingerprintTest, EqualRequestsEqualFingerprintsWhateverTheMapOrder) {
  v1::CreateConnectionRequest a;
  a.set_group_id("g");
  a.set_service("postgres");
  auto& fa = *a.mutable_config()->mutable_fields();
  for (int i = 0; i < 50; ++i) fa["k" + std::to_string(i)].set_number_value(i);
  v1::CreateConnectionRequest b;
  b.set_group_id("g");
  b.set_service("postgres");
  auto& fb = *b.mutable_config()->mutable_fields();
  for (int i = 49; i >= 0; --i) fb["k" + std::to_string(i)].set_number_value(i);
  EXPECT_EQ(RequestFingerprint(a), RequestFingerprint(b));
  EXPECT_EQ(RequestFingerprint(a).size(), 32u);  // SHA-256.
  b.set_service("mysql");
  EXPECT_NE(RequestFingerprint(a), RequestFingerprint(b));
}

TEST(RequestFingerprintTest, DependsOnTheMessageType) {
  v1::CreateConnectionRequest a;
  v1::CreateFtpConnectionRequest b;
  EXPECT_NE(RequestFingerprint(a), RequestFingerprint(b));
}

TEST(IdempotencyCacheTest, FirstStartsThenReplays) {
  IdempotencyCache cache;
  int got = 0;
  auto t = cache.Join(kKey, "fp", [&](const Result& r) {
    ++got;
    EXPECT_EQ(r.response, "resp");
  });
  EXPECT_EQ(t.verdict, Verdict::kStart);
  cache.Finish(kKey, Ok("resp"));
  EXPECT_EQ(got, 1);
  auto again = cache.Join(kKey, "fp", [&](const Result&) { ADD_FAILURE() << "not kept"; });
  EXPECT_EQ(again.verdict, Verdict::kReplay);
  EXPECT_EQ(again.replay.response, "resp");
  EXPECT_TRUE(again.replay.status.ok());
}

TEST(IdempotencyCacheTest, DuplicatesInFlightWaitForTheFirst) {
  IdempotencyCache cache;
  std::vector<std::string> got;
  auto first = cache.Join(kKey, "fp", [&](const Result& r) { got.push_back("1:" + r.response); });
  auto second = cache.Join(kKey, "fp", [&](const Result& r) { got.push_back("2:" + r.response); });
  auto third = cache.Join(kKey, "fp", [&](const Result& r) { got.push_back("3:" + r.response); });
  EXPECT_EQ(first.verdict, Verdict::kStart);
  EXPECT_EQ(second.verdict, Verdict::kWait);
  EXPECT_EQ(third.verdict, Verdict::kWait);
  EXPECT_TRUE(got.empty());
  cache.Finish(kKey, Ok("x"));
  EXPECT_EQ(got, (std::vector<std::string>{"1:x", "2:x", "3:x"}));
}

TEST(IdempotencyCacheTest, SameIdDifferentRequestIsAMismatch) {
  IdempotencyCache cache;
  cache.Join(kKey, "fp", [](const Result&) {});
  EXPECT_EQ(cache.Join(kKey, "other", [](const Result&) {}).verdict, Verdict::kMismatch);
  cache.Finish(kKey, Ok("x"));
  EXPECT_EQ(cache.Join(kKey, "other", [](const Result&) {}).verdict, Verdict::kMismatch);
}

TEST(IdempotencyCacheTest, MethodsAndIdsAreSeparateKeys) {
  IdempotencyCache cache;
  cache.Join(kKey, "fp", [](const Result&) {});
  EXPECT_EQ(cache.Join({"CreateFtpConnection", "req-1"}, "fp2", [](const Result&) {}).verdict,
            Verdict::kStart);
  EXPECT_EQ(cache.Join({"CreateConnection", "req-2"}, "fp3", [](const Result&) {}).verdict,
            Verdict::kStart);
}

TEST(IdempotencyCacheTest, LeaveRemovesOnlyThatWaiter) {
  IdempotencyCache cache;
  int first = 0, second = 0;
  auto a = cache.Join(kKey, "fp", [&](const Result&) { ++first; });
  auto b = cache.Join(kKey, "fp", [&](const Result&) { ++second; });
  EXPECT_TRUE(cache.Leave(kKey, a.waiter_id));
  EXPECT_FALSE(cache.Leave(kKey, a.waiter_id));
  cache.Finish(kKey, Ok("x"));
  EXPECT_EQ(first, 0);
  EXPECT_EQ(second, 1);
  EXPECT_FALSE(cache.Leave(kKey, b.waiter_id));  // Already served.
  // The result is kept even though the first caller left.
  EXPECT_EQ(cache.Join(kKey, "fp", [](const Result&) {}).verdict, Verdict::kReplay);
}

TEST(IdempotencyCacheTest, WhichFailuresAreKept) {
  absl::Status not_sent = MakeError(absl::StatusCode::kUnavailable, "refused",
                                    "FIVETRAN_UNAVAILABLE", {{"outcome", "not_sent"}});
  absl::Status unknown = MakeError(absl::StatusCode::kUnavailable, "503", "FIVETRAN_UNAVAILABLE",
                                   {{"outcome", "unknown"}});
  absl::Status invalid =
      MakeError(absl::StatusCode::kInvalidArgument, "bad", "FIVETRAN_INVALID_INPUT");
  absl::Status deadline = MakeError(absl::StatusCode::kDeadlineExceeded, "slow",
                                    "DEADLINE_EXCEEDED", {{"outcome", "unknown"}});
  EXPECT_TRUE(IdempotencyCache::IsFinal(Ok("x")));
  EXPECT_FALSE(IdempotencyCache::IsFinal(Error(not_sent, 0)));
  EXPECT_FALSE(IdempotencyCache::IsFinal(Error(invalid, 400)));
  EXPECT_FALSE(IdempotencyCache::IsFinal(Error(invalid, 404)));
  EXPECT_FALSE(IdempotencyCache::IsFinal(Error(invalid, 409)));
  EXPECT_FALSE(IdempotencyCache::IsFinal(Error(invalid, 429)));
  EXPECT_TRUE(IdempotencyCache::IsFinal(Error(unknown, 503)));
  EXPECT_TRUE(IdempotencyCache::IsFinal(Error(unknown, 500)));
  EXPECT_TRUE(IdempotencyCache::IsFinal(Error(unknown, 0)));  // Dropped connection.
  EXPECT_TRUE(IdempotencyCache::IsFinal(Error(deadline, 0)));
}

TEST(IdempotencyCacheTest, AFailureThatIsNotKeptStillReachesWaitersThenAllowsARetry) {
  IdempotencyCache cache;
  absl::Status refused = MakeError(absl::StatusCode::kUnavailable, "refused",
                                   "FIVETRAN_UNAVAILABLE", {{"outcome", "not_sent"}});
  int got = 0;
  cache.Join(kKey, "fp", [&](const Result& r) { got += r.status.code() == refused.code(); });
  cache.Join(kKey, "fp", [&](const Result& r) { got += r.status.code() == refused.code(); });
  cache.Finish(kKey, Error(refused, 0));
  EXPECT_EQ(got, 2);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.Join(kKey, "fp", [](const Result&) {}).verdict, Verdict::kStart);
  // Even a different request may use the id now.
  cache.Finish(kKey, Error(refused, 0));
  EXPECT_EQ(cache.Join(kKey, "other", [](const Result&) {}).verdict, Verdict::kStart);
}

TEST(IdempotencyCacheTest, ResultsExpireAfterTheWindow) {
  FakeClock clock;
  IdempotencyCache cache({absl::Minutes(10), 100}, clock.Fn());
  cache.Join(kKey, "fp", [](const Result&) {});
  clock.now += absl::Minutes(30);  // Time in flight does not count.
  cache.Finish(kKey, Ok("x"));
  clock.now += absl::Minutes(10) - absl::Seconds(1);
  EXPECT_EQ(cache.Join(kKey, "fp", [](const Result&) {}).verdict, Verdict::kReplay);
  clock.now += absl::Seconds(1);
  EXPECT_EQ(cache.Join(kKey, "other", [](const Result&) {}).verdict, Verdict::kStart);
}

TEST(IdempotencyCacheTest, BoundedOldestFinishedEvictedInFlightKept) {
  FakeClock clock;
  IdempotencyCache cache({absl::Minutes(10), 3}, clock.Fn());
  cache.Join({"M", "in-flight"}, "fp", [](const Result&) {});
  for (int i = 0; i < 5; ++i) {
    IdempotencyCache::Key k{"M", "done-" + std::to_string(i)};
    cache.Join(k, "fp", [](const Result&) {});
    cache.Finish(k, Ok(std::to_string(i)));
    clock.now += absl::Seconds(1);
    EXPECT_LE(cache.size(), 3u);
  }
  EXPECT_EQ(cache.Join({"M", "in-flight"}, "fp", [](const Result&) {}).verdict, Verdict::kWait);
  EXPECT_EQ(cache.Join({"M", "done-4"}, "fp", [](const Result&) {}).verdict, Verdict::kReplay);
  EXPECT_EQ(cache.Join({"M", "done-3"}, "fp", [](const Result&) {}).verdict, Verdict::kReplay);
  EXPECT_EQ(cache.Join({"M", "done-0"}, "x", [](const Result&) {}).verdict, Verdict::kStart);
}

TEST(IdempotencyCacheTest, ConcurrentDuplicatesStartOnce) {
  IdempotencyCache cache;
  std::atomic<int> starts{0}, served{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 20; ++i) {
    threads.emplace_back([&] {
      auto t = cache.Join(kKey, "fp", [&](const Result&) { ++served; });
      if (t.verdict == Verdict::kStart) {
        ++starts;
        absl::SleepFor(absl::Milliseconds(20));
        cache.Finish(kKey, Ok("x"));
      } else if (t.verdict == Verdict::kReplay) {
        ++served;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(starts.load(), 1);
  EXPECT_EQ(served.load(), 20);
}

TEST(IdempotencyCacheTest, HasWaitersUntilTheResultOrTheLastOneLeaves) {
  IdempotencyCache cache;
  EXPECT_FALSE(cache.HasWaiters(kKey));
  auto first = cache.Join(kKey, "fp", [](const Result&) {});
  EXPECT_TRUE(cache.HasWaiters(kKey));
  EXPECT_TRUE(cache.Leave(kKey, first.waiter_id));
  EXPECT_FALSE(cache.HasWaiters(kKey));
  cache.Join(kKey, "fp", [](const Result&) {});
  cache.Finish(kKey, Ok("c1"));
  EXPECT_FALSE(cache.HasWaiters(kKey));  // Done: replayed, nobody waits.
}

TEST(IdempotencyCacheTest, FinishCanOverrideWhetherTheResultIsKept) {
  IdempotencyCache cache;
  cache.Join(kKey, "fp", [](const Result&) {});
  // A success that must not be kept (e.g. no caller left to hand it to).
  cache.Finish(kKey, Ok("c1"), /*keep=*/false);
  EXPECT_EQ(cache.Join(kKey, "fp", [](const Result&) {}).verdict, Verdict::kStart);
  // A failure that must be kept (another replica's "unknown" outcome).
  cache.Finish(kKey,
               Error(MakeError(absl::StatusCode::kInvalidArgument, "x", "INVALID_FIELD"), 400),
               /*keep=*/true);
  EXPECT_EQ(cache.Join(kKey, "fp", [](const Result&) {}).verdict, Verdict::kReplay);
}

}  // namespace
}  // namespace fivetran_gateway
