// The retry policy of the Fivetran REST client, in one place: which failed
// attempts may be sent again, how long to wait before the next one, and when
// to stop. Pure functions (no clock, no randomness of their own), so that
// every rule is unit-tested (retry_policy_test.cc); FivetranClient applies
// them, waiting on a TimerQueue.
//
// Rules:
// - GET is retried after a refused connection or DNS failure (kNotSent), a
//   connection dropped or cut short (kMaybeSent), and HTTP 429, 500, 502, 503
//   and 504. A 500 at most once (field report B8): it rarely heals.
// - POST (create, sync) is retried only when it provably never reached
//   Fivetran (kNotSent) or Fivetran refused it with 429. Once it may have
//   reached Fivetran it is never sent again (field report B23).
// - At most `max_attempts` attempts in all.
// - The wait is the response's Retry-After (delta-seconds or HTTP-date) when
//   it has a usable one, else exponential backoff with full jitter:
//   uniform in [0, min(max_backoff, initial_backoff * multiplier^(n-1)))
//   after the n-th attempt.
// - Never past the deadline: a backoff that would end at or after the
//   deadline stops the call with the last error; a Retry-After longer than
//   the time left (or than max_retry_wait) stops it at once, and the error
//   carries RetryInfo with that delay (a 429 is RESOURCE_EXHAUSTED).
#ifndef FIVETRAN_GATEWAY_SERVER_FIVETRAN_RETRY_POLICY_H_
#define FIVETRAN_GATEWAY_SERVER_FIVETRAN_RETRY_POLICY_H_

#include <optional>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/fivetran/http_transport.h"

namespace fivetran_gateway::fivetran {

struct RetryPolicy {
  // Attempts in all, the first included (values below 1 count as 1).
  int max_attempts = 3;
  // Backoff ceiling after the first attempt, and its growth per attempt.
  absl::Duration initial_backoff = absl::Milliseconds(200);
  double backoff_multiplier = 2.0;
  absl::Duration max_backoff = absl::Seconds(5);
  // Longest Retry-After the gateway waits out for its caller; a longer one
  // ends the call at once with RetryInfo, even when the deadline is later.
  absl::Duration max_retry_wait = absl::Seconds(30);
};

// Why a failed attempt may be sent again.
enum class RetryableFailure {
  kNo,           // Success, or a failure that must not (or need not) be retried.
  kNotSent,      // Refused connection, DNS failure: never reached Fivetran.
  kMaybeSent,    // Connection dropped or body cut short (GET only).
  kRateLimited,  // HTTP 429: refused, not applied.
  kServerError,  // HTTP 500 (GET only; retried once).
  kUnavailable,  // HTTP 502, 503, 504 (GET only).
};

// Classifies one attempt's result for `method` ("GET", "POST", ...). Only
// "GET" is treated as safe to repeat.
RetryableFailure ClassifyAttempt(absl::string_view method, const HttpResult& result);

// Upper bound of the full-jitter backoff after attempt `attempt` (1-based):
// min(max_backoff, initial_backoff * multiplier^(attempt-1)); never negative.
absl::Duration BackoffCeiling(const RetryPolicy& policy, int attempt);

// Full jitter: `ceiling` scaled by `uniform` (clamped to [0, 1)).
absl::Duration FullJitter(absl::Duration ceiling, double uniform);

struct RetryDecision {
  enum class Action {
    kStop,   // Hand the attempt's result to the caller as it is.
    kRetry,  // Wait `delay`, then send the request again.
    // Stop now: the server asked for a longer pause (`retry_after`) than the
    // deadline or max_retry_wait allows. The error must carry RetryInfo.
    kStopRetryAfterTooLong,
  };
  Action action = Action::kStop;
  absl::Duration delay = absl::ZeroDuration();
  // The response's Retry-After, when it had a usable one.
  std::optional<absl::Duration> retry_after;
};

// What to do after attempt number `attempts_made` (1-based) of `method`
// ended with `result`, at `now`, for a call that must end by `deadline`.
// `uniform` is a random number in [0, 1) for the jitter.
RetryDecision DecideRetry(const RetryPolicy& policy, absl::string_view method,
                          const HttpResult& result, int attempts_made, absl::Time now,
                          absl::Time deadline, double uniform);

}  // namespace fivetran_gateway::fivetran

#endif  // FIVETRAN_GATEWAY_SERVER_FIVETRAN_RETRY_POLICY_H_
