// SharedCreates: two "replicas" (two SharedCreates) sharing one in-memory
// StateStore, on a manual clock.
#include "server/shared_creates.h"

#include <vector>

#include "gtest/gtest.h"
#include "server/common/manual_timers.h"
#include "server/common/status.h"
#include "server/state/keys.h"
#include "server/state/memory_store.h"

namespace fivetran_gateway {
namespace {

using Result = IdempotencyCache::Result;

class SharedCreatesTest : public ::testing::Test {
 protected:
  SharedCreatesTest()
      : store_([this] { return timers_.Now(); }),
        a_(std::make_shared<SharedCreates>(&store_, "scope1", &timers_)),
        b_(std::make_shared<SharedCreates>(&store_, "scope1", &timers_)) {}

  struct Outcome {
    bool done = false;
    Result result;
    bool keep = false;
  };
  // Runs a create of `request_id` on `replica`; `sends` counts POSTs, whose
  // finish functions are kept in `pending_` until the test answers them.
  std::shared_ptr<Outcome> Run(SharedCreates& replica, const std::string& fingerprint,
                               const std::string& request_id = "rid-1") {
    auto out = std::make_shared<Outcome>();
    replica.Run(
        {"CreateConnection", request_id}, fingerprint,
        [this](std::function<void(Result)> finish) {
          ++sends_;
          pending_.push_back(std::move(finish));
        },
        [this] { return wanted_; },
        [out](Result r, bool keep) {
          out->done = true;
          out->result = std::move(r);
          out->keep = keep;
        });
    return out;
  }
  static Result Created(const std::string& id) {
    Result r;
    r.response = "connection:" + id;
    r.upstream.http_status = 201;
    r.upstream.attempts = 1;
    return r;
  }

