#include "server/shared_budget.h"

#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "server/state/keys.h"

namespace fivetran_gateway {

SharedBudget::SharedBudget(state::StateStore* store, const std::string& scope,
                           std::weak_ptr<fivetran::RateBudget> budget)
    : store_(store),
      blocked_key_(absl::StrCat(state::BudgetKey(scope), ":blocked")),
      remaining_key_(absl::StrCat(state::BudgetKey(scope), ":remaining")),
      budget_(std::move(budget)) {}

void SharedBudget::Refresh(std::function<void()> then) {
  bool read_remaining = false;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = absl::Now();
    if (now - remaining_read_ >= absl::Seconds(1)) {
      remaining_read_ = now;
      read_remaining = true;
    }
  }
  if (read_remaining) {
    store_->Get(remaining_key_, [budget = budget_](absl::StatusOr<state::MaybeValue> v) {
      std::shared_ptr<fivetran::RateBudget> b = budget.lock();
      if (b == nullptr || !v.ok() || !v->has_value()) return;
      std::vector<absl::string_view> parts = absl::StrSplit(**v, ' ');
      int limit = -1, remaining = -1;
      int64_t observed_ms = 0;
      if (parts.size() == 3 && absl::SimpleAtoi(parts[0], &limit) &&
          absl::SimpleAtoi(parts[1], &remaining) && absl::SimpleAtoi(parts[2], &observed_ms)) {
        // Older than this replica's own observation: ignored by Observe.
        b->Observe(limit, remaining, absl::FromUnixMillis(observed_ms));
      }
    });
  }
  store_->Get(blocked_key_,
              [budget = budget_, then = std::move(then)](absl::StatusOr<state::MaybeValue> v) {
                int64_t until_ms = 0;
                if (std::shared_ptr<fivetran::RateBudget> b = budget.lock();
                    b != nullptr && v.ok() && v->has_value() && absl::SimpleAtoi(**v, &until_ms)) {
                  const absl::Time until = absl::FromUnixMillis(until_ms);
                  if (until > absl::Now()) b->BlockUntil(until);
                }
                then();
              });
}

void SharedBudget::Publish(const fivetran::RateBudgetView& view, bool blocked_changed) {
  const absl::Time now = absl::Now();
  if (blocked_changed && view.blocked_until > now) {
    store_->Set(blocked_key_, absl::StrCat(absl::ToUnixMillis(view.blocked_until)),
                view.blocked_until - now, [](absl::Status) {});
  }
  if (view.remaining < 0) return;
  {
    absl::MutexLock lock(&mu_);
    if (!blocked_changed && now - remaining_published_ < absl::Seconds(1)) return;
    remaining_published_ = now;
  }
  store_->Set(
      remaining_key_,
      absl::StrCat(view.limit, " ", view.remaining, " ", absl::ToUnixMillis(view.observed_at)),
      absl::Hours(1), [](absl::Status) {});
}

}  // namespace fivetran_gateway
