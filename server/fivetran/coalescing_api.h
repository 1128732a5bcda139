// CoalescingFivetranApi: a FivetranApi decorator that shares one upstream
// request among identical reads in flight ("singleflight").
//
// Reads (GetConnection and the three listings) with the same arguments that
// overlap in time cost one upstream request; every waiter gets its result
// (success or error) and what is known of the exchange. Each waiter keeps its
// own deadline and cancellation: when it runs out or is cancelled, only that
// waiter ends (DEADLINE_EXCEEDED / CANCELLED); the shared request is
// cancelled only when its last waiter leaves. A read that starts after the
// shared request finished sends a new one: nothing is cached here. Creates
// and sync triggers are never coalesced. A fresh read (ReadOptions) joins
// only a request that was itself sent as fresh, so that a read cache below
// (cached_api.h) never answers it; any read may join a fresh one.
//
// One instance serves one set of Fivetran credentials (Gateway::MakeSet), so
// callers of different accounts never share a request.
#ifndef FIVETRAN_GATEWAY_SERVER_FIVETRAN_COALESCING_API_H_
#define FIVETRAN_GATEWAY_SERVER_FIVETRAN_COALESCING_API_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "server/common/timer_queue.h"
#include "server/fivetran/fivetran_api.h"

namespace fivetran_gateway::fivetran {

struct CoalescingStats {
  int64_t upstream_reads = 0;   // Reads sent to the wrapped API.
  int64_t coalesced_reads = 0;  // Reads that joined one already in flight.
};

class CoalescingFivetranApi final : public FivetranApi {
 public:
  // `inner` and `timers` (waiters' deadlines) must outlive this object and
  // its calls.
  CoalescingFivetranApi(FivetranApi* inner, Timers* timers);
  ~CoalescingFivetranApi() override;

  std::shared_ptr<Cancellable> GetConnection(const std::string& connection_id, ReadOptions read,
                                             absl::Time deadline,
                                             ApiCallback<v1::Connection> done) override;
  std::shared_ptr<Cancellable> GetSerializedConnection(
      const std::string& connection_id, ReadOptions read, absl::Time deadline,
      ApiCallback<SerializedConnection> done) override;
  std::shared_ptr<Cancellable> CreateConnection(const NewConnection& connection,
                                                absl::Time deadline,
                                                ApiCallback<v1::Connection> done) override;
  std::shared_ptr<Cancellable> TriggerSync(const std::string& connection_id, bool force,
                                           absl::Time deadline,
                                           ApiCallback<SyncTriggered> done) override;
  std::shared_ptr<Cancellable> ListGroups(const PageRequest& page, ReadOptions read,
                                          absl::Time deadline,
                                          ApiCallback<Page<v1::Group>> done) override;
  std::shared_ptr<Cancellable> ListGroupConnections(
      const std::string& group_id, const std::string& schema, const PageRequest& page,
      ReadOptions read, absl::Time deadline, ApiCallback<Page<SerializedConnection>> done) override;
  std::shared_ptr<Cancellable> ListUsers(std::optional<bool> active, const PageRequest& page,
                                         ReadOptions read, absl::Time deadline,
                                         ApiCallback<Page<v1::User>> done) override;

  CoalescingStats stats() const;

 private:
  template <typename T>
  class Flights;
  struct Counters {
    std::atomic<int64_t> upstream_reads{0};
    std::atomic<int64_t> coalesced_reads{0};
  };

  FivetranApi* const inner_;
  const std::shared_ptr<Counters> counters_;
  // GetConnection and GetSerializedConnection, in wire form.
  const std::shared_ptr<Flights<SerializedConnection>> connections_;
  const std::shared_ptr<Flights<Page<v1::Group>>> group_pages_;
  const std::shared_ptr<Flights<Page<SerializedConnection>>> connection_pages_;
  const std::shared_ptr<Flights<Page<v1::User>>> user_pages_;
};

}  // namespace fivetran_gateway::fivetran

#endif  // FIVETRAN_GATEWAY_SERVER_FIVETRAN_COALESCING_API_H_
