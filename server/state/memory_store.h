// InMemoryStateStore: a StateStore in this process's memory, for unit tests
// of the fleet protocols (two "replicas" sharing one instance) and as the
// reference of the semantics RedisStateStore implements. Callbacks run
// inside the call, after the store's lock is released. Thread-safe.
#ifndef FIVETRAN_GATEWAY_SERVER_STATE_MEMORY_STORE_H_
#define FIVETRAN_GATEWAY_SERVER_STATE_MEMORY_STORE_H_

#include <functional>
#include <map>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "server/state/state_store.h"

namespace fivetran_gateway::state {

class InMemoryStateStore final : public StateStore {
 public:
  explicit InMemoryStateStore(std::function<absl::Time()> clock = &absl::Now)
      : clock_(std::move(clock)) {}

  void Get(const std::string& key, ValueDone done) override;
  void SetIfAbsent(const std::string& key, const std::string& value, absl::Duration ttl,
                   ValueDone done) override;
  void Set(const std::string& key, const std::string& value, absl::Duration ttl,
           Done done) override;
  void Delete(const std::string& key, Done done) override;
  bool up() const override;
  std::string description() const override { return "memory"; }

  // Tests: while down, every operation fails with UNAVAILABLE.
  void SetDown(bool down);
  size_t size() const;

 private:
  struct Entry {
    std::string value;
    absl::Time expires;
  };
  // The live entry of `key`, dropping it when expired; nullptr if none.
  Entry* Find(const std::string& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static absl::Status Down();

  const std::function<absl::Time()> clock_;
  mutable absl::Mutex mu_;
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  bool down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace fivetran_gateway::state

#endif  // FIVETRAN_GATEWAY_SERVER_STATE_MEMORY_STORE_H_
