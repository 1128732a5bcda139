// RedisStateStore: the StateStore of a fleet, on Redis (Debian's
// redis-server 7) through hiredis 0.14's synchronous API on the store's own
// thread, so that no gRPC, curl or timer thread ever waits on Redis.
//
// One connection, one thread: operations are queued and run in order, each
// bounded by `command_timeout` (time in the queue included). A lost
// connection is reopened on the next operation, at most once per backoff
// period (doubling from `min_backoff` to `max_backoff`); in between,
// operations fail at once with UNAVAILABLE. An outage is logged once when it
// starts and once when it ends (with the address, never the password).
#ifndef FIVETRAN_GATEWAY_SERVER_STATE_REDIS_STORE_H_
#define FIVETRAN_GATEWAY_SERVER_STATE_REDIS_STORE_H_

#include <atomic>
#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/state/state_store.h"

struct redisContext;

namespace fivetran_gateway::state {

// Where Redis listens: `host:port` or a unix socket path; database `db`.
struct RedisEndpoint {
  std::string host;  // "" with unix_path set.
  int port = 6379;
  std::string unix_path;
  int db = 0;
  std::string ToString() const;  // "127.0.0.1:6379/0", "unix:///run/redis.sock/0".
};

// Parses --state_store: `redis://HOST:PORT[/DB]` (IPv6 host in brackets;
// port 6379 when omitted) or `unix:///PATH[?db=N]`. INVALID_ARGUMENT with a
// message naming the accepted forms; a URL with a user or password
// (`redis://:secret@host`) is refused without echoing it: the password
// belongs in --state_store_password_file.
absl::StatusOr<RedisEndpoint> ParseStateStoreUrl(const std::string& url);

struct RedisStoreOptions {
  RedisEndpoint endpoint;
  std::string password;                      // Secret: AUTH only, never logged. "" = no AUTH.
  std::string prefix = "fivetran-gateway:";  // Prepended to every key.
  absl::Duration command_timeout = absl::Milliseconds(500);
  absl::Duration connect_timeout = absl::Milliseconds(500);
  absl::Duration min_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(5);
  size_t max_queue = 10000;  // Operations waiting; more fail at once.
};

class RedisStateStore final : public StateStore {
 public:
  // Starts the thread; connects on the first operation.
  explicit RedisStateStore(RedisStoreOptions options);
  ~RedisStateStore() override;  // Stop().
  RedisStateStore(const RedisStateStore&) = delete;
  RedisStateStore& operator=(const RedisStateStore&) = delete;

  void Get(const std::string& key, ValueDone done) override;
  void SetIfAbsent(const std::string& key, const std::string& value, absl::Duration ttl,
                   ValueDone done) override;
  void Set(const std::string& key, const std::string& value, absl::Duration ttl,
           Done done) override;
  void Delete(const std::string& key, Done done) override;
  bool up() const override { return up_.load(); }
  std::string description() const override;

  // Joins the thread; operations still queued (and any later) fail with
  // UNAVAILABLE, their callbacks running on the caller's thread. Idempotent.
  void Stop();

 private:
  // A reply: nil, a string (bulk or status), or an error.
  using Reply = absl::StatusOr<MaybeValue>;
  struct Op {
    std::vector<std::string> argv;
    absl::Time deadline;
    std::function<void(Reply)> done;
  };
  void Enqueue(std::vector<std::string> argv, std::function<void(Reply)> done);
  void Loop();
  Reply Run(const std::vector<std::string>& argv);
  absl::Status Connect();
  void Disconnect();
  void MarkUp();
  void MarkDown(const std::string& why);

  const RedisStoreOptions options_;
  absl::Mutex mu_;
  std::deque<Op> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<bool> up_{true};
  // Store thread only.
  redisContext* context_ = nullptr;
  absl::Time next_connect_ = absl::InfinitePast();
  absl::Duration backoff_;
  absl::Time down_since_ = absl::InfinitePast();
  std::thread thread_;
};

}  // namespace fivetran_gateway::state

#endif  // FIVETRAN_GATEWAY_SERVER_STATE_REDIS_STORE_H_
