#include "server/fivetran/retry_policy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "server/fivetran/errors.h"

namespace fivetran_gateway::fivetran {
namespace {

using Action = RetryDecision::Action;

const absl::Time kNow = absl::FromUnixSeconds(1790000000);

HttpResult Http(int status, std::string retry_after = "") {
  HttpResult r;
  r.ok = true;
  r.response.status = status;
  r.response.retry_after = std::move(retry_after);
  return r;
}

HttpResult Transport(TransportFailure failure) {
  HttpResult r;
  r.error = {failure, "x"};
  return r;
}

std::string HttpDate(absl::Time t) {
  return absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", t, absl::UTCTimeZone());
}

TEST(ClassifyAttemptTest, GetsAreRetriedOnTransientFailures) {
  EXPECT_EQ(ClassifyAttempt("GET", Transport(TransportFailure::kNotSent)),
            RetryableFailure::kNotSent);
  EXPECT_EQ(ClassifyAttempt("GET", Transport(TransportFailure::kMaybeSent)),
            RetryableFailure::kMaybeSent);
  EXPECT_EQ(ClassifyAttempt("GET", Http(429)), RetryableFailure::kRateLimited);
  EXPECT_EQ(ClassifyAttempt("GET", Http(500)), RetryableFailure::kServerError);
  for (int s : {502, 503, 504}) {
    EXPECT_EQ(ClassifyAttempt("GET", Http(s)), RetryableFailure::kUnavailable) << s;
  }
}

TEST(ClassifyAttemptTest, GetsAreNotRetriedOnAnswersOrFinalFailures) {
  for (int s : {200, 201, 400, 401, 403, 404, 405, 409, 501, 505}) {
    EXPECT_EQ(ClassifyAttempt("GET", Http(s)), RetryableFailure::kNo) << s;
  }
  for (TransportFailure f : {TransportFailure::kDeadlineExceeded, TransportFailure::kCancelled,
                             TransportFailure::kResponseTooLarge}) {
    EXPECT_EQ(ClassifyAttempt("GET", Transport(f)), RetryableFailure::kNo);
  }
}

TEST(ClassifyAttemptTest, PostsOnlyWhenNeverSentOrRateLimited) {
  EXPECT_EQ(ClassifyAttempt("POST", Transport(TransportFailure::kNotSent)),
            RetryableFailure::kNotSent);
  EXPECT_EQ(ClassifyAttempt("POST", Http(429)), RetryableFailure::kRateLimited);
  EXPECT_EQ(ClassifyAttempt("POST", Transport(TransportFailure::kMaybeSent)),
            RetryableFailure::kNo);
  EXPECT_EQ(ClassifyAttempt("POST", Transport(TransportFailure::kDeadlineExceeded)),
            RetryableFailure::kNo);
  for (int s : {500, 502, 503, 504}) {
    EXPECT_EQ(ClassifyAttempt("POST", Http(s)), RetryableFailure::kNo) << s;
  }
}

TEST(BackoffTest, CeilingGrowsExponentiallyUpToTheCap) {
  RetryPolicy p;
  p.initial_backoff = absl::Milliseconds(100);
  p.backoff_multiplier = 2;
  p.max_backoff = absl::Milliseconds(1000);
  EXPECT_EQ(BackoffCeiling(p, 1), absl::Milliseconds(100));
  EXPECT_EQ(BackoffCeiling(p, 2), absl::Milliseconds(200));
  EXPECT_EQ(BackoffCeiling(p, 3), absl::Milliseconds(400));
  EXPECT_EQ(BackoffCeiling(p, 4), absl::Milliseconds(800));
  EXPECT_EQ(BackoffCeiling(p, 5), absl::Milliseconds(1000));
  EXPECT_EQ(BackoffCeiling(p, 1000000), absl::Milliseconds(1000));
  EXPECT_EQ(BackoffCeiling(p, 0), absl::Milliseconds(100));
}

TEST(BackoffTest, FullJitterStaysInZeroToCeiling) {
  absl::Duration ceiling = absl::Milliseconds(800);
  EXPECT_EQ(FullJitter(ceiling, 0), absl::ZeroDuration());
  EXPECT_EQ(FullJitter(ceiling, 0.5), absl::Milliseconds(400));
  EXPECT_LT(FullJitter(ceiling, 1.0), ceiling);
  EXPECT_LT(FullJitter(ceiling, 7.0), ceiling);
  EXPECT_EQ(FullJitter(ceiling, -1), absl::ZeroDuration());
  EXPECT_EQ(FullJitter(ceiling, std::nan("")), absl::ZeroDuration());
  for (int i = 0; i < 100; ++i) {
    absl::Duration d = FullJitter(ceiling, i / 100.0);
    EXPECT_GE(d, absl::ZeroDuration());
    EXPECT_LT(d, ceiling);
  }
}

TEST(DecideRetryTest, BackoffWithJitterWhenThereIsNoRetryAfter) {
  RetryPolicy p;
  p.initial_backoff = absl::Milliseconds(100);
  p.max_backoff = absl::Seconds(10);
  absl::Time deadline = kNow + absl::Seconds(30);
  RetryDecision d = DecideRetry(p, "GET", Http(503), 1, kNow, deadline, 0.5);
  EXPECT_EQ(d.action, Action::kRetry);
  EXPECT_EQ(d.delay, absl::Milliseconds(50));
  EXPECT_FALSE(d.retry_after.has_value());
  d = DecideRetry(p, "GET", Http(503), 2, kNow, deadline, 0.5);
  EXPECT_EQ(d.action, Action::kRetry);
  EXPECT_EQ(d.delay, absl::Milliseconds(100));
}

TEST(DecideRetryTest, BoundedAttempts) {
  RetryPolicy p;
  p.max_attempts = 3;
  absl::Time deadline = kNow + absl::Seconds(30);
  EXPECT_EQ(DecideRetry(p, "GET", Http(503), 2, kNow, deadline, 0.1).action, Action::kRetry);
  EXPECT_EQ(DecideRetry(p, "GET", Http(503), 3, kNow, deadline, 0.1).action, Action::kStop);
  p.max_attempts = 1;
  EXPECT_EQ(DecideRetry(p, "GET", Http(503), 1, kNow, deadline, 0.1).action, Action::kStop);
  p.max_attempts = 0;  // Same as 1.
  EXPECT_EQ(DecideRetry(p, "GET", Http(503), 1, kNow, deadline, 0.1).action, Action::kStop);
}

TEST(DecideRetryTest, A500IsRetriedAtMostOnce) {  // Field report B8.
  RetryPolicy p;
  p.max_attempts = 5;
  absl::Time deadline = kNow + absl::Seconds(30);
  EXPECT_EQ(DecideRetry(p, "GET", Http(500), 1, kNow, deadline, 0.1).action, Action::kRetry);
  EXPECT_EQ(DecideRetry(p, "GET", Http(500), 2, kNow, deadline, 0.1).action, Action::kStop);
  EXPECT_EQ(DecideRetry(p, "GET", Http(503), 2, kNow, deadline, 0.1).action, Action::kRetry);
}

TEST(DecideRetryTest, SuccessAndFinalErrorsStop) {
  RetryPolicy p;
  absl::Time deadline = kNow + absl::Seconds(30);
  EXPECT_EQ(DecideRetry(p, "GET", Http(200), 1, kNow, deadline, 0.1).action, Action::kStop);
  EXPECT_EQ(DecideRetry(p, "GET", Http(404), 1, kNow, deadline, 0.1).action, Action::kStop);
  EXPECT_EQ(DecideRetry(p, "POST", Http(503, "1"), 1, kNow, deadline, 0.1).action, Action::kStop);
  EXPECT_EQ(DecideRetry(p, "POST", Transport(TransportFailure::kMaybeSent), 1, kNow, deadline, 0.1)
                .action,
            Action::kStop);
}

TEST(DecideRetryTest, PostsAreRetriedWhenRefusedOrRateLimited) {
  RetryPolicy p;
  absl::Time deadline = kNow + absl::Seconds(30);
  EXPECT_EQ(
      DecideRetry(p, "POST", Transport(TransportFailure::kNotSent), 1, kNow, deadline, 0.1).action,
      Action::kRetry);
  RetryDecision d = DecideRetry(p, "POST", Http(429, "2"), 1, kNow, deadline, 0.1);
  EXPECT_EQ(d.action, Action::kRetry);
  EXPECT_EQ(d.delay, absl::Seconds(2));
}

TEST(DecideRetryTest, RetryAfterDeltaSecondsIsTheDelay) {
  RetryPolicy p;
  absl::Time deadline = kNow + absl::Seconds(30);
  RetryDecision d = DecideRetry(p, "GET", Http(429, "1"), 1, kNow, deadline, 0.9);
  EXPECT_EQ(d.action, Action::kRetry);
  EXPECT_EQ(d.delay, absl::Seconds(1));
  EXPECT_EQ(d.retry_after, absl::Seconds(1));
  // On a 503 too.
  d = DecideRetry(p, "GET", Http(503, "3"), 1, kNow, deadline, 0.9);
  EXPECT_EQ(d.action, Action::kRetry);
  EXPECT_EQ(d.delay, absl::Seconds(3));
  // "0": retry at once.
  d = DecideRetry(p, "GET", Http(429, "0"), 1, kNow, deadline, 0.9);
  EXPECT_EQ(d.action, Action::kRetry);
  EXPECT_EQ(d.delay, absl::ZeroDuration());
}

TEST(DecideRetryTest, RetryAfterHttpDate) {
  RetryPolicy p;
  absl::Time deadline = kNow + absl::Seconds(30);
  RetryDecision d =
      DecideRetry(p, "GET", Http(429, HttpDate(kNow + absl::Seconds(4))), 1, kNow, deadline, 0.9);
  EXPECT_EQ(d.action, Action::kRetry);
  EXPECT_EQ(d.delay, absl::Seconds(4));
  // A date in the past: no wait.
  d = DecideRetry(p, "GET", Http(503, HttpDate(kNow - absl::Hours(1))), 1, kNow, deadline, 0.9);
  EXPECT_EQ(d.action, Action::kRetry);
  EXPECT_EQ(d.delay, absl::ZeroDuration());
  // Far in the future: stop with RetryInfo.
  d = DecideRetry(p, "GET", Http(429, HttpDate(kNow + absl::Hours(1))), 1, kNow, deadline, 0.9);
  EXPECT_EQ(d.action, Action::kStopRetryAfterTooLong);
  EXPECT_EQ(d.retry_after, absl::Hours(1));
}

TEST(DecideRetryTest, MissingOrGarbageRetryAfterFallsBackToBackoff) {
  RetryPolicy p;
  p.initial_backoff = absl::Milliseconds(100);
  absl::Time deadline = kNow + absl::Seconds(30);
  for (const char* garbage :
       {"", "soon", "-5", "1.5", "99999999999", "Wed, 32 Foo 2026 99:00:00 GMT", "1 2"}) {
    RetryDecision d = DecideRetry(p, "GET", Http(429, garbage), 1, kNow, deadline, 0.5);
    EXPECT_EQ(d.action, Action::kRetry) << garbage;
    EXPECT_EQ(d.delay, absl::Milliseconds(50)) << garbage;
    EXPECT_FALSE(d.retry_after.has_value()) << garbage;
  }
}

TEST(DecideRetryTest, RetryAfterLongerThanTheDeadlineStopsAtOnce) {
  RetryPolicy p;
  absl::Time deadline = kNow + absl::Seconds(2);
  RetryDecision d = DecideRetry(p, "GET", Http(429, "3600"), 1, kNow, deadline, 0.1);
  EXPECT_EQ(d.action, Action::kStopRetryAfterTooLong);
  EXPECT_EQ(d.retry_after, absl::Seconds(3600));
  // Equal to the time left is too long as well: nothing could be sent after it.
  d = DecideRetry(p, "GET", Http(503, "2"), 1, kNow, deadline, 0.1);
  EXPECT_EQ(d.action, Action::kStopRetryAfterTooLong);
  // Even with attempts left over and for a POST.
  d = DecideRetry(p, "POST", Http(429, "10"), 1, kNow, deadline, 0.1);
  EXPECT_EQ(d.action, Action::kStopRetryAfterTooLong);
}

TEST(DecideRetryTest, RetryAfterLongerThanMaxRetryWaitStopsAtOnce) {
  RetryPolicy p;
  p.max_retry_wait = absl::Seconds(30);
  absl::Time deadline = kNow + absl::Hours(2);
  EXPECT_EQ(DecideRetry(p, "GET", Http(429, "31"), 1, kNow, deadline, 0.1).action,
            Action::kStopRetryAfterTooLong);
  EXPECT_EQ(DecideRetry(p, "GET", Http(429, "30"), 1, kNow, deadline, 0.1).action, Action::kRetry);
}

TEST(DecideRetryTest, NeverSleepsPastTheDeadline) {
  RetryPolicy p;
  p.initial_backoff = absl::Seconds(1);
  // A backoff of 0.9 s with 0.5 s left: stop with the last error.
  RetryDecision d = DecideRetry(p, "GET", Http(503), 1, kNow, kNow + absl::Milliseconds(500), 0.9);
  EXPECT_EQ(d.action, Action::kStop);
  // With 1 s left it fits.
  d = DecideRetry(p, "GET", Http(503), 1, kNow, kNow + absl::Seconds(1), 0.9);
  EXPECT_EQ(d.action, Action::kRetry);
  EXPECT_LT(kNow + d.delay, kNow + absl::Seconds(1));
  // Deadline already passed.
  d = DecideRetry(p, "GET", Transport(TransportFailure::kNotSent), 1, kNow, kNow, 0);
  EXPECT_EQ(d.action, Action::kStop);
}

TEST(DecideRetryTest, NoDeadlineMeansOnlyAttemptsBound) {
  RetryPolicy p;
  RetryDecision d = DecideRetry(p, "GET", Http(502), 1, kNow, absl::InfiniteFuture(), 0.3);
  EXPECT_EQ(d.action, Action::kRetry);
  EXPECT_LT(d.delay, p.initial_backoff);
}

}  // namespace
}  // namespace fivetran_gateway::fivetran
