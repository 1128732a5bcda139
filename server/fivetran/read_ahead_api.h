// ReadAheadFivetranApi: a FivetranApi decorator that reads the next page of
// a listing while the caller is still busy with the current one.
//
// Fivetran's listings are cursor-paged, so a caller that reads every page
// (`fivetranctl ... --all`, a pager script) waits for one upstream request
// per page, one after the other. When a caller that is paging (its request
// carried a cursor: its second page or later) gets a page that has a
// next_cursor, this decorator asks for that next page at once (same filters,
// same limit, same ReadOptions) through the layer below. The caller's next
// request then either waits for that read in flight or takes its answer,
// kept for `keep` for that one read. A first page (no cursor) starts no
// read-ahead: a caller that reads one page only costs no extra request.
//
// Every caller of a page while it is being read ahead waits for it here,
// not by sending the same request to be shared below: below, that request
// may have been answered a moment before its answer reaches this decorator,
// and the caller's request would then be a second one. A waiting caller
// keeps its own deadline and cancellation; when the last one leaves, the
// read-ahead is cancelled (a caller after that sends its own read). When
// the read-ahead's request runs out of its `timeout`, a waiter with time
// left sends its own read; any other error reaches every waiter.
//
// - Answers taken from a kept page say so: UpstreamInfo::Cache::kReadAhead
//   with the age counted from when the read-ahead was sent.
// - A fresh read (ReadOptions::fresh, `cache-control: no-cache`) never takes
//   a kept page; it drops it.
// - Errors are never kept: the caller's own read is sent.
// - CreateConnection and TriggerSync through this decorator drop every kept
//   page and read-ahead in flight when sent and again when answered,
//   whatever their outcome.
// - No read-ahead while `budget_low` says the account's hourly budget is
//   under its reserve (rate_budget.h): background work yields first.
// - Bounded: at most `max_pages` read-aheads kept or in flight per instance;
//   a kept page nobody took is dropped `keep` after it arrived, and a
//   read-ahead's request has `timeout`.
// - A create or sync drops read-aheads in flight that no caller waits for;
//   callers already waiting get the answer, as any read in flight would.
//
// Sits above CoalescingFivetranApi (a read-ahead and an identical read
// that does not wait for it, e.g. a fresh read while a fresh read-ahead is
// in flight, share one request there) and serves one set of Fivetran
// credentials.
#ifndef FIVETRAN_GATEWAY_SERVER_FIVETRAN_READ_AHEAD_API_H_
#define FIVETRAN_GATEWAY_SERVER_FIVETRAN_READ_AHEAD_API_H_

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

struct ReadAheadOptions {
  absl::Duration keep = absl::Seconds(10);     // How long an answer nobody took is kept.
  absl::Duration timeout = absl::Seconds(60);  // The deadline of a read-ahead's request.
  size_t max_pages = 16;                       // Kept or in flight, per instance.
  // True while background reads must yield: the hourly budget under its
  // reserve, or a 429's Retry-After running (null: never).
  std::function<bool()> budget_low;
};

struct ReadAheadStats {
  int64_t started = 0;  // Read-aheads sent to the layer below.
  int64_t used = 0;     // Taken by a caller: kept, or joined in flight.
  int64_t unused = 0;   // Dropped: not taken within `keep`, failed, or dropped by a change.
  int64_t skipped = 0;  // Not started: budget under its reserve, or `max_pages` reached.
};

class ReadAheadFivetranApi final : public FivetranApi {
 public:
  // `inner` and `timers` must outlive this object and its calls.
  ReadAheadFivetranApi(FivetranApi* inner, Timers* timers, ReadAheadOptions options);
  ~ReadAheadFivetranApi() override;

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

  ReadAheadStats stats() const;

 private:
  template <typename T>
  class Pages;
  struct Counters;

  void DropAll();
  // `done`, after dropping what was read ahead meanwhile: a page read while
  // a change was in flight upstream may predate it.
  template <typename R>
  ApiCallback<R> DropAllThen(ApiCallback<R> done) const;

  FivetranApi* const inner_;
  const std::shared_ptr<Counters> counters_;
  const std::shared_ptr<Pages<v1::Group>> groups_;
  const std::shared_ptr<Pages<SerializedConnection>> connections_;
  const std::shared_ptr<Pages<v1::User>> users_;
};

}  // namespace fivetran_gateway::fivetran

#endif  // FIVETRAN_GATEWAY_SERVER_FIVETRAN_READ_AHEAD_API_H_
