#include "emulator/rate_limiter.h"

#include "gtest/gtest.h"

namespace fivetran_emulator {
namespace {

TEST(RateLimiter, CountsWithinTheLimitThenRefuses) {
  RateLimiter limiter(2);
  RateDecision peek = limiter.Take(/*count=*/false);
  EXPECT_TRUE(peek.allowed);
  EXPECT_EQ(peek.limit, 2);
  EXPECT_EQ(peek.remaining, 2);
  EXPECT_EQ(limiter.Take(true).remaining, 1);
  EXPECT_EQ(limiter.Take(true).remaining, 0);
  RateDecision refused = limiter.Take(true);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.remaining, 0);
  EXPECT_GT(refused.retry_after_seconds, 3500);  // the window is an hour
  EXPECT_LE(refused.retry_after_seconds, 3600);
  EXPECT_EQ(limiter.Take(false).remaining, 0);  // a refusal is not counted
}

TEST(RateLimiter, SetLimitEmptiesTheWindow) {
  RateLimiter limiter(1);
  EXPECT_TRUE(limiter.Take(true).allowed);
  EXPECT_FALSE(limiter.Take(true).allowed);
  limiter.SetLimit(3);
  RateDecision d = limiter.Take(true);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.limit, 3);
  EXPECT_EQ(d.remaining, 2);
}

}  // namespace
}  // namespace fivetran_emulator
