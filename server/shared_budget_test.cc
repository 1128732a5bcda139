// SharedBudget: two replicas' budgets of one credential set, linked through
// one in-memory StateStore.
#include "server/shared_budget.h"

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "server/state/memory_store.h"

namespace fivetran_gateway {
namespace {

struct Replica {
  explicit Replica(state::StateStore* store, const std::string& scope = "scope1")
      : budget(std::make_shared<fivetran::RateBudget>(0.05)),
        link(std::make_shared<SharedBudget>(store, scope, budget)) {
    budget->set_fleet(link);
  }
  bool Refresh() {
    bool ran = false;
    link->Refresh([&] { ran = true; });
    return ran;
  }
  std::shared_ptr<fivetran::RateBudget> budget;
  std::shared_ptr<SharedBudget> link;
};

TEST(SharedBudget, A429LearnedByOneReplicaBlocksTheOthers) {
  state::InMemoryStateStore store;
  Replica a(&store), b(&store), other_credentials(&store, "scope2");
  const absl::Time until = absl::Now() + absl::Minutes(5);
  a.budget->BlockUntil(until);
  a.link->Publish(a.budget->View(), /*blocked_changed=*/true);

  EXPECT_FALSE(b.budget->BlockedFor(absl::Now()).has_value());
  ASSERT_TRUE(b.Refresh());
  std::optional<absl::Duration> wait = b.budget->BlockedFor(absl::Now());
  ASSERT_TRUE(wait.has_value());
  EXPECT_GT(*wait, absl::Minutes(4));
  EXPECT_LE(*wait, absl::Minutes(5));
  // Another credential set has its own budget.
  ASSERT_TRUE(other_credentials.Refresh());
  EXPECT_FALSE(other_credentials.budget->BlockedFor(absl::Now()).has_value());
}

TEST(SharedBudget, TheLastRemainingIsShared) {
  state::InMemoryStateStore store;
  Replica a(&store), b(&store);
  a.budget->Observe(1000, 10, absl::Now());
  a.link->Publish(a.budget->View(), false);
  ASSERT_TRUE(b.Refresh());
  EXPECT_EQ(b.budget->View().remaining, 10);
  EXPECT_TRUE(b.budget->BelowReserve());
}

TEST(SharedBudget, AStoreThatIsDownNeverHoldsARequest) {
  state::InMemoryStateStore store;
  Replica a(&store);
  store.SetDown(true);
  EXPECT_TRUE(a.Refresh());
  EXPECT_FALSE(a.budget->BlockedFor(absl::Now()).has_value());
}

}  // namespace
}  // namespace fivetran_gateway
