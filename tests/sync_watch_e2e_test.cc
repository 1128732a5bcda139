// WatchConnectionSync and SyncConnection end to end, against the emulator's
// sync state machine with short durations (field reports B14, B17, B18, B20,
// B21, B22).
#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "fivetran/gateway/v1/connection_service.pb.h"
#include "google/rpc/status.pb.h"
#include "tests/harness.h"

namespace fivetran_gateway::testing {
namespace {

namespace v1 = ::fivetran::gateway::v1;
using google::protobuf::util::TimeUtil;
using nlohmann::json;

struct WatchResult {
  std::vector<v1::WatchConnectionSyncResponse> messages;
  grpc::Status status;
  const v1::WatchConnectionSyncResponse& last() const { return messages.back(); }
  bool saw_state(v1::SyncState s) const {
    for (const auto& m : messages) {
      if (m.observation().sync_state() == s) return true;
    }
    return false;
  }
};

class SyncWatchTest : public StackTest {
 protected:
  static void SetUpTestSuite() {
    StartStack({"--sync_duration=300ms"},
               {"--sync_poll_min_interval=50ms", "--sync_poll_interval=100ms"});
  }
  void SetUp() override { emulator_->Admin("POST", "/_emulator/reset"); }

  // Reads the whole watch; `on_message` (if any) runs after each message is
  // kept, e.g. to end the sync once the watch has seen it running.
  static WatchResult Watch(
      v1::WatchConnectionSyncRequest request, double deadline_s = 10, int poll_ms = 100,
      const std::function<void(const v1::WatchConnectionSyncResponse&)>& on_message = nullptr) {
    request.mutable_poll_interval()->set_nanos(poll_ms * 1000000);
    auto context = ContextWithDeadline(deadline_s);
    auto reader = gateway_->connections()->WatchConnectionSync(context.get(), request);
    WatchResult result;
    v1::WatchConnectionSyncResponse message;
    while (reader->Read(&message)) {
      result.messages.push_back(message);
      if (on_message) on_message(message);
    }
    result.status = reader->Finish();
    return result;
  }

  static v1::WatchConnectionSyncRequest Trigger(const std::string& id) {
    v1::WatchConnectionSyncRequest r;
    r.set_connection_id(id);
    r.set_trigger(true);
    return r;
  }