  ManualTimers timers_;
  state::InMemoryStateStore store_;
  std::shared_ptr<SharedCreates> a_, b_;
  int sends_ = 0;
  bool wanted_ = true;
  std::vector<std::function<void(Result)>> pending_;
};

TEST_F(SharedCreatesTest, TheSecondReplicaWaitsForTheFirstsResult) {
  auto first = Run(*a_, "fp");
  auto second = Run(*b_, "fp");
  EXPECT_EQ(sends_, 1);
  EXPECT_FALSE(second->done);
  timers_.Advance(absl::Seconds(1));
  EXPECT_FALSE(second->done);  // Still in flight: keeps polling.
  pending_[0](Created("c1"));
  ASSERT_TRUE(first->done);
  EXPECT_TRUE(first->keep);
  timers_.Advance(absl::Milliseconds(60));
  ASSERT_TRUE(second->done);
  EXPECT_TRUE(second->result.status.ok());
  EXPECT_EQ(second->result.response, "connection:c1");
  EXPECT_EQ(second->result.upstream.attempts, 0);  // A replay sends nothing.
  EXPECT_TRUE(second->keep);
  // Later on any replica: the stored result, no POST.
  auto third = Run(*b_, "fp");
  ASSERT_TRUE(third->done);
  EXPECT_EQ(third->result.response, "connection:c1");
  EXPECT_EQ(sends_, 1);
}

TEST_F(SharedCreatesTest, StoredErrorsKeepTheirDetails) {
  auto first = Run(*a_, "fp");
  Result failed;
  failed.status = MakeError(absl::StatusCode::kUnavailable, "upstream 503", "FIVETRAN_UNAVAILABLE",
                            {{"outcome", "unknown"}});
  failed.upstream.http_status = 503;
  pending_[0](failed);
  auto replay = Run(*b_, "fp");
  ASSERT_TRUE(replay->done);
  EXPECT_EQ(replay->result.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(replay->result.status.message(), "upstream 503");
  EXPECT_EQ(ErrorReasonOf(replay->result.status), "FIVETRAN_UNAVAILABLE");
  EXPECT_EQ(ErrorMetadataOf(replay->result.status, "outcome"), "unknown");
  EXPECT_EQ(replay->result.upstream.http_status, 503);
  EXPECT_EQ(sends_, 1);
}

TEST_F(SharedCreatesTest, ADifferentRequestWithTheSameIdIsRefused) {
  Run(*a_, "fp");
  auto other = Run(*b_, "other-fp");
  ASSERT_TRUE(other->done);
  EXPECT_EQ(other->result.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorMetadataOf(other->result.status, "outcome"), "not_sent");
  EXPECT_FALSE(other->keep);
  EXPECT_EQ(sends_, 1);
}

TEST_F(SharedCreatesTest, TheClaimerRenewsItsLeaseWhileThePostRuns) {
  auto first = Run(*a_, "fp");
  auto second = Run(*b_, "fp");
  for (int i = 0; i < 60; ++i) timers_.Advance(absl::Milliseconds(500));  // 30 s > lease.
  EXPECT_FALSE(second->done);
  pending_[0](Created("c1"));
  timers_.Advance(absl::Milliseconds(60));
  ASSERT_TRUE(second->done);
  EXPECT_TRUE(second->result.status.ok());
}

TEST_F(SharedCreatesTest, AClaimWhoseLeaseRanOutIsAnUnknownOutcomeNeverResent) {
  // A replica claimed and died: its record stays, its lease runs out.
  store_.Set(state::CreateKey("scope1", "CreateConnection", "rid-1"),
             SharedCreates::InFlightRecord("fp", timers_.Now() + absl::Seconds(10)),
             absl::Minutes(10), [](absl::Status) {});
  auto waiting = Run(*b_, "fp");
  EXPECT_FALSE(waiting->done);
  for (int i = 0; i < 220; ++i) timers_.Advance(absl::Milliseconds(50));
  ASSERT_TRUE(waiting->done);
  EXPECT_EQ(waiting->result.status.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(ErrorReasonOf(waiting->result.status), "CREATE_OUTCOME_UNKNOWN");
  EXPECT_EQ(ErrorMetadataOf(waiting->result.status, "outcome"), "unknown");
  EXPECT_TRUE(waiting->keep);
  auto later = Run(*a_, "fp");
  ASSERT_TRUE(later->done);
  EXPECT_EQ(ErrorReasonOf(later->result.status), "CREATE_OUTCOME_UNKNOWN");
  EXPECT_EQ(sends_, 0);
}

TEST_F(SharedCreatesTest, StoreDownFailsFastAsNotSent) {
  store_.SetDown(true);
  auto out = Run(*a_, "fp");
  ASSERT_TRUE(out->done);
  EXPECT_EQ(out->result.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ErrorReasonOf(out->result.status), "STATE_STORE_UNAVAILABLE");
  EXPECT_EQ(ErrorMetadataOf(out->result.status, "outcome"), "not_sent");
  EXPECT_FALSE(out->keep);
  EXPECT_EQ(sends_, 0);
}

TEST_F(SharedCreatesTest, AFailureThatCreatedNothingReleasesTheId) {
  auto first = Run(*a_, "fp");
  auto second = Run(*b_, "fp");
  Result refused;
  refused.status =
      MakeError(absl::StatusCode::kInvalidArgument, "bad config", "FIVETRAN_INVALID_INPUT");
  refused.upstream.http_status = 400;
  pending_[0](refused);
  EXPECT_FALSE(first->keep);
  // The waiter finds the id released and claims it: nothing was created.
  timers_.Advance(absl::Milliseconds(60));
  EXPECT_EQ(sends_, 2);
  pending_[1](Created("c2"));
  ASSERT_TRUE(second->done);
  EXPECT_EQ(second->result.response, "connection:c2");
}

TEST_F(SharedCreatesTest, AWaitWithNoCallerLeftEndsWithoutKeeping) {
  Run(*a_, "fp");
  auto second = Run(*b_, "fp");
  wanted_ = false;
  timers_.Advance(absl::Milliseconds(60));
  ASSERT_TRUE(second->done);
  EXPECT_FALSE(second->keep);
}

TEST_F(SharedCreatesTest, ScopesAndMethodsDoNotMix) {
  auto other_scope = std::make_shared<SharedCreates>(&store_, "scope2", &timers_);
  Run(*a_, "fp");
  auto elsewhere = Run(*other_scope, "fp");
  EXPECT_FALSE(elsewhere->done);  // Claimed in its own scope: sent.
  EXPECT_EQ(sends_, 2);
}

}  // namespace
}  // namespace fivetran_gateway
