// CachingFivetranApi over a fake API, on a manual clock: hits within the
// TTL, misses after it, what creates and sync triggers drop, fresh reads,
// errors, the bounds, and the decorator under CoalescingFivetranApi as
// Gateway::MakeSet stacks them.
#include "server/fivetran/cached_api.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "server/common/manual_timers.h"
#include "server/common/status.h"
#include "server/fivetran/coalescing_api.h"
#include "server/fivetran/fake_api.h"

namespace fivetran_gateway::fivetran {
namespace {

using Cache = UpstreamInfo::Cache;

template <typename T>
struct Outcome {
  std::optional<absl::StatusOr<T>> result;
  UpstreamInfo info;
  ApiCallback<T> Into() {
    return [this](absl::StatusOr<T> r, const UpstreamInfo& i) {
      result = std::move(r);
      info = i;
    };
  }
};

class CacheTest : public ::testing::Test {
 protected:
  explicit CacheTest(ReadCacheOptions options = {}) : options_(options) {
    fake_.get_connection = [this](const std::string& id) -> absl::StatusOr<v1::Connection> {
      auto error = errors_.find(id);
      if (error != errors_.end()) return error->second;
      v1::Connection c;
      c.set_id(id);
      c.set_group_id(group_of_[id]);
      c.set_schema(absl::StrCat("read_", ++reads_));
      return c;
    };
    fake_.list_group_connections = [this](
                                       const std::string& group_id, const std::string&,
                                       const PageRequest&) -> absl::StatusOr<Page<v1::Connection>> {
      Page<v1::Connection> page;
      page.items.emplace_back().set_group_id(group_id);
      page.items.back().set_schema(absl::StrCat("read_", ++reads_));
      return page;
    };
    fake_.list_groups = [this](const PageRequest&) -> absl::StatusOr<Page<v1::Group>> {
      Page<v1::Group> page;
      page.items.emplace_back().set_name(absl::StrCat("read_", ++reads_));
      return page;
    };
    fake_.list_users = [this](std::optional<bool>,
                              const PageRequest&) -> absl::StatusOr<Page<v1::User>> {
      Page<v1::User> page;
      page.items.emplace_back().set_email(absl::StrCat("read_", ++reads_));
      return page;
    };
    fake_.trigger_sync = [](const std::string&, bool) -> absl::StatusOr<SyncTriggered> {
      return SyncTriggered{"triggered"};
    };
    fake_.create_connection = [](const nlohmann::json& body) -> absl::StatusOr<v1::Connection> {
      v1::Connection c;
      c.set_id("new_one");
      c.set_group_id(body.at("group_id").get<std::string>());
      return c;
    };
    group_of_["c1"] = "g1";
    group_of_["c2"] = "g2";
  }

  int Sent() { return static_cast<int>(fake_.calls().size()); }

  // One read of each kind; `sent` says which reached the fake.
  Outcome<v1::Connection> Get(const std::string& id, ReadOptions read = kCachedReadOk) {
    Outcome<v1::Connection> out;
    api_.GetConnection(id, read, absl::InfiniteFuture(), out.Into());
    return out;
  }
  Outcome<Page<SerializedConnection>> List(const std::string& group, const std::string& schema = "",
                                           const std::string& cursor = "") {
    Outcome<Page<SerializedConnection>> out;
    api_.ListGroupConnections(group, schema, {100, cursor}, kCachedReadOk, absl::InfiniteFuture(),
                              out.Into());
    return out;
  }
  bool GroupsHit() {
    Outcome<Page<v1::Group>> out;
    api_.ListGroups({100, ""}, kCachedReadOk, absl::InfiniteFuture(), out.Into());
    return out.info.cache == Cache::kHit;
  }
  bool UsersHit() {
    Outcome<Page<v1::User>> out;
    api_.ListUsers(true, {100, ""}, kCachedReadOk, absl::InfiniteFuture(), out.Into());
    return out.info.cache == Cache::kHit;
  }
  void Trigger(const std::string& id) {
    Outcome<SyncTriggered> out;
    api_.TriggerSync(id, false, absl::InfiniteFuture(), out.Into());
    ASSERT_TRUE(out.result.has_value() && out.result->ok());
  }
  void Create(const std::string& group) {
    v1::CreateConnectionRequest req;
    req.set_group_id(group);
    req.set_service("ftp");
    (*req.mutable_config()->mutable_fields())["schema"].set_string_value("new_schema");
    absl::StatusOr<NewConnection> body = NewConnection::From(req);
    ASSERT_TRUE(body.ok()) << body.status();
    Outcome<v1::Connection> out;
    api_.CreateConnection(*body, absl::InfiniteFuture(), out.Into());
    ASSERT_TRUE(out.result.has_value() && out.result->ok());
  }

