#include "emulator/rate_limiter.h"

#include <algorithm>
#include <string>

#include "absl/time/clock.h"
#include "httplib.h"

namespace fivetran_emulator {

RateDecision RateLimiter::Take(bool count) {
  absl::MutexLock lock(&mu_);
  const absl::Time now = absl::Now();
  while (!window_.empty() && window_.front() <= now - absl::Hours(1)) window_.pop_front();
  RateDecision d;
  d.limit = limit_;
  if (!count) {
    d.remaining = limit_ - static_cast<int>(window_.size());
    return d;
  }
  if (static_cast<int>(window_.size()) >= limit_) {
    d.allowed = false;
    d.remaining = 0;
    const absl::Duration wait =
        window_.empty() ? absl::Hours(1) : window_.front() + absl::Hours(1) - now;
    d.retry_after_seconds =
        std::max<int64_t>(1, absl::ToInt64Seconds(absl::Ceil(wait, absl::Seconds(1))));
    return d;
  }
  window_.push_back(now);
  d.remaining = limit_ - static_cast<int>(window_.size());
  return d;
}

void RateLimiter::SetLimit(int limit_per_hour) {
  absl::MutexLock lock(&mu_);
  limit_ = limit_per_hour;
  window_.clear();
}

void ApplyRateHeaders(httplib::Response& res, int limit, int remaining) {
  res.set_header("X-Rate-Limit", std::to_string(limit));
  res.set_header("X-Rate-Limit-Remaining", std::to_string(std::max(remaining, 0)));
}

}  // namespace fivetran_emulator
