// RedisStateStore against a real redis-server started by the test on a free
// loopback port (tests/redis_server.h), including the store going away and
// coming back.
#include "server/state/redis_store.h"

#include <thread>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "server/state/memory_store.h"
#include "tests/redis_server.h"

namespace fivetran_gateway::state {
namespace {

using ::fivetran_gateway::testing::RedisServer;

// Synchronous wrappers for the tests (the store itself never blocks a caller).
absl::StatusOr<MaybeValue> Get(StateStore& s, const std::string& key) {
  absl::Notification done;
  absl::StatusOr<MaybeValue> out;
  s.Get(key, [&](absl::StatusOr<MaybeValue> v) {
    out = std::move(v);
    done.Notify();
  });
  done.WaitForNotification();
  return out;
}
absl::StatusOr<MaybeValue> SetIfAbsent(StateStore& s, const std::string& key,
                                       const std::string& value, absl::Duration ttl) {
  absl::Notification done;
  absl::StatusOr<MaybeValue> out;
  s.SetIfAbsent(key, value, ttl, [&](absl::StatusOr<MaybeValue> v) {
    out = std::move(v);
    done.Notify();
  });
  done.WaitForNotification();
  return out;
}
absl::Status Set(StateStore& s, const std::string& key, const std::string& value,
                 absl::Duration ttl) {
  absl::Notification done;
  absl::Status out;
  s.Set(key, value, ttl, [&](absl::Status st) {
    out = st;
    done.Notify();
  });
  done.WaitForNotification();
  return out;
}
absl::Status Delete(StateStore& s, const std::string& key) {
  absl::Notification done;
  absl::Status out;
  s.Delete(key, [&](absl::Status st) {
    out = st;
    done.Notify();
  });
  done.WaitForNotification();
  return out;
}

RedisStoreOptions OptionsFor(const RedisServer& redis) {
  RedisStoreOptions o;
  o.endpoint.host = "127.0.0.1";
  o.endpoint.port = redis.port();
  o.prefix = "test:";
  o.min_backoff = absl::Milliseconds(20);
  o.max_backoff = absl::Milliseconds(100);
  return o;
}

TEST(ParseStateStoreUrl, AcceptsTheDocumentedForms) {
  auto tcp = ParseStateStoreUrl("redis://10.0.0.7:6380/3");
  ASSERT_TRUE(tcp.ok()) << tcp.status();
  EXPECT_EQ(tcp->host, "10.0.0.7");
  EXPECT_EQ(tcp->port, 6380);
  EXPECT_EQ(tcp->db, 3);
  auto defaults = ParseStateStoreUrl("redis://redis.internal");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->port, 6379);
  EXPECT_EQ(defaults->db, 0);
  auto v6 = ParseStateStoreUrl("redis://[::1]:7000");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 7000);
  EXPECT_EQ(v6->ToString(), "[::1]:7000/0");
  auto unix_socket = ParseStateStoreUrl("unix:///run/redis/redis.sock?db=2");
  ASSERT_TRUE(unix_socket.ok());
  EXPECT_EQ(unix_socket->unix_path, "/run/redis/redis.sock");
  EXPECT_EQ(unix_socket->db, 2);
}

