// SharedCreates: idempotent creates across a fleet of replicas (AIP-155),
// the shared half of IdempotencyCache (idempotency.h) when --state_store is
// set. The local cache still groups the callers of one replica; its first
// caller of a request_id (kStart) runs SharedCreates::Run, which decides
// through the StateStore record `creates:{scope}:{method}:{request_id}`:
//
// - absent: claim it atomically (SET NX) with an in-flight record holding
//   the request fingerprint and a lease; this replica sends the POST and
//   renews the lease (every lease/3) until Fivetran answers. A final result
//   (IdempotencyCache::IsFinal) replaces the record for the window; a
//   result proving nothing was created deletes it, so a retry sends again.
// - in flight with the same fingerprint and a live lease: poll the record
//   (every `poll_interval`) while a local caller still waits (each bounded
//   by its own deadline), and hand over the stored result. If the record
//   disappears (the claimer failed without creating anything), claim again.
// - in flight with a lease that ran out (the claimer died): ABORTED
//   CREATE_OUTCOME_UNKNOWN, outcome "unknown": never sent again silently.
// - done: the stored result, exactly as the first caller got it.
// - a different fingerprint: INVALID_ARGUMENT, outcome "not_sent".
// - store unreachable when claiming: UNAVAILABLE STATE_STORE_UNAVAILABLE,
//   outcome "not_sent", nothing is sent (a create with a request_id never
//   risks a duplicate). Losing the store after the POST keeps the result on
//   this replica only; other replicas then answer "unknown" after the lease.
//
// Leases compare wall clocks of the replicas: keep them in sync (NTP); a skew
// well below the lease (10 s) is harmless.
#ifndef FIVETRAN_GATEWAY_SERVER_SHARED_CREATES_H_
#define FIVETRAN_GATEWAY_SERVER_SHARED_CREATES_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "server/common/timer_queue.h"
#include "server/idempotency.h"
#include "server/state/state_store.h"

namespace fivetran_gateway {

struct SharedCreateOptions {
  absl::Duration window = absl::Minutes(10);  // How long a result is kept.
  absl::Duration lease = absl::Seconds(10);   // Of an in-flight claim.
  absl::Duration poll_interval = absl::Milliseconds(50);
};

class SharedCreates : public std::enable_shared_from_this<SharedCreates> {
 public:
  using Result = IdempotencyCache::Result;
  // Sends the POST; calls `finish` exactly once with its result.
  using Send = std::function<void(std::function<void(Result)> finish)>;
  // The result for the local callers, and whether to keep it for the window.
  using Done = std::function<void(Result, bool keep)>;

  // `scope`: state::CredentialScope of the credential set.
  SharedCreates(state::StateStore* store, std::string scope, Timers* timers,
                SharedCreateOptions options = {});

  // Decides as above; `wanted` says whether a local caller still waits.
  void Run(const IdempotencyCache::Key& key, const std::string& fingerprint, Send send,
           std::function<bool()> wanted, Done done);

  // The stored forms (exposed for tests).
  static std::string InFlightRecord(const std::string& fingerprint, absl::Time lease_until);
  static std::string DoneRecord(const std::string& fingerprint, const Result& result);

 private:
  struct Attempt;
  void Claim(std::shared_ptr<Attempt> a);
  void Poll(std::shared_ptr<Attempt> a);
  // Acts on the record found under the key (a claim lost, or a poll).
  void OnRecord(std::shared_ptr<Attempt> a, const std::string& record);
  void SendClaimed(std::shared_ptr<Attempt> a);
  void Renew(std::shared_ptr<Attempt> a);

  state::StateStore* const store_;
  const std::string scope_;
  Timers* const timers_;
  const SharedCreateOptions options_;
};

}  // namespace fivetran_gateway

#endif  // FIVETRAN_GATEWAY_SERVER_SHARED_CREATES_H_
