// SharedPolls: sync polling shared by the fleet (--state_store). Every
// replica keeps its own SyncPollers (sync_pollers.h), one poller per watched
// connection; when a poller is due, it asks here instead of reading at once:
//
// - the first replica due in an interval takes the connection's poll lease
//   (`polls:{scope}:{id}:lease`, SET NX, expiring after 0.9 x the interval),
//   reads the connection from Fivetran and publishes what it saw under
//   `polls:{scope}:{id}:seen` (observation time + the v1.Connection);
// - the others use that observation once it is at least as new as the
//   lease, checking every `check_every`; if none comes within `max_wait`
//   (the lease holder failed or died), they read Fivetran themselves.
//
// So N replicas x M watchers of one connection cost about one upstream read
// per interval, as on one replica. Store trouble: every replica reads for
// itself (as without a store).
#ifndef FIVETRAN_GATEWAY_SERVER_SHARED_POLLS_H_
#define FIVETRAN_GATEWAY_SERVER_SHARED_POLLS_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "fivetran/gateway/v1/connection.pb.h"
#include "server/common/cancel.h"
#include "server/common/timer_queue.h"
#include "server/fivetran/fivetran_api.h"
#include "server/state/state_store.h"

namespace fivetran_gateway {

struct SharedPollOptions {
  absl::Duration check_every = absl::Milliseconds(50);
  absl::Duration max_wait = absl::Seconds(5);  // And at most half the interval.
};

class SharedPolls : public std::enable_shared_from_this<SharedPolls> {
 public:
  using Read = std::function<std::shared_ptr<Cancellable>(
      fivetran::ApiCallback<::fivetran::gateway::v1::Connection>)>;

  // `scope`: state::CredentialScope of the credential set.
  SharedPolls(state::StateStore* store, std::string scope, Timers* timers,
              SharedPollOptions options = {});

  // One poll of `connection_id` polled every `interval`: `read` reads
  // Fivetran; `done` runs exactly once (CANCELLED after Cancel()).
  std::shared_ptr<Cancellable> Poll(
      const std::string& connection_id, absl::Duration interval, Read read,
      fivetran::ApiCallback<::fivetran::gateway::v1::Connection> done);

 private:
  class Attempt;
  state::StateStore* const store_;
  const std::string scope_;
  Timers* const timers_;
  const SharedPollOptions options_;
};

}  // namespace fivetran_gateway

#endif  // FIVETRAN_GATEWAY_SERVER_SHARED_POLLS_H_
