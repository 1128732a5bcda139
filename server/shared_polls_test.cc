// SharedPolls: two "replicas" polling one connection through one in-memory
// StateStore, on a manual clock.
#include "server/shared_polls.h"

#include <vector>

#include "gtest/gtest.h"
#include "server/common/manual_timers.h"
#include "server/state/memory_store.h"

namespace fivetran_gateway {
namespace {

using ::fivetran::gateway::v1::Connection;

class NoopCancel final : public Cancellable {
 public:
  void Cancel() override {}
};

class SharedPollsTest : public ::testing::Test {
 protected:
  SharedPollsTest()
      : store_([this] { return timers_.Now(); }),
        a_(std::make_shared<SharedPolls>(&store_, "scope1", &timers_)),
        b_(std::make_shared<SharedPolls>(&store_, "scope1", &timers_)) {}

  struct Outcome {
    int calls = 0;
    absl::StatusOr<Connection> result = absl::UnknownError("not yet");
  };
  // One poll on `replica`; upstream reads wait in `reads_` until answered.
  std::shared_ptr<Outcome> Poll(SharedPolls& replica,
                                std::shared_ptr<Cancellable>* handle = nullptr) {
    auto out = std::make_shared<Outcome>();
    auto h = replica.Poll(
        "conn_1", absl::Seconds(10),
        [this](fivetran::ApiCallback<Connection> cb) -> std::shared_ptr<Cancellable> {
          reads_.push_back(std::move(cb));
          return std::make_shared<NoopCancel>();
        },
        [out](absl::StatusOr<Connection> r, const fivetran::UpstreamInfo&) {
          ++out->calls;
          out->result = std::move(r);
        });
    if (handle != nullptr) *handle = h;
    return out;
  }
  void Answer(size_t i, const std::string& state) {
    Connection c;
    c.set_id("conn_1");
    c.mutable_status()->set_sync_state_raw(state);
    reads_[i](c, fivetran::UpstreamInfo{});
  }

  ManualTimers timers_;
  state::InMemoryStateStore store_;
  std::shared_ptr<SharedPolls> a_, b_;
  std::vector<fivetran::ApiCallback<Connection>> reads_;
};

TEST_F(SharedPollsTest, OneReadPerIntervalServesEveryReplica) {
  auto first = Poll(*a_);
  ASSERT_EQ(reads_.size(), 1u);
  Answer(0, "syncing");
  ASSERT_EQ(first->calls, 1);
  timers_.Advance(absl::Seconds(2));
  auto second = Poll(*b_);
  EXPECT_EQ(reads_.size(), 1u);  // B used A's observation.
  ASSERT_EQ(second->calls, 1);
  ASSERT_TRUE(second->result.ok());
  EXPECT_EQ(second->result->status().sync_state_raw(), "syncing");
  // Next interval: the lease has expired; whoever is first reads again.
  timers_.Advance(absl::Seconds(8));
  auto third = Poll(*b_);
  EXPECT_EQ(reads_.size(), 2u);
}

TEST_F(SharedPollsTest, AReplicaDueDuringTheReadWaitsForItsResult) {
  Poll(*a_);
  auto waiting = Poll(*b_);
  EXPECT_EQ(waiting->calls, 0);
  timers_.Advance(absl::Milliseconds(120));
  Answer(0, "scheduled");
  EXPECT_EQ(waiting->calls, 0);
  timers_.Advance(absl::Milliseconds(60));
  ASSERT_EQ(waiting->calls, 1);
  EXPECT_EQ(waiting->result->status().sync_state_raw(), "scheduled");
  EXPECT_EQ(reads_.size(), 1u);
}

TEST_F(SharedPollsTest, ALeaseHolderThatNeverPublishesIsNotWaitedForLong) {
  Poll(*a_);  // Never answered: the replica died.
  auto waiting = Poll(*b_);
  timers_.Advance(absl::Seconds(4));
  EXPECT_EQ(reads_.size(), 1u);
  timers_.Advance(absl::Seconds(1));  // max_wait (5 s, at most interval / 2).
  ASSERT_EQ(reads_.size(), 2u);
  Answer(1, "syncing");
  EXPECT_EQ(waiting->calls, 1);
}

TEST_F(SharedPollsTest, StoreDownMeansEveryReplicaReads) {
  store_.SetDown(true);
  auto out = Poll(*a_);
  ASSERT_EQ(reads_.size(), 1u);
  Answer(0, "syncing");
  EXPECT_EQ(out->calls, 1);
}

TEST_F(SharedPollsTest, CancelWhileWaitingEndsOnce) {
  Poll(*a_);
  std::shared_ptr<Cancellable> handle;
  auto waiting = Poll(*b_, &handle);
  handle->Cancel();
  handle->Cancel();
  timers_.Advance(absl::Seconds(10));
  ASSERT_EQ(waiting->calls, 1);
  EXPECT_EQ(waiting->result.status().code(), absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace fivetran_gateway
