// RateBudget: what the gateway knows of one Fivetran credential set's
// request budget (about 20,000 requests per rolling hour; 429 with
// Retry-After beyond it), shared by every call made with those credentials.
//
// FivetranClient records `X-Rate-Limit` / `X-Rate-Limit-Remaining` of every
// answer, and each 429's Retry-After: until that time has passed nothing
// else is sent upstream for the credential set (callers get
// RESOURCE_EXHAUSTED with RetryInfo at once, outcome not_sent), instead of
// each of them spending a request to learn it. Background work (sync
// polling) asks BelowReserve() and slows down while the remaining budget is
// under the reserve. Thread-safe.
#ifndef FIVETRAN_GATEWAY_SERVER_FIVETRAN_RATE_BUDGET_H_
#define FIVETRAN_GATEWAY_SERVER_FIVETRAN_RATE_BUDGET_H_

#include <functional>
#include <memory>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace fivetran_gateway::fivetran {

// A snapshot, for logs, health details and metrics.
struct RateBudgetView {
  int limit = -1;      // X-Rate-Limit of the latest answer; -1 = not seen yet.
  int remaining = -1;  // X-Rate-Limit-Remaining of the latest answer; -1 = not seen yet.
  absl::Time observed_at = absl::InfinitePast();
  // Nothing is sent before this time (a 429's Retry-After); InfinitePast = open.
  absl::Time blocked_until = absl::InfinitePast();
  bool below_reserve = false;
};

// The same credential set's budget as other gateway replicas see it
// (--state_store; implemented in server/shared_budget.h). Optional.
class FleetBudgetLink {
 public:
  virtual ~FleetBudgetLink() = default;
  // Before a request is sent: brings what the fleet learned into this
  // budget, then calls `then` (exactly once, on any thread, possibly inside
  // this call). When the fleet cannot be asked, `then` runs all the same.
  virtual void Refresh(std::function<void()> then) = 0;
  // A 429 (`blocked_until`) or rate-limit headers learned by this replica.
  virtual void Publish(const RateBudgetView& view, bool blocked_changed) = 0;
};

class RateBudget {
 public:
  // `reserve` is the share of the limit kept for interactive calls (0.05 =
  // 5%): below it, BelowReserve() is true.
  explicit RateBudget(double reserve = 0.05) : reserve_(reserve) {}

  // The rate-limit headers of one answer; a negative value = header absent.
  void Observe(int limit, int remaining, absl::Time now);
  // A 429 asked to wait until `until`.
  void BlockUntil(absl::Time until);
  // How long sending stays blocked after `now`; nullopt = not blocked.
  std::optional<absl::Duration> BlockedFor(absl::Time now) const;
  // The remaining budget is known and under the reserve.
  bool BelowReserve() const;
  RateBudgetView View() const;

  // Shares the budget with the fleet; set once, before any call.
  void set_fleet(std::shared_ptr<FleetBudgetLink> fleet) { fleet_ = std::move(fleet); }
  FleetBudgetLink* fleet() const { return fleet_.get(); }

 private:
  bool BelowReserveLocked() const ABSL_SHARED_LOCKS_REQUIRED(mu_);

  const double reserve_;
  std::shared_ptr<FleetBudgetLink> fleet_;
  mutable absl::Mutex mu_;
  int limit_ ABSL_GUARDED_BY(mu_) = -1;
  int remaining_ ABSL_GUARDED_BY(mu_) = -1;
  absl::Time observed_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Time blocked_until_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace fivetran_gateway::fivetran

#endif  // FIVETRAN_GATEWAY_SERVER_FIVETRAN_RATE_BUDGET_H_
