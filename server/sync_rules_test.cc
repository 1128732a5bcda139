#include "server/sync_rules.h"

#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>

namespace fivetran_gateway {
namespace {

using google::protobuf::util::TimeUtil;

google::protobuf::Timestamp Ts(const char* text) {
  google::protobuf::Timestamp t;
  EXPECT_TRUE(TimeUtil::FromString(text, &t)) << text;
  return t;
}

absl::Time T(const char* text) {
  return absl::FromUnixNanos(TimeUtil::TimestampToNanoseconds(Ts(text)));
}

v1::SyncObservation Obs(const char* succeeded, const char* failed,
                        v1::SyncState state = v1::SYNC_STATE_SCHEDULED) {
  v1::SyncObservation o;
  if (succeeded) *o.mutable_succeeded_at() = Ts(succeeded);
  if (failed) *o.mutable_failed_at() = Ts(failed);
  o.set_sync_state(state);
  return o;
}

v1::SyncOutcome DecideSimple(const v1::SyncObservation& o, std::optional<absl::Time> baseline) {
  bool trigger = false;
  return Decide(o, baseline, &trigger);
}

TEST(SyncRulesTest, SucceededWhenSuccessMovesPastBaseline) {
  EXPECT_EQ(DecideSimple(Obs("2026-03-20T11:00:00Z", nullptr), T("2026-03-20T10:00:00Z")),
            v1::SYNC_OUTCOME_SUCCEEDED);
}

TEST(SyncRulesTest, FailedSyncIsRecognised) {  // Field report B17.
  // Baseline = max(succeeded 10:00, failed 08:00 the day before) = 10:00.
  auto baseline = T("2026-03-20T10:00:00.000Z");
  EXPECT_EQ(DecideSimple(Obs("2026-03-20T10:00:00.000Z", "2026-03-20T11:04:30.000Z"), baseline),
            v1::SYNC_OUTCOME_FAILED);
}

TEST(SyncRulesTest, NothingNewMeansKeepWatchingEvenAfterSyncing) {
  auto baseline = T("2026-03-20T10:00:00Z");
  EXPECT_EQ(DecideSimple(Obs("2026-03-20T10:00:00Z", nullptr, v1::SYNC_STATE_SYNCING), baseline),
            v1::SYNC_OUTCOME_UNSPECIFIED);
  // Back to scheduled without a new timestamp is still not done.
  EXPECT_EQ(DecideSimple(Obs("2026-03-20T10:00:00Z", nullptr), baseline),
            v1::SYNC_OUTCOME_UNSPECIFIED);
}

TEST(SyncRulesTest, NullTimestampsMeanNever) {  // Field report B20.
  EXPECT_EQ(DecideSimple(Obs(nullptr, nullptr), std::nullopt), v1::SYNC_OUTCOME_UNSPECIFIED);
  EXPECT_EQ(DecideSimple(Obs("2026-03-01T06:00:00Z", nullptr), std::nullopt),
            v1::SYNC_OUTCOME_SUCCEEDED);
  EXPECT_EQ(DecideSimple(Obs(nullptr, "2026-03-01T06:00:00Z"), std::nullopt),
            v1::SYNC_OUTCOME_FAILED);
}

TEST(SyncRulesTest, TimesAreComparedAsTimesNotStrings) {  // 3 vs 6 fraction digits.
  auto baseline = T("2026-03-20T10:00:00.5Z");
  EXPECT_EQ(DecideSimple(Obs("2026-03-20T10:00:00.500001Z", nullptr), baseline),
            v1::SYNC_OUTCOME_SUCCEEDED);
  EXPECT_EQ(DecideSimple(Obs("2026-03-20T10:00:00.500000Z", nullptr), baseline),
            v1::SYNC_OUTCOME_UNSPECIFIED);
}

TEST(SyncRulesTest, RescheduledEndsPromptlyAndSaysWhenATriggerIsNeeded) {  // B18.
  v1::SyncObservation o = Obs("2026-03-20T10:00:00Z", nullptr, v1::SYNC_STATE_RESCHEDULED);
  *o.mutable_rescheduled_for() = Ts("2026-03-20T11:54:53.894Z");
  o.set_schedule_type(v1::SCHEDULE_TYPE_MANUAL);
  bool trigger = false;
  EXPECT_EQ(Decide(o, T("2026-03-20T10:00:00Z"), &trigger), v1::SYNC_OUTCOME_RESCHEDULED);
  EXPECT_TRUE(trigger);
  o.set_schedule_type(v1::SCHEDULE_TYPE_AUTO);
  EXPECT_EQ(Decide(o, T("2026-03-20T10:00:00Z"), &trigger), v1::SYNC_OUTCOME_RESCHEDULED);
  EXPECT_FALSE(trigger);
}

TEST(SyncRulesTest, PausedEndsTheWatch) {  // B21.
  v1::SyncObservation o = Obs(nullptr, nullptr, v1::SYNC_STATE_PAUSED);
  EXPECT_EQ(DecideSimple(o, std::nullopt), v1::SYNC_OUTCOME_PAUSED);
  o.set_sync_state(v1::SYNC_STATE_SCHEDULED);
  o.set_paused(true);
  EXPECT_EQ(DecideSimple(o, std::nullopt), v1::SYNC_OUTCOME_PAUSED);
}

TEST(SyncRulesTest, LastSyncEndIsTheLaterTimestamp) {
  v1::Connection c;
  EXPECT_FALSE(LastSyncEnd(c).has_value());
  *c.mutable_succeeded_at() = Ts("2026-03-20T10:00:00Z");
  *c.mutable_failed_at() = Ts("2026-03-19T08:00:00Z");
  EXPECT_EQ(LastSyncEnd(c), T("2026-03-20T10:00:00Z"));
}

TEST(SyncRulesTest, CheckSyncable) {
  v1::Connection c;
  c.set_id("con_1");
  c.mutable_status()->set_setup_state(v1::SETUP_STATE_CONNECTED);
  EXPECT_TRUE(CheckSyncable(c).ok());
  c.set_paused(true);
  absl::Status s = CheckSyncable(c);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("paused"), absl::string_view::npos);
  c.set_paused(false);
  c.mutable_status()->set_setup_state(v1::SETUP_STATE_INCOMPLETE);
  c.mutable_status()->set_setup_state_raw("incomplete");
  s = CheckSyncable(c);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("incomplete"), absl::string_view::npos);
  // Field report N1: a sync is what recovers a broken connection.
  c.mutable_status()->set_setup_state(v1::SETUP_STATE_BROKEN);
  c.mutable_status()->set_setup_state_raw("broken");
  EXPECT_TRUE(CheckSyncable(c).ok());
  // A state this version does not know is Fivetran's to judge.
  c.mutable_status()->set_setup_state(v1::SETUP_STATE_UNSPECIFIED);
  c.mutable_status()->set_setup_state_raw("degraded");
  EXPECT_TRUE(CheckSyncable(c).ok());
}

TEST(SyncRulesTest, SameStateIgnoresObservedAt) {
  v1::SyncObservation a = Obs("2026-03-20T10:00:00Z", nullptr);
  v1::SyncObservation b = a;
  *b.mutable_observed_at() = Ts("2026-03-20T12:00:00Z");
  EXPECT_TRUE(SameState(a, b));
  b.set_sync_state(v1::SYNC_STATE_SYNCING);
  EXPECT_FALSE(SameState(a, b));
}

}  // namespace
}  // namespace fivetran_gateway