  const ReadCacheOptions options_;
  FakeFivetranApi fake_;
  ManualTimers timers_;
  CachingFivetranApi api_{&fake_, &timers_, options_};
  std::map<std::string, std::string> group_of_;
  std::map<std::string, absl::Status> errors_;
  int reads_ = 0;
};

TEST_F(CacheTest, ASecondReadWithinTheTtlIsAHitAndSaysItsAge) {
  Outcome<v1::Connection> first = Get("c1");
  EXPECT_EQ(first.info.cache, Cache::kMiss);
  EXPECT_EQ(first.info.attempts, 1);
  timers_.Advance(absl::Seconds(12));
  Outcome<v1::Connection> second = Get("c1");
  EXPECT_EQ(Sent(), 1);
  ASSERT_TRUE(second.result->ok());
  EXPECT_EQ(second.result->value().schema(), "read_1");
  EXPECT_EQ(second.info.cache, Cache::kHit);
  EXPECT_EQ(second.info.cache_age, absl::Seconds(12));
  EXPECT_EQ(second.info.attempts, 0);  // Nothing was sent for it.
  EXPECT_EQ(second.info.http_status, 200);
  EXPECT_EQ(Get("c2").info.cache, Cache::kMiss);  // Another id is another entry.
  EXPECT_EQ(api_.stats().hits, 1);
  EXPECT_EQ(api_.stats().misses, 2);
}

TEST_F(CacheTest, AnEntryExpiresAfterTheTtl) {
  Get("c1");
  timers_.Advance(absl::Seconds(30) - absl::Milliseconds(1));
  EXPECT_EQ(Get("c1").info.cache, Cache::kHit);
  timers_.Advance(absl::Milliseconds(1));
  Outcome<v1::Connection> expired = Get("c1");
  EXPECT_EQ(expired.info.cache, Cache::kMiss);
  EXPECT_EQ(expired.result->value().schema(), "read_2");
  EXPECT_EQ(Sent(), 2);
}

TEST_F(CacheTest, EachPageIsKeyedByItsFiltersAndCursor) {
  List("g1");
  EXPECT_EQ(List("g1").info.cache, Cache::kHit);
  EXPECT_EQ(List("g1", "s").info.cache, Cache::kMiss);
  EXPECT_EQ(List("g1", "", "next").info.cache, Cache::kMiss);
  EXPECT_EQ(List("g10").info.cache, Cache::kMiss);
  EXPECT_FALSE(GroupsHit());
  EXPECT_TRUE(GroupsHit());
  EXPECT_FALSE(UsersHit());
  EXPECT_TRUE(UsersHit());
  Outcome<Page<v1::User>> inactive;
  api_.ListUsers(false, {100, ""}, kCachedReadOk, absl::InfiniteFuture(), inactive.Into());
  EXPECT_EQ(inactive.info.cache, Cache::kMiss);
}

TEST_F(CacheTest, ACreateDropsTheListingsOfItsGroupOnly) {
  Get("c1");
  List("g1");
  List("g1", "some_schema", "cursor");
  List("g2");
  GroupsHit();
  UsersHit();
  Create("g1");
  EXPECT_EQ(List("g1").info.cache, Cache::kMiss);
  EXPECT_EQ(List("g1", "some_schema", "cursor").info.cache, Cache::kMiss);
  EXPECT_EQ(List("g2").info.cache, Cache::kHit);
  EXPECT_EQ(Get("c1").info.cache, Cache::kHit);
  EXPECT_TRUE(GroupsHit());
  EXPECT_TRUE(UsersHit());
}

TEST_F(CacheTest, ATriggerDropsTheConnectionAndTheListingsOfItsGroup) {
  Get("c1");
  Get("c2");
  List("g1");
  List("g2");
  GroupsHit();
  Trigger("c1");
  Outcome<v1::Connection> after = Get("c1");
  EXPECT_EQ(after.info.cache, Cache::kMiss);
  EXPECT_EQ(List("g1").info.cache, Cache::kMiss);
  EXPECT_EQ(Get("c2").info.cache, Cache::kHit);
  EXPECT_EQ(List("g2").info.cache, Cache::kHit);
  EXPECT_TRUE(GroupsHit());
}

TEST_F(CacheTest, ATriggerOfAConnectionNotCachedDropsEveryConnectionListing) {
  Get("c2");
  List("g1");
  List("g2", "s");
  GroupsHit();
  Trigger("c1");
  EXPECT_EQ(List("g1").info.cache, Cache::kMiss);
  EXPECT_EQ(List("g2", "s").info.cache, Cache::kMiss);
  EXPECT_EQ(Get("c2").info.cache, Cache::kHit);
  EXPECT_TRUE(GroupsHit());
}

// An answer that may predate a change is never kept: the read was sent
// before the trigger finished.
TEST_F(CacheTest, AReadInFlightDuringAChangeIsNotStored) {
  fake_.set_hold(true);
  Outcome<v1::Connection> before;
  api_.GetConnection("c1", kCachedReadOk, absl::InfiniteFuture(), before.Into());
  fake_.set_hold(false);
  Trigger("c1");
  EXPECT_EQ(fake_.Release(), 1);
  ASSERT_TRUE(before.result->ok());
  EXPECT_EQ(Get("c1").info.cache, Cache::kMiss);
  EXPECT_EQ(Get("c1").info.cache, Cache::kHit);  // Read after the change: kept.
}

TEST_F(CacheTest, FreshReadsAreAlwaysSentAndRefreshTheEntry) {
  Get("c1");
  timers_.Advance(absl::Seconds(5));
  Outcome<v1::Connection> fresh = Get("c1", kFreshRead);
  EXPECT_EQ(fresh.info.cache, Cache::kMiss);
  EXPECT_EQ(fresh.result->value().schema(), "read_2");
  ASSERT_EQ(Sent(), 2);
  EXPECT_TRUE(fake_.calls()[1].fresh);  // Passed on, for decorators below.
  timers_.Advance(absl::Seconds(3));
  Outcome<v1::Connection> hit = Get("c1");
  EXPECT_EQ(hit.result->value().schema(), "read_2");
  EXPECT_EQ(hit.info.cache_age, absl::Seconds(3));
}

TEST_F(CacheTest, ErrorsAreNeverKept) {
  errors_["c1"] = MakeError(absl::StatusCode::kUnavailable, "try later", "FIVETRAN_UNAVAILABLE");
  EXPECT_FALSE(Get("c1").result->ok());
  Outcome<v1::Connection> again = Get("c1");
  EXPECT_FALSE(again.result->ok());
  EXPECT_EQ(again.info.cache, Cache::kMiss);
  EXPECT_EQ(Sent(), 2);
  EXPECT_EQ(api_.stats().entries, 0u);
}

TEST_F(CacheTest, ATransientErrorKeepsTheEntryButNotFoundDropsIt) {
  Get("c1");
  errors_["c1"] = MakeError(absl::StatusCode::kUnavailable, "try later", "FIVETRAN_UNAVAILABLE");
  EXPECT_FALSE(Get("c1", kFreshRead).result->ok());
  EXPECT_EQ(Get("c1").info.cache, Cache::kHit);
  errors_["c1"] = MakeError(absl::StatusCode::kNotFound, "gone", "NOT_FOUND");
  EXPECT_FALSE(Get("c1", kFreshRead).result->ok());
  Outcome<v1::Connection> gone = Get("c1");
  EXPECT_EQ(gone.info.cache, Cache::kMiss);
  EXPECT_EQ(gone.result->status().code(), absl::StatusCode::kNotFound);
}

class SmallCacheTest : public CacheTest {
 protected:
  SmallCacheTest() : CacheTest(ReadCacheOptions{absl::Seconds(30), 3, size_t{64} << 10}) {}
};

TEST_F(SmallCacheTest, TheOldestEntryIsEvictedBeyondTheCap) {
  Get("a");
  timers_.Advance(absl::Seconds(1));
  Get("b");
  Get("c");
  Get("a");  // Still a hit: being read does not make an entry younger.
  Get("d");  // Evicts a, the oldest stored.
  EXPECT_EQ(api_.stats().entries, 3u);
  EXPECT_EQ(Get("b").info.cache, Cache::kHit);
  EXPECT_EQ(Get("c").info.cache, Cache::kHit);
  EXPECT_EQ(Get("d").info.cache, Cache::kHit);
  EXPECT_EQ(Get("a").info.cache, Cache::kMiss);
  EXPECT_EQ(api_.stats().entries, 3u);
}

TEST_F(SmallCacheTest, AnAnswerBiggerThanTheByteBoundIsNotKept) {
  fake_.list_groups = [](const PageRequest&) -> absl::StatusOr<Page<v1::Group>> {
    Page<v1::Group> page;
    for (int i = 0; i < 1000; ++i) page.items.emplace_back().set_name(std::string(100, 'x'));
    return page;
  };
  EXPECT_FALSE(GroupsHit());
  EXPECT_FALSE(GroupsHit());
  EXPECT_EQ(api_.stats().entries, 0u);
  Get("a");
  EXPECT_LE(api_.stats().bytes, size_t{64} << 10);
  EXPECT_EQ(api_.stats().entries, 1u);
}

// A connection is kept as the bytes the layer below wrote (here in an order
// protobuf would not write: group_id before id), answered as they are to a
// read in wire form and parsed for GetConnection, from one request; a
// trigger still finds its group in them.
TEST_F(CacheTest, ConnectionsAreKeptInWireFormAsTheLayerBelowWroteThem) {
  v1::Connection group_only;
  group_only.set_group_id("g1");
  v1::Connection id_only;
  id_only.set_id("c1");
  const std::string written = group_only.SerializeAsString() + id_only.SerializeAsString();
  ASSERT_NE(written, SerializedConnection::Of([&] {
                       v1::Connection both = group_only;
                       both.set_id("c1");
                       return both;
                     }())
                         .bytes);
  fake_.get_serialized_connection =
      [&](const std::string&) -> absl::StatusOr<SerializedConnection> {
    return SerializedConnection{written};
  };
  auto wire = [this] {
    Outcome<SerializedConnection> out;
    api_.GetSerializedConnection("c1", kCachedReadOk, absl::InfiniteFuture(), out.Into());
    return out;
  };
  Outcome<SerializedConnection> miss = wire();
  ASSERT_TRUE(miss.result.has_value() && miss.result->ok());
  EXPECT_EQ(miss.info.cache, Cache::kMiss);
  EXPECT_EQ(miss.result->value().bytes, written);
  Outcome<SerializedConnection> hit = wire();
  EXPECT_EQ(hit.info.cache, Cache::kHit);
  ASSERT_TRUE(hit.result.has_value() && hit.result->ok());
  EXPECT_EQ(hit.result->value().bytes, written);
  Outcome<v1::Connection> parsed = Get("c1");
  EXPECT_EQ(parsed.info.cache, Cache::kHit);
  ASSERT_TRUE(parsed.result.has_value() && parsed.result->ok());
  EXPECT_EQ(parsed.result->value().id(), "c1");
  EXPECT_EQ(parsed.result->value().group_id(), "g1");
  ASSERT_EQ(Sent(), 1);
  EXPECT_EQ(fake_.calls()[0].operation, "GetSerializedConnection");

  List("g1");
  List("g2");
  Trigger("c1");
  EXPECT_EQ(wire().info.cache, Cache::kMiss);
  EXPECT_EQ(List("g1").info.cache, Cache::kMiss);
  EXPECT_EQ(List("g2").info.cache, Cache::kHit);
}

// Bytes that do not parse as a whole (not expected from any layer) name no
// group, even when a prefix of them holds a group_id: a trigger then drops
// every listing.
TEST_F(CacheTest, ATriggerOfAConnectionWhoseBytesDoNotParseDropsEveryListing) {
  v1::Connection group_only;
  group_only.set_group_id("g1");
  const std::string broken = group_only.SerializeAsString() + "\xff";
  fake_.get_serialized_connection =
      [&](const std::string&) -> absl::StatusOr<SerializedConnection> {
    return SerializedConnection{broken};
  };
  Outcome<SerializedConnection> read;
  api_.GetSerializedConnection("c1", kCachedReadOk, absl::InfiniteFuture(), read.Into());
  ASSERT_TRUE(read.result.has_value() && read.result->ok());
  List("g1");
  List("g2");
  Trigger("c1");
  EXPECT_EQ(List("g1").info.cache, Cache::kMiss);
  EXPECT_EQ(List("g2").info.cache, Cache::kMiss);
}

// As Gateway::MakeSet stacks them: coalescing over the cache over REST.
TEST(CacheUnderCoalescingTest, ConcurrentMissesCostOneRequestAndHitsSayHit) {
  FakeFivetranApi fake;
  ManualTimers timers;
  int reads = 0;
  fake.get_connection = [&reads](const std::string& id) -> absl::StatusOr<v1::Connection> {
    v1::Connection c;
    c.set_id(id);
    c.set_schema(absl::StrCat("read_", ++reads));
    return c;
  };
  CachingFivetranApi cache(&fake, &timers, ReadCacheOptions{});
  CoalescingFivetranApi api(&cache, &timers);
  fake.set_hold(true);
  std::vector<Outcome<v1::Connection>> misses(5);
  std::vector<std::shared_ptr<Cancellable>> handles;
  for (auto& o : misses) {
    handles.push_back(api.GetConnection("c1", kCachedReadOk, absl::InfiniteFuture(), o.Into()));
  }
  EXPECT_EQ(fake.Release(), 1);
  for (auto& o : misses) EXPECT_EQ(o.info.cache, Cache::kMiss);
  fake.set_hold(false);
  timers.Advance(absl::Seconds(2));
  Outcome<v1::Connection> hit;
  handles.push_back(api.GetConnection("c1", kCachedReadOk, absl::InfiniteFuture(), hit.Into()));
  EXPECT_EQ(hit.info.cache, Cache::kHit);
  EXPECT_EQ(hit.info.cache_age, absl::Seconds(2));
  Outcome<v1::Connection> fresh;
  handles.push_back(api.GetConnection("c1", kFreshRead, absl::InfiniteFuture(), fresh.Into()));
  EXPECT_EQ(fresh.info.cache, Cache::kMiss);
  EXPECT_EQ(fresh.result->value().schema(), "read_2");
  EXPECT_EQ(fake.calls().size(), 2u);
}

}  // namespace
}  // namespace fivetran_gateway::fivetran