  static int CountGets(const std::string& id) {
    int n = 0;
    for (const json& r : emulator_->Requests()) {
      if (r["method"] == "GET" && r["path"] == "/v1/connections/" + id) ++n;
    }
    return n;
  }
};

TEST_F(SyncWatchTest, TriggeredSyncSucceeds) {
  // The sync runs until the watch has reported it running, however slow the
  // machine: a fixed window (it was 400 ms) could pass between two polls.
  emulator_->SetSyncOutcome("decent_dropsy", "success", 600000);
  bool ended = false;
  WatchResult w =
      Watch(Trigger("decent_dropsy"), 20, 100, [&](const v1::WatchConnectionSyncResponse& m) {
        if (!ended && m.observation().sync_state() == v1::SYNC_STATE_SYNCING) {
          ended = true;
          EXPECT_TRUE(emulator_->EndSync("decent_dropsy"));
        }
      });
  ASSERT_TRUE(w.status.ok()) << w.status.error_message();
  EXPECT_TRUE(ended);
  ASSERT_FALSE(w.messages.empty());
  EXPECT_EQ(w.last().outcome(), v1::SYNC_OUTCOME_SUCCEEDED);
  EXPECT_TRUE(w.saw_state(v1::SYNC_STATE_SYNCING));
  ASSERT_TRUE(w.last().has_baseline());
  EXPECT_GT(w.last().observation().succeeded_at(), w.last().baseline());
  EXPECT_TRUE(w.last().has_triggered_at());
  // Only the last message carries an outcome.
  for (size_t i = 0; i + 1 < w.messages.size(); ++i) {
    EXPECT_EQ(w.messages[i].outcome(), v1::SYNC_OUTCOME_UNSPECIFIED);
  }
}

TEST_F(SyncWatchTest, FailedSyncIsRecognised) {  // Field report B17.
  emulator_->SetSyncOutcome("decent_dropsy", "failure", 300);
  WatchResult w = Watch(Trigger("decent_dropsy"));
  ASSERT_TRUE(w.status.ok()) << w.status.error_message();
  EXPECT_EQ(w.last().outcome(), v1::SYNC_OUTCOME_FAILED);
  EXPECT_GT(w.last().observation().failed_at(), w.last().baseline());
}

TEST_F(SyncWatchTest, SyncFinishingBetweenTwoPollsStillCompletes) {
  emulator_->SetSyncOutcome("decent_dropsy", "success", 50);
  WatchResult w = Watch(Trigger("decent_dropsy"), 10, /*poll_ms=*/800);
  ASSERT_TRUE(w.status.ok()) << w.status.error_message();
  EXPECT_EQ(w.last().outcome(), v1::SYNC_OUTCOME_SUCCEEDED);
  EXPECT_FALSE(w.saw_state(v1::SYNC_STATE_SYNCING));
}

TEST_F(SyncWatchTest, RescheduledManualSaysATriggerIsNeeded) {  // Field report B18.
  emulator_->SetSyncOutcome("decent_dropsy", "reschedule", 200);
  WatchResult w = Watch(Trigger("decent_dropsy"));
  ASSERT_TRUE(w.status.ok()) << w.status.error_message();
  EXPECT_EQ(w.last().outcome(), v1::SYNC_OUTCOME_RESCHEDULED);
  EXPECT_TRUE(w.last().trigger_required());
  EXPECT_TRUE(w.last().observation().has_rescheduled_for());
}

TEST_F(SyncWatchTest, RescheduledAutoNeedsNoTrigger) {
  // An auto-scheduled, connected, unpaused connection of the seed.
  std::string id;
  for (const json& c : emulator_->ListAll("/v1/groups/amber_fjord/connections")) {
    if (c["schedule_type"] == "auto" && c["status"]["setup_state"] == "connected" &&
        c["paused"] == false) {
      id = c["id"];
      break;
    }
  }
  ASSERT_FALSE(id.empty());
  emulator_->SetSyncOutcome(id, "reschedule", 200);
  WatchResult w = Watch(Trigger(id));
  ASSERT_TRUE(w.status.ok()) << w.status.error_message();
  EXPECT_EQ(w.last().outcome(), v1::SYNC_OUTCOME_RESCHEDULED);
  EXPECT_FALSE(w.last().trigger_required());
}

TEST_F(SyncWatchTest, PausedConnectionIsRefusedBeforeTriggering) {  // Field report B21.
  WatchResult w = Watch(Trigger("sleepy_badger"));
  EXPECT_EQ(w.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(w.status.error_message().find("paused"), std::string::npos);
  v1::SyncConnectionRequest request;
  request.set_connection_id("sleepy_badger");
  v1::SyncConnectionResponse response;
  grpc::Status s =
      gateway_->connections()->SyncConnection(ContextWithDeadline().get(), request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  for (const json& r : emulator_->Requests()) EXPECT_NE(r["method"], "POST") << r.dump();
  // Watching without a trigger ends at once with PAUSED, not at the deadline.
  v1::WatchConnectionSyncRequest watch;
  watch.set_connection_id("sleepy_badger");
  WatchResult paused = Watch(watch, 10);
  ASSERT_TRUE(paused.status.ok()) << paused.status.error_message();
  EXPECT_EQ(paused.last().outcome(), v1::SYNC_OUTCOME_PAUSED);
}

TEST_F(SyncWatchTest, IncompleteSetupIsRefused) {  // Field report B14.
  v1::SyncConnectionRequest request;
  request.set_connection_id("unfinished_crane");
  v1::SyncConnectionResponse response;
  grpc::Status s =
      gateway_->connections()->SyncConnection(ContextWithDeadline().get(), request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("incomplete"), std::string::npos);
  for (const json& r : emulator_->Requests()) EXPECT_NE(r["method"], "POST") << r.dump();
}

TEST_F(SyncWatchTest, SyncConnectionReturnsTheBaseline) {
  HttpReply before = emulator_->Rest("GET", "/v1/connections/decent_dropsy");
  v1::SyncConnectionRequest request;
  request.set_connection_id("decent_dropsy");
  v1::SyncConnectionResponse response;
  grpc::Status s =
      gateway_->connections()->SyncConnection(ContextWithDeadline().get(), request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  google::protobuf::Timestamp expected;
  ASSERT_TRUE(TimeUtil::FromString(before.json["data"]["succeeded_at"], &expected));
  EXPECT_EQ(response.baseline(), expected);  // failed_at is null for decent_dropsy.
  // A later watch with that baseline sees this sync end.
  v1::WatchConnectionSyncRequest watch;
  watch.set_connection_id("decent_dropsy");
  *watch.mutable_baseline() = response.baseline();
  WatchResult w = Watch(watch);
  ASSERT_TRUE(w.status.ok()) << w.status.error_message();
  EXPECT_EQ(w.last().outcome(), v1::SYNC_OUTCOME_SUCCEEDED);
}

TEST_F(SyncWatchTest, NeverSyncedConnectionWithNullTimestamps) {  // Field report B20.
  WatchResult w = Watch(Trigger("fresh_otter"));
  ASSERT_TRUE(w.status.ok()) << w.status.error_message();
  EXPECT_FALSE(w.last().has_baseline());
  EXPECT_EQ(w.last().outcome(), v1::SYNC_OUTCOME_SUCCEEDED);
}

TEST_F(SyncWatchTest, UpstreamFailingForAFewPollsDoesNotEndTheWatch) {  // Field report B22.
  emulator_->SetSyncOutcome("decent_dropsy", "success", 600);
  emulator_->AddFault({{"kind", "html"},
                       {"status", 503},
                       {"method", "GET"},
                       {"path_prefix", "/v1/connections/decent_dropsy"},
                       {"count", 2}});
  emulator_->AddFault({{"kind", "drop"},
                       {"method", "GET"},
                       {"path_prefix", "/v1/connections/decent_dropsy"},
                       {"count", 1}});
  // The trigger's own read would hit the faults first: trigger directly.
  emulator_->ClearFaults();
  v1::SyncConnectionRequest sync;
  sync.set_connection_id("decent_dropsy");
  v1::SyncConnectionResponse synced;
  ASSERT_TRUE(
      gateway_->connections()->SyncConnection(ContextWithDeadline().get(), sync, &synced).ok());
  emulator_->AddFault({{"kind", "html"},
                       {"status", 503},
                       {"method", "GET"},
                       {"path_prefix", "/v1/connections/decent_dropsy"},
                       {"count", 3}});
  v1::WatchConnectionSyncRequest watch;
  watch.set_connection_id("decent_dropsy");
  *watch.mutable_baseline() = synced.baseline();
  WatchResult w = Watch(watch, 15, 50);
  ASSERT_TRUE(w.status.ok()) << w.status.error_message();
  EXPECT_EQ(w.last().outcome(), v1::SYNC_OUTCOME_SUCCEEDED);
  EXPECT_GE(CountGets("decent_dropsy"), 4);  // 3 failed polls, then a good one.
}

TEST_F(SyncWatchTest, DeadlineEndsTheWatchWithTheLastObservation) {
  emulator_->SetSyncOutcome("decent_dropsy", "success", 20000);
  WatchResult w = Watch(Trigger("decent_dropsy"), /*deadline_s=*/1.5);
  EXPECT_EQ(w.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  google::rpc::Status rpc;
  ASSERT_TRUE(rpc.ParseFromString(w.status.error_details()));
  bool found = false;
  for (const auto& any : rpc.details()) {
    v1::SyncObservation o;
    if (any.UnpackTo(&o) && any.Is<v1::SyncObservation>()) {
      found = true;
      EXPECT_EQ(o.sync_state(), v1::SYNC_STATE_SYNCING);
    }
  }
  EXPECT_TRUE(found) << "no SyncObservation in the details";
  EXPECT_EQ(DetailsOf(w.status).error_info.metadata().at("last_sync_state"), "syncing");
}

TEST_F(SyncWatchTest, CancelledWatchStopsPolling) {
  emulator_->SetSyncOutcome("decent_dropsy", "success", 60000);
  v1::WatchConnectionSyncRequest request = Trigger("decent_dropsy");
  request.mutable_poll_interval()->set_nanos(50 * 1000000);
  grpc::ClientContext context;
  auto reader = gateway_->connections()->WatchConnectionSync(&context, request);
  v1::WatchConnectionSyncResponse message;
  ASSERT_TRUE(reader->Read(&message));  // The sync is running.
  context.TryCancel();
  while (reader->Read(&message)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  int gets = CountGets("decent_dropsy");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(CountGets("decent_dropsy"), gets) << "polling went on after the watcher left";
}

// Many watchers share one poller per connection.
class CountingWatcher : public grpc::ClientReadReactor<v1::WatchConnectionSyncResponse> {
 public:
  // `no_cache`: with the metadata `cache-control: no-cache`.
  CountingWatcher(v1::ConnectionService::Stub* stub, const v1::WatchConnectionSyncRequest& request,
                  bool no_cache = false)
      : request_(request) {
    context_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    if (no_cache) context_.AddMetadata("cache-control", "no-cache");
    stub->async()->WatchConnectionSync(&context_, &request_, this);
    StartRead(&message_);
    StartCall();
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    {
      absl::MutexLock lock(&mu_);
      if (messages_ == 0) first_ = message_;
      if (message_.outcome() != v1::SYNC_OUTCOME_UNSPECIFIED) ++final_messages_;
      ++messages_;
    }
    StartRead(&message_);
  }
  void OnDone(const grpc::Status& s) override {
    absl::MutexLock lock(&mu_);
    status_ = s;
    done_ = true;
  }
  void Cancel() { context_.TryCancel(); }
  bool WaitDone(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(absl::Condition(&done_), timeout);
  }
  // Waits until the first message arrived or the stream ended.
  bool WaitFirstMessage(absl::Time deadline) {
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithDeadline(absl::Condition(this, &CountingWatcher::ArrivedOrDone), deadline);
    return messages_ > 0;
  }
  int messages() {
    absl::MutexLock lock(&mu_);
    return messages_;
  }
  int final_messages() {
    absl::MutexLock lock(&mu_);
    return final_messages_;
  }
  bool done() {
    absl::MutexLock lock(&mu_);
    return done_;
  }
  grpc::Status status() {
    absl::MutexLock lock(&mu_);
    return status_;
  }
  v1::WatchConnectionSyncResponse first() {
    absl::MutexLock lock(&mu_);
    return first_;
  }
  const std::string& connection_id() const { return request_.connection_id(); }

 private:
  bool ArrivedOrDone() const ABSL_SHARED_LOCKS_REQUIRED(mu_) { return messages_ > 0 || done_; }

  grpc::ClientContext context_;
  v1::WatchConnectionSyncRequest request_;
  v1::WatchConnectionSyncResponse message_;  // Owned by the read in flight.
  absl::Mutex mu_;
  int messages_ ABSL_GUARDED_BY(mu_) = 0;
  int final_messages_ ABSL_GUARDED_BY(mu_) = 0;
  v1::WatchConnectionSyncResponse first_ ABSL_GUARDED_BY(mu_);
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
};

// Watchers that are cancelled, and waited for, when it goes out of scope:
// however a test ends, no watcher is destroyed while its call runs.
struct Watchers {
  std::vector<std::unique_ptr<CountingWatcher>> list;
  ~Watchers() {
    for (auto& w : list) w->Cancel();
    for (auto& w : list) w->WaitDone(absl::Seconds(20));
  }
};

// The highest request seq in the emulator's log (0 if empty).
int64_t LastSeq(const std::vector<json>& requests) {
  int64_t seq = 0;
  for (const json& r : requests) seq = std::max(seq, r["seq"].get<int64_t>());
  return seq;
}

TEST_F(SyncWatchTest, ThousandWatchersOnTenConnectionsCostTenReadsPerInterval) {
  std::map<std::string, json> rest;
  std::vector<std::string> ids;
  // Connections whose watch cannot end by itself (not paused, not rescheduled).
  for (const json& c : emulator_->ListAll("/v1/groups/amber_fjord/connections")) {
    if (ids.size() < 10 && c["paused"] == false && c["status"]["sync_state"] == "scheduled") {
      ids.push_back(c["id"]);
      rest[c["id"]] = c;
    }
  }
  ASSERT_EQ(ids.size(), 10u);
  constexpr int kWatchers = 1000;
  constexpr int kPollMs = 300;
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<v1::ConnectionService::Stub>> stubs;
  for (int i = 0; i < 4; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("grpc.channel_id", i);  // Distinct channels, distinct connections.
    channels.push_back(
        grpc::CreateCustomChannel(gateway_->address(), grpc::InsecureChannelCredentials(), args));
    stubs.push_back(v1::ConnectionService::NewStub(channels.back()));
  }
  Watchers all;  // Cancelled and waited for however the test ends.
  std::vector<std::unique_ptr<CountingWatcher>>& watchers = all.list;
  for (int i = 0; i < kWatchers; ++i) {
    v1::WatchConnectionSyncRequest request;
    request.set_connection_id(ids[i % ids.size()]);
    // A baseline far in the future: the watch never completes by itself.
    request.mutable_baseline()->set_seconds(4102444800);  // 2100-01-01.
    request.mutable_poll_interval()->set_nanos(kPollMs * 1000000);
    watchers.push_back(std::make_unique<CountingWatcher>(stubs[i % stubs.size()].get(), request));
  }
  // Subscribed = each watcher got its first update (the state the shared
  // poller read), showing its own connection and no outcome.
  const absl::Time subscribe_deadline = absl::Now() + absl::Seconds(30);
  for (auto& w : watchers) {
    SCOPED_TRACE(w->connection_id());
    ASSERT_TRUE(w->WaitFirstMessage(subscribe_deadline))
        << "no first update; stream ended: " << w->done() << " " << w->status().error_code() << " "
        << w->status().error_message();
    v1::WatchConnectionSyncResponse first = w->first();
    EXPECT_EQ(first.outcome(), v1::SYNC_OUTCOME_UNSPECIFIED);
    EXPECT_EQ(first.observation().sync_state_raw(),
              rest[w->connection_id()]["status"]["sync_state"].get<std::string>());
    EXPECT_EQ(first.baseline().seconds(), 4102444800);
  }
  // Count the upstream reads over a window of a few intervals.
  emulator_->ClearRequests();
  auto start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(3000));
  std::vector<json> requests = emulator_->Requests();
  double window = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::map<std::string, int> reads;
  int total = 0;
  for (const json& r : requests) {
    ASSERT_EQ(r["method"], "GET") << r.dump();
    ++reads[r["path"].get<std::string>()];
    ++total;
  }
  double intervals = window / (kPollMs / 1000.0);
  std::printf("1000 watchers, 10 connections: %d upstream reads in %.2f s (%.1f intervals)\n",
              total, window, intervals);
  // Each connection: one read per interval (+1 interval of slack for edges),
  // and it does poll; nothing else is read.
  EXPECT_EQ(reads.size(), ids.size());
  for (const std::string& id : ids) {
    int n = reads["/v1/connections/" + id];
    EXPECT_LE(n, static_cast<int>(intervals + 1)) << id;
    EXPECT_GE(n, static_cast<int>(intervals / 2)) << id;
  }

  // Every watcher is still streaming (none ended or got an outcome), then
  // ends with CANCELLED when cancelled.
  for (auto& w : watchers) {
    EXPECT_FALSE(w->done()) << w->connection_id() << ": " << w->status().error_code() << " "
                            << w->status().error_message();
    EXPECT_EQ(w->final_messages(), 0) << w->connection_id();
  }
  for (auto& w : watchers) w->Cancel();
  for (auto& w : watchers) {
    ASSERT_TRUE(w->WaitDone(absl::Seconds(20)));
    EXPECT_EQ(w->status().error_code(), grpc::StatusCode::CANCELLED)
        << w->connection_id() << ": " << w->status().error_message();
  }
  // Nobody watches any more: polling stops. A poll that started before the
  // gateway saw the cancellations may still arrive; after that, the log
  // stays quiet for many intervals.
  int64_t last = LastSeq(emulator_->Requests());
  auto quiet_since = std::chrono::steady_clock::now();
  const auto give_up = quiet_since + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() - quiet_since < std::chrono::milliseconds(2 * kPollMs)) {
    ASSERT_LT(std::chrono::steady_clock::now(), give_up) << "the gateway never stopped polling";
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    int64_t seq = LastSeq(emulator_->Requests());
    if (seq != last) {
      last = seq;
      quiet_since = std::chrono::steady_clock::now();
    }
  }
  emulator_->ClearRequests();
  std::this_thread::sleep_for(std::chrono::milliseconds(5 * kPollMs));  // 5 would-be polls.
  EXPECT_TRUE(emulator_->Requests().empty()) << "polling went on after the watchers left";
}

// The later of a REST connection's succeeded_at and failed_at (the baseline
// of a watch without one), as a Timestamp; unset when both are null.
google::protobuf::Timestamp LastSyncEndOf(const json& connection) {
  google::protobuf::Timestamp latest;
  for (const char* field : {"succeeded_at", "failed_at"}) {
    if (!connection.contains(field) || !connection[field].is_string()) continue;
    google::protobuf::Timestamp t;
    if (TimeUtil::FromString(connection[field].get<std::string>(), &t) && t > latest) latest = t;
  }
  return latest;
}

absl::Time TimeOf(const google::protobuf::Timestamp& t) {
  return absl::FromUnixNanos(TimeUtil::TimestampToNanoseconds(t));
}

// Issue 13 (watchers): a watcher without a baseline starts from what the
// connection's poller already saw, or from the poller's read: W watchers of
// K connections starting within one interval cost K upstream reads in that
// interval, not W, and each still gets its connection's current state as
// its first update and baseline.
TEST_F(SyncWatchTest, StartingWatchersShareTheConnectionsPollForTheirFirstRead) {
  std::vector<std::string> ids;
  std::map<std::string, json> rest;
  for (const json& c : emulator_->ListAll("/v1/groups/amber_fjord/connections")) {
    if (ids.size() < 5 && c["paused"] == false && c["status"]["sync_state"] == "scheduled") {
      ids.push_back(c["id"]);
      rest[c["id"]] = c;
    }
  }
  ASSERT_EQ(ids.size(), 5u);
  emulator_->ClearRequests();
  constexpr int kWatchers = 100;
  constexpr absl::Duration kInterval = absl::Seconds(5);
  auto stub = gateway_->connections();
  Watchers all;  // Cancelled and waited for however the test ends.
  std::vector<std::unique_ptr<CountingWatcher>>& watchers = all.list;
  // Spread over about one second, well within one interval.
  const absl::Time t0 = absl::Now();
  for (int i = 0; i < kWatchers; ++i) {
    v1::WatchConnectionSyncRequest request;
    request.set_connection_id(ids[i % ids.size()]);
    request.mutable_poll_interval()->set_seconds(absl::ToInt64Seconds(kInterval));
    watchers.push_back(std::make_unique<CountingWatcher>(stub.get(), request));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const absl::Time first_updates_deadline = absl::Now() + absl::Seconds(30);
  for (auto& w : watchers) {
    SCOPED_TRACE(w->connection_id());
    ASSERT_TRUE(w->WaitFirstMessage(first_updates_deadline))
        << "no first update; stream ended: " << w->done() << " " << w->status().error_code() << " "
        << w->status().error_message();
    v1::WatchConnectionSyncResponse first = w->first();
    const json& c = rest[w->connection_id()];
    EXPECT_EQ(first.outcome(), v1::SYNC_OUTCOME_UNSPECIFIED);
    EXPECT_EQ(first.observation().sync_state_raw(), c["status"]["sync_state"].get<std::string>());
    EXPECT_EQ(first.baseline(), LastSyncEndOf(c));
    EXPECT_EQ(first.observation().succeeded_at(),
              LastSyncEndOf({{"succeeded_at", c["succeeded_at"]}}));
  }
  // The upstream reads sent in the first interval: one per connection.
  std::map<std::string, int> reads;
  int total = 0;
  for (const json& r : emulator_->Requests()) {
    absl::Time t;
    std::string err;
    ASSERT_TRUE(absl::ParseTime(absl::RFC3339_full, r["time"].get<std::string>(), &t, &err)) << err;
    if (t >= t0 + kInterval) continue;
    ASSERT_EQ(r["method"], "GET") << r.dump();
    ++reads[r["path"].get<std::string>()];
    ++total;
  }
  std::printf("%d watchers of %zu connections: %d upstream reads in the first interval\n",
              kWatchers, ids.size(), total);
  EXPECT_LE(total, static_cast<int>(ids.size()));
  for (const std::string& id : ids) EXPECT_EQ(reads["/v1/connections/" + id], 1) << id;
  for (auto& w : watchers) {
    EXPECT_FALSE(w->done()) << w->connection_id() << ": " << w->status().error_message();
  }
}

// The poller's observation is a watcher's start only while it is younger
// than that watcher's poll_interval; `cache-control: no-cache` asks for a
// read of its own.
TEST_F(SyncWatchTest, AStartingWatcherReadsAfreshWhenThePollersObservationIsTooOld) {
  const std::string id = "decent_dropsy";
  const json rest = emulator_->Rest("GET", "/v1/connections/" + id).json["data"];
  emulator_->ClearRequests();
  auto stub = gateway_->connections();
  Watchers all;  // Cancelled and waited for however the test ends.
  std::vector<std::unique_ptr<CountingWatcher>>& watchers = all.list;
  // Starts a watcher; returns its first update and when it was asked for.
  auto start = [&](absl::Duration interval, bool no_cache, absl::Time* started) {
    v1::WatchConnectionSyncRequest request;
    request.set_connection_id(id);
    request.mutable_poll_interval()->set_seconds(absl::ToInt64Seconds(interval));
    request.mutable_poll_interval()->set_nanos(
        static_cast<int32_t>(absl::ToInt64Nanoseconds(interval % absl::Seconds(1))));
    *started = absl::Now();
    watchers.push_back(std::make_unique<CountingWatcher>(stub.get(), request, no_cache));
    EXPECT_TRUE(watchers.back()->WaitFirstMessage(absl::Now() + absl::Seconds(20)))
        << watchers.back()->status().error_message();
    return watchers.back()->first();
  };
  absl::Time a_start, b_start, c_start, d_start;
  v1::WatchConnectionSyncResponse a = start(absl::Seconds(5), false, &a_start);
  EXPECT_EQ(CountGets(id), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(700));

  // 0.7 s old, younger than 5 s: B starts from it, no read.
  v1::WatchConnectionSyncResponse b = start(absl::Seconds(5), false, &b_start);
  EXPECT_EQ(b.observation().observed_at(), a.observation().observed_at());
  EXPECT_EQ(b.baseline(), LastSyncEndOf(rest));
  EXPECT_EQ(CountGets(id), 1);

  // no-cache: a read of its own, made after D started.
  v1::WatchConnectionSyncResponse d = start(absl::Seconds(5), true, &d_start);
  EXPECT_GE(TimeOf(d.observation().observed_at()), d_start);
  EXPECT_EQ(d.baseline(), LastSyncEndOf(rest));
  EXPECT_EQ(CountGets(id), 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(700));

  // 0.7 s old, older than C's 300 ms: C's first update is a new read.
  v1::WatchConnectionSyncResponse c = start(absl::Milliseconds(300), false, &c_start);
  EXPECT_GE(TimeOf(c.observation().observed_at()), c_start);
  EXPECT_EQ(c.baseline(), LastSyncEndOf(rest));
  EXPECT_EQ(c.observation().sync_state_raw(), rest["status"]["sync_state"].get<std::string>());
  EXPECT_GE(CountGets(id), 3);
}

// A triggering watcher still reads right before its trigger and judges the
// sync by polls made after it, whatever the poller saw before.
TEST_F(SyncWatchTest, ATriggeringWatcherDoesNotStartFromThePollersObservation) {
  const std::string id = "decent_dropsy";
  emulator_->ClearRequests();
  auto stub = gateway_->connections();
  v1::WatchConnectionSyncRequest plain;
  plain.set_connection_id(id);
  plain.mutable_poll_interval()->set_seconds(5);
  CountingWatcher a(stub.get(), plain);
  ASSERT_TRUE(a.WaitFirstMessage(absl::Now() + absl::Seconds(20))) << a.status().error_message();
  ASSERT_EQ(CountGets(id), 1);

  emulator_->SetSyncOutcome(id, "success", 300);
  const absl::Time triggered = absl::Now();
  WatchResult w = Watch(Trigger(id));
  ASSERT_TRUE(w.status.ok()) << w.status.error_message();
  EXPECT_EQ(w.last().outcome(), v1::SYNC_OUTCOME_SUCCEEDED);
  EXPECT_TRUE(w.last().has_triggered_at());
  for (const auto& m : w.messages) {
    EXPECT_GE(TimeOf(m.observation().observed_at()), triggered) << m.DebugString();
  }
  // A's read, then the trigger's own read before its POST.
  std::vector<std::string> sent;
  for (const json& r : emulator_->Requests()) {
    sent.push_back(r["method"].get<std::string>() + " " + r["path"].get<std::string>());
  }
  ASSERT_GE(sent.size(), 3u);
  EXPECT_EQ(sent[0], "GET /v1/connections/" + id);
  EXPECT_EQ(sent[1], "GET /v1/connections/" + id);
  EXPECT_EQ(sent[2], "POST /v1/connections/" + id + "/sync");
  a.Cancel();
  a.WaitDone(absl::Seconds(20));
}

}  // namespace
}  // namespace fivetran_gateway::testing
