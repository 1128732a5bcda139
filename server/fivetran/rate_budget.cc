#include "server/fivetran/rate_budget.h"

#include <algorithm>

namespace fivetran_gateway::fivetran {

void RateBudget::Observe(int limit, int remaining, absl::Time now) {
  if (limit < 0 && remaining < 0) return;
  absl::MutexLock lock(&mu_);
  // Answers can arrive out of order; keep the newest observation.
  if (now < observed_at_) return;
  if (limit >= 0) limit_ = limit;
  if (remaining >= 0) remaining_ = remaining;
  observed_at_ = now;
}

void RateBudget::BlockUntil(absl::Time until) {
  absl::MutexLock lock(&mu_);
  blocked_until_ = std::max(blocked_until_, until);
  remaining_ = 0;
}

std::optional<absl::Duration> RateBudget::BlockedFor(absl::Time now) const {
  absl::MutexLock lock(&mu_);
  if (now >= blocked_until_) return std::nullopt;
  return blocked_until_ - now;
}

bool RateBudget::BelowReserveLocked() const {
  if (remaining_ < 0) return false;
  if (limit_ <= 0) return remaining_ == 0;
  return remaining_ < reserve_ * limit_;
}

bool RateBudget::BelowReserve() const {
  absl::MutexLock lock(&mu_);
  return BelowReserveLocked();
}

RateBudgetView RateBudget::View() const {
  absl::MutexLock lock(&mu_);
  RateBudgetView v;
  v.limit = limit_;
  v.remaining = remaining_;
  v.observed_at = observed_at_;
  v.blocked_until = blocked_until_;
  v.below_reserve = BelowReserveLocked();
  return v;
}

}  // namespace fivetran_gateway::fivetran
