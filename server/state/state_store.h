// StateStore: the state a fleet of gateway replicas shares (README "Running
// several replicas"): request ids of creates, the 429 circuit, sync-poll
// leases and observations. A key-value store with expiry, asynchronous: every
// operation returns at once and completes through its callback, which runs
// exactly once, on the store's own thread (RedisStateStore) or inside the
// call (InMemoryStateStore), never under a lock of the caller's: callbacks
// must not block.
//
// Keys are relative: the store adds its namespace prefix
// (--state_store_prefix). Values are opaque bytes. A failed operation ends
// with UNAVAILABLE (store unreachable, command timed out) and nothing is
// known about whether a write took effect.
#ifndef FIVETRAN_GATEWAY_SERVER_STATE_STATE_STORE_H_
#define FIVETRAN_GATEWAY_SERVER_STATE_STATE_STORE_H_

#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace fivetran_gateway::state {

// A value, or nullopt when the key is absent (or has expired).
using MaybeValue = std::optional<std::string>;

class StateStore {
 public:
  using ValueDone = std::function<void(absl::StatusOr<MaybeValue>)>;
  using Done = std::function<void(absl::Status)>;

  virtual ~StateStore() = default;

  // The value of `key`.
  virtual void Get(const std::string& key, ValueDone done) = 0;
  // Sets `key` to `value` for `ttl` only if it is absent, atomically (Redis
  // SET NX GET PX). `done` gets nullopt when this call set it, else the value
  // that was there (left unchanged).
  virtual void SetIfAbsent(const std::string& key, const std::string& value, absl::Duration ttl,
                           ValueDone done) = 0;
  // Sets `key` to `value` for `ttl` (at least 1 ms).
  virtual void Set(const std::string& key, const std::string& value, absl::Duration ttl,
                   Done done) = 0;
  virtual void Delete(const std::string& key, Done done) = 0;

  // Whether the last operation reached the store (true before the first).
  virtual bool up() const = 0;
  // Where the store is, for logs and health ("redis 127.0.0.1:6379/0";
  // never a password).
  virtual std::string description() const = 0;
};

}  // namespace fivetran_gateway::state

#endif  // FIVETRAN_GATEWAY_SERVER_STATE_STATE_STORE_H_
