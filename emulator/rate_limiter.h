// The emulator's hourly request budget: a rolling one-hour window of counted
// /v1 requests, as Fivetran's per-account limit.
#ifndef EMULATOR_RATE_LIMITER_H_
#define EMULATOR_RATE_LIMITER_H_

#include <cstdint>
#include <deque>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace httplib {
struct Response;
}  // namespace httplib

namespace fivetran_emulator {

struct RateDecision {
  bool allowed = true;
  int limit = 0;
  int remaining = 0;
  int64_t retry_after_seconds = 0;  // when not allowed: until a slot frees up
};

class RateLimiter {
 public:
  explicit RateLimiter(int limit_per_hour) : limit_(limit_per_hour) {}
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  // With `count`, spends one request of the window if one is left (else
  // `allowed` is false); without, only reports the current state.
  RateDecision Take(bool count) ABSL_LOCKS_EXCLUDED(mu_);
  // Sets the hourly limit and empties the window.
  void SetLimit(int limit_per_hour) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  absl::Mutex mu_;
  std::deque<absl::Time> window_ ABSL_GUARDED_BY(mu_);
  int limit_ ABSL_GUARDED_BY(mu_);
};

// Sets X-Rate-Limit and X-Rate-Limit-Remaining (never below 0).
void ApplyRateHeaders(httplib::Response& res, int limit, int remaining);

}  // namespace fivetran_emulator

#endif  // EMULATOR_RATE_LIMITER_H_
