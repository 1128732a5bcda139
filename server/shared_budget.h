// SharedBudget: one credential set's Fivetran request budget shared by the
// fleet (--state_store), linked into its RateBudget
// (server/fivetran/rate_budget.h):
//
// - a 429's Retry-After learned by any replica is stored under
//   `budget:{scope}:blocked` (Unix ms, expiring with it); before each
//   upstream request every replica reads it (one store round trip), so the
//   others answer RESOURCE_EXHAUSTED with RetryInfo without sending;
// - the last X-Rate-Limit / X-Rate-Limit-Remaining is stored under
//   `budget:{scope}:remaining` at most once a second and read back at most
//   once a second, so sync polling slows down (BelowReserve) fleet-wide.
//
// Store trouble never blocks a request: a failed read sends as this
// replica's own budget allows.
#ifndef FIVETRAN_GATEWAY_SERVER_SHARED_BUDGET_H_
#define FIVETRAN_GATEWAY_SERVER_SHARED_BUDGET_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/fivetran/rate_budget.h"
#include "server/state/state_store.h"

namespace fivetran_gateway {

class SharedBudget final : public fivetran::FleetBudgetLink,
                           public std::enable_shared_from_this<SharedBudget> {
 public:
  // `scope`: state::CredentialScope of the set whose `budget` this is.
  SharedBudget(state::StateStore* store, const std::string& scope,
               std::weak_ptr<fivetran::RateBudget> budget);

  void Refresh(std::function<void()> then) override;
  void Publish(const fivetran::RateBudgetView& view, bool blocked_changed) override;

 private:
  state::StateStore* const store_;
  const std::string blocked_key_;
  const std::string remaining_key_;
  const std::weak_ptr<fivetran::RateBudget> budget_;
  absl::Mutex mu_;
  absl::Time remaining_published_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Time remaining_read_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace fivetran_gateway

#endif  // FIVETRAN_GATEWAY_SERVER_SHARED_BUDGET_H_
