// CoalescingFivetranApi over a fake API that holds its answers, on a manual
// clock: identical reads share one request, each waiter keeps its own
// deadline and cancellation, writes are never shared.
#include "server/fivetran/coalescing_api.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "server/common/manual_timers.h"
#include "server/common/trace_context.h"
#include "server/fivetran/fake_api.h"

namespace fivetran_gateway::fivetran {
namespace {

template <typename T>
struct Outcome {
  std::optional<absl::StatusOr<T>> result;
  ApiCallback<T> Into() {
    return [this](absl::StatusOr<T> r, const UpstreamInfo&) { result = std::move(r); };
  }
};

class CoalescingTest : public ::testing::Test {
 protected:
  CoalescingTest() : api_(&fake_, &timers_) {
    fake_.set_hold(true);
    fake_.get_connection = [this](const std::string& id) -> absl::StatusOr<v1::Connection> {
      v1::Connection c;
      c.set_id(id);
      c.set_schema(absl::StrCat("read_", ++reads_));
      return c;
    };
  }
  int Calls(const std::string& operation) {
    int n = 0;
    for (const auto& c : fake_.calls()) n += c.operation == operation;
    return n;
  }
  absl::Time In(absl::Duration d) { return timers_.Now() + d; }

  FakeFivetranApi fake_;
  ManualTimers timers_;
  CoalescingFivetranApi api_;
  int reads_ = 0;
};

TEST_F(CoalescingTest, IdenticalReadsInFlightShareOneRequest) {
  std::vector<Outcome<v1::Connection>> out(100);
  std::vector<std::shared_ptr<Cancellable>> handles;
  for (auto& o : out)
    handles.push_back(api_.GetConnection("c1", kCachedReadOk, In(absl::Seconds(5)), o.Into()));
  Outcome<v1::Connection> other;
  handles.push_back(api_.GetConnection("c2", kCachedReadOk, In(absl::Seconds(5)), other.Into()));
  EXPECT_EQ(Calls("GetConnection"), 2);
  EXPECT_EQ(fake_.Release(), 2);
  for (auto& o : out) {
    ASSERT_TRUE(o.result.has_value() && o.result->ok());
    EXPECT_EQ((*o.result)->id(), "c1");
    EXPECT_EQ((*o.result)->schema(), (*out[0].result)->schema());  // The same answer.
  }
  EXPECT_EQ((*other.result)->id(), "c2");
  EXPECT_EQ(api_.stats().upstream_reads, 2);
  EXPECT_EQ(api_.stats().coalesced_reads, 99);

  // Finished: the next read asks again (nothing is cached).
  Outcome<v1::Connection> later;
  auto h = api_.GetConnection("c1", kCachedReadOk, In(absl::Seconds(5)), later.Into());
  EXPECT_EQ(Calls("GetConnection"), 3);
  fake_.Release();
  EXPECT_NE((*later.result)->schema(), (*out[0].result)->schema());
}

// The RPC reads in wire form, a sync watcher as a message: one request.
TEST_F(CoalescingTest, ReadsInWireFormAndAsMessagesShareOneRequest) {
  Outcome<SerializedConnection> wire;
  Outcome<v1::Connection> message;
  auto hw = api_.GetSerializedConnection("c1", kCachedReadOk, In(absl::Seconds(5)), wire.Into());
  auto hm = api_.GetConnection("c1", kCachedReadOk, In(absl::Seconds(5)), message.Into());
  EXPECT_EQ(Calls("GetConnection"), 1);
  EXPECT_EQ(fake_.Release(), 1);
  ASSERT_TRUE(wire.result.has_value() && wire.result->ok());
  ASSERT_TRUE(message.result.has_value() && message.result->ok());
  v1::Connection parsed;
  ASSERT_TRUE(SerializedConnection::ParseInto((*wire.result)->bytes, &parsed));
  EXPECT_EQ(parsed.id(), "c1");
  EXPECT_EQ(parsed.schema(), "read_1");
  EXPECT_EQ(parsed.SerializeAsString(), (*message.result)->SerializeAsString());
  EXPECT_EQ(api_.stats().coalesced_reads, 1);

  // And the other way round, an error shared.
  fake_.get_connection = [](const std::string&) -> absl::StatusOr<v1::Connection> {
    return absl::NotFoundError("no such connection");
  };
  Outcome<v1::Connection> first;
  Outcome<SerializedConnection> second;
  auto h1 = api_.GetConnection("gone", kCachedReadOk, In(absl::Seconds(5)), first.Into());
  auto h2 =
      api_.GetSerializedConnection("gone", kCachedReadOk, In(absl::Seconds(5)), second.Into());
  EXPECT_EQ(fake_.Release(), 1);
  EXPECT_EQ(first.result->status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(second.result->status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Calls("GetConnection"), 2);
}

TEST_F(CoalescingTest, ErrorsAreSharedToo) {
  fake_.get_connection = [](const std::string&) -> absl::StatusOr<v1::Connection> {
    return absl::NotFoundError("no such connection");
  };
  Outcome<v1::Connection> a, b;
  auto ha = api_.GetConnection("gone", kCachedReadOk, In(absl::Seconds(5)), a.Into());
  auto hb = api_.GetConnection("gone", kCachedReadOk, In(absl::Seconds(5)), b.Into());
  fake_.Release();
  EXPECT_EQ(a.result->status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(b.result->status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Calls("GetConnection"), 1);
}

TEST_F(CoalescingTest, AWaiterWithAnEarlierDeadlineLeavesAloneOnTime) {
  Outcome<v1::Connection> early, late;
  auto hl = api_.GetConnection("c1", kCachedReadOk, In(absl::Seconds(10)), late.Into());
  auto he = api_.GetConnection("c1", kCachedReadOk, In(absl::Seconds(1)), early.Into());
  EXPECT_EQ(fake_.calls().at(0).deadline, In(absl::Seconds(10)));  // The starter's deadline.
  timers_.Advance(absl::Seconds(1));
  ASSERT_TRUE(early.result.has_value());
  EXPECT_EQ(early.result->status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_FALSE(late.result.has_value());
  EXPECT_EQ(fake_.cancelled(), 0);  // The shared request goes on for the other waiter.
  fake_.Release();
  ASSERT_TRUE(late.result.has_value() && late.result->ok());
}

TEST_F(CoalescingTest, WaitersWithTimeLeftAreSentAgainWhenTheStartersDeadlineRunsOut) {
  int attempts = 0;
  fake_.get_connection = [&](const std::string& id) -> absl::StatusOr<v1::Connection> {
    if (++attempts == 1) return absl::DeadlineExceededError("the starter's deadline ran out");
    v1::Connection c;
    c.set_id(id);
    return c;
  };
  Outcome<v1::Connection> starter, patient;
  auto hs = api_.GetConnection("c1", kCachedReadOk, In(absl::Seconds(1)), starter.Into());
  auto hp = api_.GetConnection("c1", kCachedReadOk, In(absl::Seconds(30)), patient.Into());
  EXPECT_EQ(fake_.Release(), 1);
  EXPECT_EQ(starter.result->status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_FALSE(patient.result.has_value());
  EXPECT_EQ(Calls("GetConnection"), 2);
  EXPECT_EQ(fake_.calls().at(1).deadline, In(absl::Seconds(30)));
  fake_.Release();
  ASSERT_TRUE(patient.result.has_value() && patient.result->ok());
}

TEST_F(CoalescingTest, CancellingOneWaiterKeepsTheRequestUntilTheLastLeaves) {
  Outcome<v1::Connection> a, b;
  auto ha = api_.GetConnection("c1", kCachedReadOk, In(absl::Seconds(5)), a.Into());
  auto hb = api_.GetConnection("c1", kCachedReadOk, In(absl::Seconds(5)), b.Into());
  ha->Cancel();
  EXPECT_EQ(a.result->status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(fake_.cancelled(), 0);
  hb->Cancel();
  EXPECT_EQ(b.result->status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(fake_.cancelled(), 1);  // The last one out cancels the upstream request.
  ha->Cancel();                     // Harmless again.

  // A new read after everyone left sends a new request.
  Outcome<v1::Connection> c;
  auto hc = api_.GetConnection("c1", kCachedReadOk, In(absl::Seconds(5)), c.Into());
  EXPECT_EQ(Calls("GetConnection"), 2);
  fake_.Release();
  EXPECT_TRUE(c.result->ok());
}

TEST_F(CoalescingTest, PagesAreSharedOnlyForTheSameArguments) {
  fake_.list_group_connections = [](const std::string&, const std::string&,
                                    const PageRequest&) -> absl::StatusOr<Page<v1::Connection>> {
    return Page<v1::Connection>{};
  };
  std::vector<Outcome<Page<SerializedConnection>>> out(4);
  std::vector<std::shared_ptr<Cancellable>> h;
  h.push_back(api_.ListGroupConnections("g", "", {100, ""}, kCachedReadOk, In(absl::Seconds(5)),
                                        out[0].Into()));
  h.push_back(api_.ListGroupConnections("g", "", {100, ""}, kCachedReadOk, In(absl::Seconds(5)),
                                        out[1].Into()));
  h.push_back(api_.ListGroupConnections("g", "s", {100, ""}, kCachedReadOk, In(absl::Seconds(5)),
                                        out[2].Into()));
  h.push_back(api_.ListGroupConnections("g", "", {100, "c"}, kCachedReadOk, In(absl::Seconds(5)),
                                        out[3].Into()));
  EXPECT_EQ(Calls("ListGroupConnections"), 3);
  fake_.Release();
  for (auto& o : out) EXPECT_TRUE(o.result.has_value() && o.result->ok());
}

// A read cache below may answer a read that is not fresh: a fresh read
// (a sync poll, cache-control: no-cache) must not wait for its answer. The
// other way round is harmless.
TEST_F(CoalescingTest, FreshReadsJoinOnlyFreshReads) {
  Outcome<v1::Connection> cached, fresh, later_cached, later_fresh;
  auto h1 = api_.GetConnection("c1", kCachedReadOk, In(absl::Seconds(5)), cached.Into());
  auto h2 = api_.GetConnection("c1", kFreshRead, In(absl::Seconds(5)), fresh.Into());
  auto h3 = api_.GetConnection("c1", kCachedReadOk, In(absl::Seconds(5)), later_cached.Into());
  auto h4 = api_.GetConnection("c1", kFreshRead, In(absl::Seconds(5)), later_fresh.Into());
  std::vector<FakeFivetranApi::Call> calls = fake_.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_FALSE(calls[0].fresh);
  EXPECT_TRUE(calls[1].fresh);
  EXPECT_EQ(fake_.Release(), 2);
  EXPECT_EQ(cached.result->value().schema(), "read_1");
  EXPECT_EQ(fresh.result->value().schema(), "read_2");
  EXPECT_EQ(later_cached.result->value().schema(), "read_2");
  EXPECT_EQ(later_fresh.result->value().schema(), "read_2");
}

TEST_F(CoalescingTest, WritesAreNeverShared) {
  fake_.trigger_sync = [](const std::string&, bool) -> absl::StatusOr<SyncTriggered> {
    return SyncTriggered{"ok"};
  };
  Outcome<SyncTriggered> a, b;
  auto ha = api_.TriggerSync("c1", false, In(absl::Seconds(5)), a.Into());
  auto hb = api_.TriggerSync("c1", false, In(absl::Seconds(5)), b.Into());
  EXPECT_EQ(Calls("TriggerSync"), 2);
  fake_.Release();
  EXPECT_TRUE(a.result->ok() && b.result->ok());
}

// The shared request is the first caller's, but each waiter's callback runs
// with its own caller's trace context, so what it does next is traced as
// that caller's (trace_context.h).
TEST_F(CoalescingTest, EachWaiterIsAnsweredWithItsOwnTraceContext) {
  auto first = std::make_shared<const TraceContext>(StartTrace(std::nullopt, std::nullopt, "a"));
  auto second = std::make_shared<const TraceContext>(StartTrace(std::nullopt, std::nullopt, "b"));
  std::shared_ptr<const TraceContext> seen_first, seen_second;
  std::vector<std::shared_ptr<Cancellable>> handles;
  {
    ScopedTrace scope(first);
    handles.push_back(api_.GetConnection(
        "c1", kCachedReadOk, In(absl::Seconds(5)),
        [&](absl::StatusOr<v1::Connection>, const UpstreamInfo&) { seen_first = CurrentTrace(); }));
  }
  {
    ScopedTrace scope(second);
    handles.push_back(api_.GetConnection("c1", kCachedReadOk, In(absl::Seconds(5)),
                                         [&](absl::StatusOr<v1::Connection>, const UpstreamInfo&) {
                                           seen_second = CurrentTrace();
                                         }));
  }
  EXPECT_EQ(Calls("GetConnection"), 1);
  fake_.Release();
  EXPECT_EQ(seen_first, first);
  EXPECT_EQ(seen_second, second);
  EXPECT_EQ(CurrentTrace(), nullptr);
}

}  // namespace
}  // namespace fivetran_gateway::fivetran
