// CachingFivetranApi: an optional read cache with a time to live
// (--read_cache_ttl), a FivetranApi decorator.
//
// What is kept: successful answers of GetConnection and the three listings
// (one entry per connection id, or per page: filters, limit and cursor),
// for `ttl` counted from when the request was sent. A connection is kept in
// wire form (SerializedConnection), as the layer below wrote it: a
// GetSerializedConnection hit (the GetConnection RPC) copies the bytes, a
// GetConnection hit (the sync watcher) parses them; both share one entry.
// Errors are never kept;
// a read that finds the resource gone (NOT_FOUND) drops its entry. A fresh
// read (ReadOptions::fresh: the sync watcher's reads, a caller's
// `cache-control: no-cache`) is always sent, and its answer replaces the
// entry. Each answer says in UpstreamInfo whether it came from the cache and
// how old it is.
//
// What a change through this decorator drops, whatever its outcome (a
// failed call may still have reached Fivetran):
// - CreateConnection: every ListGroupConnections page of the new
//   connection's group (any schema filter, any page). Groups, users and
//   other connections do not change when a connection is created, and no
//   GetConnection entry can exist for a new id (NOT_FOUND is not kept).
// - TriggerSync: the connection's GetConnection entry, and the
//   ListGroupConnections pages of its group when the cache knows the group
//   (from that entry), else every ListGroupConnections page: a sync changes
//   the status the listing shows.
// A read in flight while anything is dropped is not stored (the epoch of
// its request is older), so an answer that may predate a change is never
// kept. Changes made elsewhere (Fivetran's dashboard, another gateway, a
// sync finishing on its own) are seen once the entry has expired.
//
// Bounded: at most `max_entries` entries and `max_bytes` of entries (their
// protobuf encoding) per instance; the oldest stored go first, and an
// answer bigger than `max_bytes` is not kept. Expired entries are dropped
// when found and from the oldest end whenever something is stored.
//
// One instance serves one set of Fivetran credentials (Gateway::MakeSet), so
// callers of different accounts never share entries. It sits below
// CoalescingFivetranApi: the epoch of an entry is that of the one request
// that produced it, and concurrent misses of one key cost one request.
#ifndef FIVETRAN_GATEWAY_SERVER_FIVETRAN_CACHED_API_H_
#define FIVETRAN_GATEWAY_SERVER_FIVETRAN_CACHED_API_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "server/common/timer_queue.h"
#include "server/fivetran/fivetran_api.h"

namespace fivetran_gateway::fivetran {

struct ReadCacheOptions {
  absl::Duration ttl = absl::Seconds(30);  // Positive.
  size_t max_entries = 10'000;
  size_t max_bytes = size_t{32} << 20;
};

struct ReadCacheStats {
  int64_t hits = 0;
  int64_t misses = 0;  // Reads sent to the wrapped API (fresh ones included).
  size_t entries = 0;
  size_t bytes = 0;
};

class CachingFivetranApi final : public FivetranApi {
 public:
  // `inner` and `timers` (the clock) must outlive this object and its calls.
  CachingFivetranApi(FivetranApi* inner, Timers* timers, ReadCacheOptions options);
  ~CachingFivetranApi() override;

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

  ReadCacheStats stats() const;

 private:
  class Store;
  // Answers from the store, or calls `send` and stores its answer.
  template <typename T>
  std::shared_ptr<Cancellable> Read(
      const std::string& key, ReadOptions read, ApiCallback<T> done,
      const std::function<std::shared_ptr<Cancellable>(ApiCallback<T>)>& send);

  FivetranApi* const inner_;
  Timers* const timers_;
  // Shared with the callbacks of calls in flight (they hold it weakly).
  const std::shared_ptr<Store> store_;
};

}  // namespace fivetran_gateway::fivetran

#endif  // FIVETRAN_GATEWAY_SERVER_FIVETRAN_CACHED_API_H_
