// IdempotencyCache: request ids of the create RPCs (AIP-155).
//
// CreateConnection and CreateFtpConnection take a `request_id`. The first
// request with an id starts the upstream POST; a duplicate (same method, same
// id) within the window gets the first one's result without a second POST:
//
// - while the first is in flight, the duplicate waits for it (as a callback
//   kept in the entry: no thread blocks);
// - once it has finished, the stored result is replayed;
// - the same id with a different request (fingerprint of its deterministic
//   serialization) is refused: the caller gets INVALID_ARGUMENT.
//
// What is kept (IsFinal): successes, and every failure after which the POST
// may have reached Fivetran (5xx, dropped connection, deadline: the outcome
// is unknown, so sending it again could create a second connection).
// Forgotten, so that a retry with the same id is sent again: failures that
// prove nothing was created, that is ErrorInfo outcome "not_sent" (it never
// left the gateway) and every 4xx answer of Fivetran (400, 401, 403, 404,
// 409, 429: refused). Callers waiting on such an attempt still get its
// result.
//
// Entries are kept for `window` after the result arrived, at most
// `max_entries` finished ones (the oldest are dropped first); entries still
// in flight are never dropped and are bounded by the concurrent RPCs.
#ifndef FIVETRAN_GATEWAY_SERVER_IDEMPOTENCY_H_
#define FIVETRAN_GATEWAY_SERVER_IDEMPOTENCY_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "server/fivetran/upstream_info.h"

namespace fivetran_gateway {

struct IdempotencyOptions {
  // How long a result is replayed after it arrived.
  absl::Duration window = absl::Minutes(10);
  // Finished entries kept at most; the oldest are dropped first.
  size_t max_entries = 10000;
};

// Longest request_id accepted (bytes).
inline constexpr size_t kMaxRequestIdLength = 128;

// SHA-256 of the deterministic serialization of `request` (and its type
// name): equal for equal requests, whatever the order of map entries.
std::string RequestFingerprint(const google::protobuf::Message& request);

class IdempotencyCache {
 public:
  struct Key {
    std::string method;  // e.g. "CreateConnection".
    std::string request_id;
  };
  // What a request got: the error, or OK and the serialized response.
  struct Result {
    absl::Status status;
    std::string response;
    fivetran::UpstreamInfo upstream;
  };
  // Receives the result; runs exactly once unless removed with Leave(), on
  // the thread that calls Finish(), never under the cache's lock.
  using Waiter = std::function<void(const Result&)>;

  enum class Verdict {
    kStart,     // New: do the work, then Finish(). The waiter is registered.
    kWait,      // In flight: the waiter is registered and gets its result.
    kReplay,    // Done: `replay` is the result; the waiter is not kept.
    kMismatch,  // The id was used for a different request; not kept.
  };
  struct Ticket {
    Verdict verdict = Verdict::kStart;
    uint64_t waiter_id = 0;  // kStart and kWait: for Leave().
    Result replay;           // kReplay.
  };

  explicit IdempotencyCache(IdempotencyOptions options = {},
                            std::function<absl::Time()> clock = &absl::Now);
  IdempotencyCache(const IdempotencyCache&) = delete;
  IdempotencyCache& operator=(const IdempotencyCache&) = delete;

  Ticket Join(const Key& key, absl::string_view fingerprint, Waiter waiter);
  // Ends the work of a kStart: hands `result` to every waiter, and keeps it
  // for the window when `keep` (default: IsFinal(result)), else forgets the id.
  void Finish(const Key& key, Result result, std::optional<bool> keep = std::nullopt);
  // Whether a kStart or kWait of `key` still waits for its result.
  bool HasWaiters(const Key& key) const;
  // Removes a waiter (its caller gave up); false when it already got, or is
  // getting, the result.
  bool Leave(const Key& key, uint64_t waiter_id);

  // Whether a result is kept for replay (see the top of this file).
  static bool IsFinal(const Result& result);

  size_t size() const;
  const IdempotencyOptions& options() const { return options_; }

 private:
  struct Entry {
    std::string fingerprint;
    bool done = false;
    Result result;
    absl::Time expires = absl::InfiniteFuture();
    std::map<uint64_t, Waiter> waiters;
  };
  static std::string MapKey(const Key& key);
  void Purge(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const IdempotencyOptions options_;
  const std::function<absl::Time()> clock_;
  mutable absl::Mutex mu_;
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  // Finished entries, oldest first (their expiry times ascend).
  std::deque<std::string> finished_ ABSL_GUARDED_BY(mu_);
  uint64_t next_waiter_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace fivetran_gateway

#endif  // FIVETRAN_GATEWAY_SERVER_IDEMPOTENCY_H_