TEST(ParseStateStoreUrl, RefusesOthersWithoutEchoingAPassword) {
  for (const char* bad :
       {"http://h:1", "redis://", "redis://h:0", "redis://h:99999", "redis://h:1/16", "redis://h:x",
        "unix://relative.sock", "unix:///s.sock?db=x", "redis://[::1:5"}) {
    EXPECT_EQ(ParseStateStoreUrl(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  absl::Status s = ParseStateStoreUrl("redis://:hunter2secret@h:6379").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(s.message()).find("hunter2secret"), std::string::npos) << s;
  EXPECT_NE(std::string(s.message()).find("--state_store_password_file"), std::string::npos);
}

TEST(RedisStateStore, OperationsWithPrefixAndExpiry) {
  RedisServer redis;
  RedisStateStore store(OptionsFor(redis));
  EXPECT_EQ(*Get(store, "k"), std::nullopt);
  ASSERT_TRUE(Set(store, "k", std::string("v\0w", 3), absl::Seconds(30)).ok());
  EXPECT_EQ(*Get(store, "k"), std::string("v\0w", 3));
  EXPECT_EQ(redis.Command({"EXISTS", "test:k"}), ":1");  // Namespaced.
  EXPECT_EQ(redis.Command({"EXISTS", "k"}), ":0");

  // SetIfAbsent: the first one sets; the second sees the first's value.
  EXPECT_EQ(*SetIfAbsent(store, "claim", "a", absl::Seconds(30)), std::nullopt);
  EXPECT_EQ(*SetIfAbsent(store, "claim", "b", absl::Seconds(30)), MaybeValue("a"));
  EXPECT_EQ(*Get(store, "claim"), MaybeValue("a"));
  ASSERT_TRUE(Delete(store, "claim").ok());
  EXPECT_EQ(*Get(store, "claim"), std::nullopt);

  // The TTL is given to Redis in milliseconds.
  ASSERT_TRUE(Set(store, "short", "x", absl::Milliseconds(1500)).ok());
  std::string pttl = redis.Command({"PTTL", "test:short"});
  ASSERT_EQ(pttl[0], ':') << pttl;
  int ms = std::stoi(pttl.substr(1));
  EXPECT_GT(ms, 500);
  EXPECT_LE(ms, 1500);
  EXPECT_TRUE(store.up());
}

TEST(RedisStateStore, CallbacksRunOnTheStoreThread) {
  RedisServer redis;
  RedisStateStore store(OptionsFor(redis));
  absl::Notification done;
  std::thread::id ran_on;
  store.Get("x", [&](absl::StatusOr<MaybeValue>) {
    ran_on = std::this_thread::get_id();
    done.Notify();
  });
  done.WaitForNotification();
  EXPECT_NE(ran_on, std::this_thread::get_id());
}

TEST(RedisStateStore, PasswordDatabaseAndUnixSocket) {
  RedisServer redis("s3cret-pass");
  RedisStoreOptions o = OptionsFor(redis);
  o.endpoint = RedisEndpoint{};
  o.endpoint.unix_path = redis.unix_path();
  o.endpoint.db = 5;
  o.password = "s3cret-pass";
  RedisStateStore store(o);
  ASSERT_TRUE(Set(store, "k", "v", absl::Seconds(30)).ok());
  EXPECT_EQ(redis.Command({"EXISTS", "test:k"}), ":0");  // Database 0.
  EXPECT_EQ(*Get(store, "k"), MaybeValue("v"));

  o.password = "wrong";
  RedisStateStore refused(o);
  absl::StatusOr<MaybeValue> r = Get(refused, "k");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(std::string(r.status().message()).find("wrong"), std::string::npos);
  EXPECT_FALSE(refused.up());
}

TEST(RedisStateStore, GoesAwayAndComesBack) {
  RedisServer redis;
  RedisStateStore store(OptionsFor(redis));
  ASSERT_TRUE(Set(store, "k", "v", absl::Seconds(30)).ok());
  redis.Kill();
  absl::StatusOr<MaybeValue> r = Get(store, "k");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_FALSE(store.up());
  // While down, operations fail fast (no connect per call within backoff).
  absl::Time start = absl::Now();
  for (int i = 0; i < 50; ++i) EXPECT_FALSE(Get(store, "k").ok());
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));

  redis.Start();  // Same port, empty.
  absl::Time until = absl::Now() + absl::Seconds(10);
  absl::Status last;
  do {
    last = Set(store, "k2", "back", absl::Seconds(30));
  } while (!last.ok() && absl::Now() < until);
  ASSERT_TRUE(last.ok()) << last;
  EXPECT_TRUE(store.up());
  EXPECT_EQ(*Get(store, "k2"), MaybeValue("back"));
}

TEST(RedisStateStore, AHungServerTimesOutInsteadOfBlocking) {
  RedisServer redis;
  RedisStoreOptions o = OptionsFor(redis);
  o.command_timeout = absl::Milliseconds(200);
  RedisStateStore store(o);
  ASSERT_TRUE(Set(store, "k", "v", absl::Seconds(30)).ok());
  redis.Pause();
  absl::Time start = absl::Now();
  absl::StatusOr<MaybeValue> r = Get(store, "k");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  EXPECT_FALSE(store.up());
  redis.Resume();
  absl::Time until = absl::Now() + absl::Seconds(10);
  do {
    r = Get(store, "k");
  } while (!r.ok() && absl::Now() < until);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, MaybeValue("v"));
}

TEST(RedisStateStore, StopFailsWhatIsLeft) {
  RedisServer redis;
  RedisStateStore store(OptionsFor(redis));
  store.Stop();
  absl::StatusOr<MaybeValue> r = Get(store, "k");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
}

TEST(InMemoryStateStore, SameSemantics) {
  absl::Time now = absl::FromUnixSeconds(1000);
  InMemoryStateStore store([&] { return now; });
  EXPECT_EQ(*SetIfAbsent(store, "c", "a", absl::Seconds(1)), std::nullopt);
  EXPECT_EQ(*SetIfAbsent(store, "c", "b", absl::Seconds(1)), MaybeValue("a"));
  now += absl::Seconds(1);
  EXPECT_EQ(*Get(store, "c"), std::nullopt);  // Expired.
  store.SetDown(true);
  EXPECT_EQ(Get(store, "c").status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace fivetran_gateway::state
