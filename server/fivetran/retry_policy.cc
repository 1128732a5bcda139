#include "server/fivetran/retry_policy.h"

#include <algorithm>

#include "server/fivetran/errors.h"

namespace fivetran_gateway::fivetran {

RetryableFailure ClassifyAttempt(absl::string_view method, const HttpResult& result) {
  const bool safe = method == "GET";
  if (!result.ok) {
    switch (result.error.failure) {
      case TransportFailure::kNotSent:
        return RetryableFailure::kNotSent;
      case TransportFailure::kMaybeSent:
        return safe ? RetryableFailure::kMaybeSent : RetryableFailure::kNo;
      default:
        // Deadline, cancellation, an oversized body: retrying cannot help.
        return RetryableFailure::kNo;
    }
  }
  switch (result.response.status) {
    case 429:
      return RetryableFailure::kRateLimited;
    case 500:
      return safe ? RetryableFailure::kServerError : RetryableFailure::kNo;
    case 502:
    case 503:
    case 504:
      return safe ? RetryableFailure::kUnavailable : RetryableFailure::kNo;
    default:
      return RetryableFailure::kNo;
  }
}

absl::Duration BackoffCeiling(const RetryPolicy& policy, int attempt) {
  absl::Duration cap = std::max(policy.max_backoff, absl::ZeroDuration());
  absl::Duration d = std::max(policy.initial_backoff, absl::ZeroDuration());
  const double multiplier = std::max(policy.backoff_multiplier, 1.0);
  for (int i = 1; i < attempt && d < cap; ++i) d = d * multiplier;
  return std::min(d, cap);
}

absl::Duration FullJitter(absl::Duration ceiling, double uniform) {
  if (ceiling <= absl::ZeroDuration() || !(uniform > 0)) return absl::ZeroDuration();  // Also NaN.
  // [0, ceiling): the product may round up to the ceiling itself.
  return std::min(ceiling * std::min(uniform, 1.0), ceiling - absl::Nanoseconds(1));
}

RetryDecision DecideRetry(const RetryPolicy& policy, absl::string_view method,
                          const HttpResult& result, int attempts_made, absl::Time now,
                          absl::Time deadline, double uniform) {
  RetryDecision decision;
  RetryableFailure failure = ClassifyAttempt(method, result);
  if (failure == RetryableFailure::kNo) return decision;
  if (result.ok) decision.retry_after = ParseRetryAfter(result.response.retry_after, now);

  const absl::Duration left = deadline - now;
  if (decision.retry_after &&
      (*decision.retry_after >= left || *decision.retry_after > policy.max_retry_wait)) {
    // Sleeping would outlast the caller (or be unreasonably long): say so now.
    decision.action = RetryDecision::Action::kStopRetryAfterTooLong;
    return decision;
  }
  if (attempts_made >= std::max(policy.max_attempts, 1)) return decision;
  if (failure == RetryableFailure::kServerError && attempts_made >= 2) return decision;

  absl::Duration delay = decision.retry_after
                             ? *decision.retry_after
                             : FullJitter(BackoffCeiling(policy, attempts_made), uniform);
  if (delay >= left) return decision;  // No time left for another attempt.
  decision.action = RetryDecision::Action::kRetry;
  decision.delay = delay;
  return decision;
}

}  // namespace fivetran_gateway::fivetran
