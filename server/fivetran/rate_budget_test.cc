#include "server/fivetran/rate_budget.h"

#include <gtest/gtest.h>

namespace fivetran_gateway::fivetran {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

TEST(RateBudgetTest, UnknownUntilAnAnswerCarriesTheHeaders) {
  RateBudget b;
  EXPECT_FALSE(b.BelowReserve());
  EXPECT_EQ(b.View().remaining, -1);
  b.Observe(-1, -1, kT0);  // An answer without the headers changes nothing.
  EXPECT_EQ(b.View().limit, -1);
  b.Observe(20000, 19000, kT0);
  EXPECT_EQ(b.View().limit, 20000);
  EXPECT_EQ(b.View().remaining, 19000);
  EXPECT_FALSE(b.BelowReserve());
}

TEST(RateBudgetTest, TheReserveIsAShareOfTheLimit) {
  RateBudget b(0.05);
  b.Observe(20000, 1000, kT0);  // Exactly 5%: not below.
  EXPECT_FALSE(b.BelowReserve());
  b.Observe(20000, 999, kT0 + absl::Seconds(1));
  EXPECT_TRUE(b.BelowReserve());
  EXPECT_TRUE(b.View().below_reserve);
  // An older answer arriving late does not overwrite a newer one.
  b.Observe(20000, 15000, kT0);
  EXPECT_EQ(b.View().remaining, 999);
}

TEST(RateBudgetTest, A429BlocksUntilItsRetryAfter) {
  RateBudget b;
  EXPECT_FALSE(b.BlockedFor(kT0).has_value());
  b.BlockUntil(kT0 + absl::Seconds(30));
  EXPECT_EQ(b.BlockedFor(kT0), absl::Seconds(30));
  EXPECT_EQ(b.BlockedFor(kT0 + absl::Seconds(29)), absl::Seconds(1));
  EXPECT_FALSE(b.BlockedFor(kT0 + absl::Seconds(30)).has_value());
  b.BlockUntil(kT0 + absl::Seconds(10));  // A shorter block never shortens a longer one.
  EXPECT_EQ(b.View().blocked_until, kT0 + absl::Seconds(30));
  EXPECT_TRUE(b.BelowReserve());  // Nothing is left until then.
}

}  // namespace
}  // namespace fivetran_gateway::fivetran
