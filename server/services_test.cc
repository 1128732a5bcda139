// The gRPC services against a fake Fivetran API and a manual clock: each
// RPC's translation (request -> API call -> response), its error mapping,
// paging, idempotent creates, sync triggering, and the sync watcher, without
// HTTP and without sleeping for time to pass.
#include "server/services.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "google/protobuf/util/time_util.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "server/common/manual_timers.h"
#include "server/common/status.h"
#include "server/fivetran/fake_api.h"

namespace fivetran_gateway {
namespace {

using fivetran::FakeFivetranApi;
using fivetran::Page;
using fivetran::PageRequest;
using google::protobuf::util::TimeUtil;

google::protobuf::Timestamp At(absl::Time t) {
  return TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(t));
}

// The ErrorInfo of a failed call.
google::rpc::ErrorInfo InfoOf(const grpc::Status& status) {
  google::rpc::Status details;
  details.ParseFromString(status.error_details());
  for (const auto& any : details.details()) {
    google::rpc::ErrorInfo info;
    if (any.UnpackTo(&info)) return info;
  }
  return {};
}

// Waits (briefly, polling) for a condition that another thread makes true.
template <typename F>
bool Eventually(F condition) {
  const absl::Time end = absl::Now() + absl::Seconds(10);
  while (absl::Now() < end) {
    if (condition()) return true;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return condition();
}

// The connection the fake API reads, changed by the tests as a sync runs.
class Upstream {
 public:
  Upstream() {
    connection_.set_id("decent_dropsy");
    connection_.set_group_id("projected_sickle");
    connection_.set_schema("ftp_in");
    connection_.set_paused(false);
    connection_.set_schedule_type(v1::SCHEDULE_TYPE_AUTO);
    connection_.mutable_status()->set_setup_state(v1::SETUP_STATE_CONNECTED);
    connection_.mutable_status()->set_sync_state(v1::SYNC_STATE_SCHEDULED);
    connection_.mutable_status()->set_sync_state_raw("scheduled");
  }
  v1::Connection Get() {
    absl::MutexLock lock(&mu_);
    return connection_;
  }
  void Set(const std::function<void(v1::Connection*)>& change) {
    absl::MutexLock lock(&mu_);
    change(&connection_);
  }

 private:
  absl::Mutex mu_;
  v1::Connection connection_ ABSL_GUARDED_BY(mu_);
};

class ServicesTest : public ::testing::Test {
 protected:
  ServicesTest() : timers_(absl::Now()) {
    api_.get_connection = [this](const std::string& id) -> absl::StatusOr<v1::Connection> {
      if (id != "decent_dropsy") {
        return MakeError(absl::StatusCode::kNotFound, "Connection not found", "NOT_FOUND",
                         {{"fivetran_code", "NotFound_Connection"}, {"http_status", "404"}});
      }
      return upstream_.Get();
    };
    SyncWatchOptions watch;
    watch.default_poll_interval = absl::Seconds(10);
    watch.min_poll_interval = absl::Seconds(1);
    watch.budget_low = [this] { return budget_low_.load(); };
    pollers_ = std::make_shared<SyncPollers>(&api_, &timers_, watch);
    connections_ = std::make_unique<ConnectionServiceImpl>(&api_, pollers_, &timers_);
    groups_ = std::make_unique<GroupServiceImpl>(&api_);
    users_ = std::make_unique<UserServiceImpl>(&api_);
    grpc::ServerBuilder builder;
    builder.RegisterService(connections_.get());
    builder.RegisterService(groups_.get());
    builder.RegisterService(users_.get());
    server_ = builder.BuildAndStart();
    auto channel = server_->InProcessChannel(grpc::ChannelArguments());
    connection_stub_ = v1::ConnectionService::NewStub(channel);
    group_stub_ = v1::GroupService::NewStub(channel);
    user_stub_ = v1::UserService::NewStub(channel);
  }
  ~ServicesTest() override { server_->Shutdown(absl::ToChronoTime(absl::Now())); }

  // SyncConnection of the fake's connection.
  grpc::Status Sync(v1::SyncConnectionResponse* response, bool force = false) {
    grpc::ClientContext ctx;
    v1::SyncConnectionRequest req;
    req.set_connection_id("decent_dropsy");
    req.set_force(force);
    return connection_stub_->SyncConnection(&ctx, req, response);
  }
  // Fivetran accepts every trigger.
  void AcceptTriggers() {
    api_.trigger_sync = [](const std::string&, bool) -> absl::StatusOr<fivetran::SyncTriggered> {
      return fivetran::SyncTriggered{"triggered"};
    };
  }
  void SetSyncState(v1::SyncState state, const std::string& raw) {
    upstream_.Set([&](v1::Connection* c) {
      c->mutable_status()->set_sync_state(state);
      c->mutable_status()->set_sync_state_raw(raw);
    });
  }

  int CallsOf(const std::string& operation) {
    int n = 0;
    for (const auto& c : api_.calls()) n += c.operation == operation;
    return n;
  }

  FakeFivetranApi api_;
  ManualTimers timers_;
  std::atomic<bool> budget_low_{false};
  Upstream upstream_;
  std::shared_ptr<SyncPollers> pollers_;
  std::unique_ptr<ConnectionServiceImpl> connections_;
  std::unique_ptr<GroupServiceImpl> groups_;
  std::unique_ptr<UserServiceImpl> users_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::ConnectionService::Stub> connection_stub_;
  std::unique_ptr<v1::GroupService::Stub> group_stub_;
  std::unique_ptr<v1::UserService::Stub> user_stub_;
};

// ---------------------------------------------------------------------------
// GetConnection

TEST_F(ServicesTest, GetConnectionReturnsTheApisConnection) {
  grpc::ClientContext ctx;
  v1::GetConnectionRequest req;
  req.set_connection_id("decent_dropsy");
  v1::GetConnectionResponse resp;
  grpc::Status s = connection_stub_->GetConnection(&ctx, req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.connection().id(), "decent_dropsy");
  EXPECT_EQ(resp.connection().schema(), "ftp_in");
  ASSERT_EQ(api_.calls().size(), 1u);
  EXPECT_EQ(api_.calls()[0].operation, "GetConnection");
  EXPECT_EQ(api_.calls()[0].target, "decent_dropsy");
}

TEST_F(ServicesTest, CacheControlNoCacheAsksForFreshReads) {
  for (const char* value : {"no-cache", "max-age=60, No-Cache"}) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("cache-control", value);
    v1::GetConnectionRequest req;
    req.set_connection_id("decent_dropsy");
    v1::GetConnectionResponse resp;
    ASSERT_TRUE(connection_stub_->GetConnection(&ctx, req, &resp).ok());
  }
  grpc::ClientContext list_ctx;
  list_ctx.AddMetadata("cache-control", "no-cache");
  api_.list_groups = [](const fivetran::PageRequest&) -> absl::StatusOr<fivetran::Page<v1::Group>> {
    return fivetran::Page<v1::Group>{};
  };
  v1::ListGroupsResponse groups;
  ASSERT_TRUE(group_stub_->ListGroups(&list_ctx, v1::ListGroupsRequest(), &groups).ok());
  grpc::ClientContext plain;
  plain.AddMetadata("cache-control", "max-age=60");
  v1::GetConnectionRequest req;
  req.set_connection_id("decent_dropsy");
  v1::GetConnectionResponse resp;
  ASSERT_TRUE(connection_stub_->GetConnection(&plain, req, &resp).ok());
  auto calls = api_.calls();
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_TRUE(calls[0].fresh);
  EXPECT_TRUE(calls[1].fresh);
  EXPECT_TRUE(calls[2].fresh);
  EXPECT_EQ(calls[2].operation, "ListGroups");
  EXPECT_FALSE(calls[3].fresh);
}

TEST_F(ServicesTest, TrailingMetadataSaysWhetherTheReadCacheAnswered) {
  auto cache_of = [&](const grpc::ClientContext& ctx) -> std::string {
    auto it = ctx.GetServerTrailingMetadata().find("x-fivetran-gateway-cache");
    if (it == ctx.GetServerTrailingMetadata().end()) return "(none)";
    return std::string(it->second.data(), it->second.size());
  };
  auto get = [&](grpc::ClientContext* ctx) {
    v1::GetConnectionRequest req;
    req.set_connection_id("decent_dropsy");
    v1::GetConnectionResponse resp;
    return connection_stub_->GetConnection(ctx, req, &resp);
  };
  grpc::ClientContext none;
  ASSERT_TRUE(get(&none).ok());
  EXPECT_EQ(cache_of(none), "(none)");  // No read cache in the way.
  api_.upstream.cache = fivetran::UpstreamInfo::Cache::kHit;
  api_.upstream.cache_age = absl::Milliseconds(3240);
  grpc::ClientContext hit;
  ASSERT_TRUE(get(&hit).ok());
  EXPECT_EQ(cache_of(hit), "hit; age=3.2");
  api_.upstream.cache = fivetran::UpstreamInfo::Cache::kMiss;
  api_.get_connection = [](const std::string&) -> absl::StatusOr<v1::Connection> {
    return absl::UnavailableError("down");
  };
  grpc::ClientContext miss;
  EXPECT_FALSE(get(&miss).ok());
  EXPECT_EQ(cache_of(miss), "miss");  // Errors say so too.
}

TEST_F(ServicesTest, GetConnectionKeepsTheApisErrorAndItsDetails) {
  grpc::ClientContext ctx;
  v1::GetConnectionRequest req;
  req.set_connection_id("no_such_one");
  v1::GetConnectionResponse resp;
  grpc::Status s = connection_stub_->GetConnection(&ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(InfoOf(s).reason(), "NOT_FOUND");
  EXPECT_EQ(InfoOf(s).metadata().at("fivetran_code"), "NotFound_Connection");
}

TEST_F(ServicesTest, AMalformedIdIsRefusedBeforeAnyApiCall) {
  for (const std::string& id : std::vector<std::string>{"", "a/b", std::string(300, 'x')}) {
    grpc::ClientContext ctx;
    v1::GetConnectionRequest req;
    req.set_connection_id(id);
    v1::GetConnectionResponse resp;
    grpc::Status s = connection_stub_->GetConnection(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << id;
    EXPECT_EQ(InfoOf(s).metadata().at("field"), "connection_id") << id;
  }
  EXPECT_TRUE(api_.calls().empty());
}

TEST_F(ServicesTest, TheCallersDeadlineCancelsTheApiCall) {
  api_.set_hold(true);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Milliseconds(300)));
  v1::GetConnectionRequest req;
  req.set_connection_id("decent_dropsy");
  v1::GetConnectionResponse resp;
  grpc::Status s = connection_stub_->GetConnection(&ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_TRUE(Eventually([&] { return api_.cancelled() == 1; }));
  ASSERT_EQ(api_.calls().size(), 1u);
  // The API was given a deadline before the caller's.
  EXPECT_LT(api_.calls()[0].deadline, absl::FromChrono(ctx.deadline()));
}

// ---------------------------------------------------------------------------
// Listings and page tokens

TEST_F(ServicesTest, ListGroupsTurnsCursorsIntoPageTokensAndBack) {
  api_.list_groups = [](const PageRequest& page) -> absl::StatusOr<Page<v1::Group>> {
    Page<v1::Group> out;
    v1::Group g;
    g.set_id(page.cursor.empty() ? "first" : "second");
    out.items.push_back(g);
    out.next_cursor = page.cursor.empty() ? "cursor-2" : "";
    return out;
  };
  v1::ListGroupsResponse first, second;
  {
    grpc::ClientContext ctx;
    v1::ListGroupsRequest req;
    ASSERT_TRUE(group_stub_->ListGroups(&ctx, req, &first).ok());
  }
  ASSERT_EQ(first.groups_size(), 1);
  EXPECT_EQ(first.groups(0).id(), "first");
  ASSERT_FALSE(first.next_page_token().empty());
  EXPECT_NE(first.next_page_token(), "cursor-2");  // Opaque, not Fivetran's cursor.
  {
    grpc::ClientContext ctx;
    v1::ListGroupsRequest req;
    req.set_page_size(7);
    req.set_page_token(first.next_page_token());
    ASSERT_TRUE(group_stub_->ListGroups(&ctx, req, &second).ok());
  }
  EXPECT_EQ(second.groups(0).id(), "second");
  EXPECT_TRUE(second.next_page_token().empty());
  auto calls = api_.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].detail, "limit=100 cursor=");
  EXPECT_EQ(calls[1].detail, "limit=7 cursor=cursor-2");
}

TEST_F(ServicesTest, APageTokenWorksOnlyWithTheFiltersItWasIssuedFor) {
  api_.list_users = [](std::optional<bool>, const PageRequest&) -> absl::StatusOr<Page<v1::User>> {
    Page<v1::User> out;
    out.next_cursor = "next";
    return out;
  };
  v1::ListUsersResponse active;
  {
    grpc::ClientContext ctx;
    v1::ListUsersRequest req;
    req.set_active(true);
    ASSERT_TRUE(user_stub_->ListUsers(&ctx, req, &active).ok());
  }
  grpc::ClientContext ctx;
  v1::ListUsersRequest req;
  req.set_active(false);
  req.set_page_token(active.next_page_token());
  v1::ListUsersResponse resp;
  grpc::Status s = user_stub_->ListUsers(&ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(InfoOf(s).metadata().at("field"), "page_token");
  ASSERT_EQ(api_.calls().size(), 1u);
  EXPECT_EQ(api_.calls()[0].detail, "limit=100 cursor= active=true");
}

TEST_F(ServicesTest, ListGroupConnectionsPassesGroupAndSchemaFilter) {
  api_.list_group_connections = [this](const std::string&, const std::string&,
                                       const PageRequest&) -> absl::StatusOr<Page<v1::Connection>> {
    Page<v1::Connection> out;
    out.items.push_back(upstream_.Get());
    return out;
  };
  grpc::ClientContext ctx;
  v1::ListGroupConnectionsRequest req;
  req.set_group_id("projected_sickle");
  req.set_schema("ftp_in");
  req.set_page_size(2000);
  v1::ListGroupConnectionsResponse resp;
  grpc::Status s = group_stub_->ListGroupConnections(&ctx, req, &resp);
  // A page_size above the maximum is coerced to it (AIP-158).
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(resp.connections_size(), 1);
  EXPECT_EQ(api_.calls().at(0).target, "projected_sickle");
  EXPECT_EQ(api_.calls().at(0).detail, "limit=1000 cursor= schema=ftp_in");
  grpc::ClientContext ctx2;
  req.set_page_size(0);
  resp.Clear();
  ASSERT_TRUE(group_stub_->ListGroupConnections(&ctx2, req, &resp).ok());
  EXPECT_EQ(resp.connections(0).id(), "decent_dropsy");
  EXPECT_EQ(api_.calls().back().detail, "limit=100 cursor= schema=ftp_in");
}

// ---------------------------------------------------------------------------
// Creates

v1::CreateConnectionRequest ValidCreate() {
  v1::CreateConnectionRequest req;
  req.set_group_id("projected_sickle");
  req.set_service("ftp");
  (*req.mutable_config()->mutable_fields())["schema"].set_string_value("new_schema");
  return req;
}

TEST_F(ServicesTest, CreateSendsTheBodyAndSaysWhetherTheConnectionIsReady) {
  api_.create_connection = [](const nlohmann::json& body) -> absl::StatusOr<v1::Connection> {
    v1::Connection c;
    c.set_id("created_one");
    c.set_schema(body["config"]["schema"].get<std::string>());
    c.mutable_status()->set_setup_state(v1::SETUP_STATE_CONNECTED);
    return c;
  };
  grpc::ClientContext ctx;
  v1::CreateConnectionResponse resp;
  ASSERT_TRUE(connection_stub_->CreateConnection(&ctx, ValidCreate(), &resp).ok());
  EXPECT_TRUE(resp.ready());
  EXPECT_EQ(resp.connection().id(), "created_one");
  EXPECT_EQ(resp.connection().schema(), "new_schema");
  nlohmann::json sent = nlohmann::json::parse(api_.calls().at(0).detail);
  EXPECT_EQ(sent["group_id"], "projected_sickle");
  EXPECT_EQ(sent["service"], "ftp");
}

TEST_F(ServicesTest, AnInvalidCreateNamesTheFieldAndSendsNothing) {
  v1::CreateConnectionRequest req = ValidCreate();
  req.clear_config();
  grpc::ClientContext ctx;
  v1::CreateConnectionResponse resp;
  grpc::Status s = connection_stub_->CreateConnection(&ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(InfoOf(s).metadata().at("field"), "config.schema");
  EXPECT_TRUE(api_.calls().empty());
}

TEST_F(ServicesTest, ARepeatedRequestIdGetsTheFirstResultWithoutASecondCreate) {
  int created = 0;
  api_.create_connection = [&created](const nlohmann::json&) -> absl::StatusOr<v1::Connection> {
    v1::Connection c;
    c.set_id(absl::StrCat("created_", ++created));
    return c;
  };
  v1::CreateConnectionRequest req = ValidCreate();
  req.set_request_id("6f1e3a40-0c4b-4b43-9d0e-3f6a1f0f9b11");
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    grpc::ClientContext ctx;
    v1::CreateConnectionResponse resp;
    ASSERT_TRUE(connection_stub_->CreateConnection(&ctx, req, &resp).ok());
    ids.push_back(resp.connection().id());
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"created_1", "created_1", "created_1"}));
  EXPECT_EQ(CallsOf("CreateConnection"), 1);

  req.set_service("sftp");  // Same id, different request.
  grpc::ClientContext ctx;
  v1::CreateConnectionResponse resp;
  grpc::Status s = connection_stub_->CreateConnection(&ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(InfoOf(s).metadata().at("field"), "request_id");
  EXPECT_EQ(CallsOf("CreateConnection"), 1);
}

// ---------------------------------------------------------------------------
// SyncConnection

TEST_F(ServicesTest, SyncReadsTheBaselineThenTriggers) {
  const absl::Time succeeded = absl::FromUnixSeconds(1'700'000'000);
  upstream_.Set([&](v1::Connection* c) { *c->mutable_succeeded_at() = At(succeeded); });
  api_.trigger_sync = [](const std::string&, bool) -> absl::StatusOr<fivetran::SyncTriggered> {
    return fivetran::SyncTriggered{"Sync has been successfully triggered"};
  };
  grpc::ClientContext ctx;
  v1::SyncConnectionRequest req;
  req.set_connection_id("decent_dropsy");
  req.set_force(true);
  v1::SyncConnectionResponse resp;
  ASSERT_TRUE(connection_stub_->SyncConnection(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.message(), "Sync has been successfully triggered");
  EXPECT_EQ(TimeUtil::TimestampToNanoseconds(resp.baseline()), absl::ToUnixNanos(succeeded));
  EXPECT_EQ(TimeUtil::TimestampToNanoseconds(resp.triggered_at()),
            absl::ToUnixNanos(timers_.Now()));
  auto calls = api_.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].operation, "GetConnection");
  EXPECT_TRUE(calls[0].fresh);  // The baseline is never a cached read.
  EXPECT_EQ(calls[1].operation, "TriggerSync");
  EXPECT_EQ(calls[1].detail, "force=true");
}

TEST_F(ServicesTest, APausedConnectionIsNotTriggered) {
  upstream_.Set([](v1::Connection* c) { c->set_paused(true); });
  v1::SyncConnectionResponse resp;
  grpc::Status s = Sync(&resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(CallsOf("TriggerSync"), 0);
}

TEST_F(ServicesTest, ABrokenConnectionIsTriggeredAndTheResponseSaysSo) {  // Field report N1.
  upstream_.Set([](v1::Connection* c) {
    c->mutable_status()->set_setup_state(v1::SETUP_STATE_BROKEN);
    c->mutable_status()->set_setup_state_raw("broken");
  });
  AcceptTriggers();
  v1::SyncConnectionResponse resp;
  grpc::Status s = Sync(&resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.setup_state_at_trigger(), v1::SETUP_STATE_BROKEN);
  EXPECT_FALSE(resp.already_syncing());
  EXPECT_EQ(CallsOf("TriggerSync"), 1);
}

TEST_F(ServicesTest, AnIncompleteConnectionIsStillRefused) {
  upstream_.Set([](v1::Connection* c) {
    c->mutable_status()->set_setup_state(v1::SETUP_STATE_INCOMPLETE);
    c->mutable_status()->set_setup_state_raw("incomplete");
  });
  v1::SyncConnectionResponse resp;
  grpc::Status s = Sync(&resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(InfoOf(s).metadata().at("precondition"), "setup_incomplete");
  EXPECT_EQ(CallsOf("TriggerSync"), 0);
}

TEST_F(ServicesTest, ASyncAlreadyRunningIsReportedUnlessForced) {  // Field report N2.
  SetSyncState(v1::SYNC_STATE_SYNCING, "syncing");
  AcceptTriggers();
  for (bool force : {false, true}) {
    grpc::ClientContext ctx;
    v1::SyncConnectionRequest req;
    req.set_connection_id("decent_dropsy");
    req.set_force(force);
    v1::SyncConnectionResponse resp;
    ASSERT_TRUE(connection_stub_->SyncConnection(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.already_syncing(), !force) << "force=" << force;
    EXPECT_EQ(resp.setup_state_at_trigger(), v1::SETUP_STATE_CONNECTED);
  }
  EXPECT_EQ(CallsOf("TriggerSync"), 2);
}

// SyncConnection starts each step (the trigger, the read after a 409) from
// the previous step's callback. When a step is answered inside the call
// that starts it (as a refusal by the rate budget is), the RPC may end and
// gRPC may free it before that call returns; what the step does next must
// not touch the RPC. `after_inline_answer` holds the step's return until the
// caller has its answer and gRPC has had time to finish the RPC.
class ServicesStepTest : public ServicesTest {
 protected:
  // Runs one SyncConnection whose first read is held and released from this
  // thread; the steps after it are answered inside their calls, and the one
  // of `last_step` ("TriggerSync" or "GetConnection": the check after a 409)
  // waits before it returns. Returns the RPC's status.
  grpc::Status SyncEndingInside(const std::string& last_step) {
    api_.set_hold(true);
    absl::Notification answered;
    grpc::Status status;
    grpc::ClientContext ctx;
    v1::SyncConnectionRequest req;
    req.set_connection_id("decent_dropsy");
    req.set_force(true);
    v1::SyncConnectionResponse resp;
    connection_stub_->async()->SyncConnection(&ctx, &req, &resp, [&](grpc::Status s) {
      status = std::move(s);
      answered.Notify();
    });
    EXPECT_TRUE(Eventually([&] { return api_.held() == 1; }));
    api_.set_hold(false);
    // The held read is answered by Release(), not inside its call: the hook
    // sees only the steps after it.
    api_.after_inline_answer = [&](const std::string& operation) {
      if (operation != last_step) return;
      answered.WaitForNotificationWithTimeout(absl::Seconds(10));
      absl::SleepFor(absl::Milliseconds(100));  // gRPC ends the RPC on its own threads.
    };
    EXPECT_EQ(api_.Release(), 1);
    EXPECT_TRUE(answered.WaitForNotificationWithTimeout(absl::Seconds(10)));
    api_.after_inline_answer = nullptr;
    return status;
  }
};

TEST_F(ServicesStepTest, ATriggerAnsweredInsideItsCallEndsTheRpcOnce) {
  api_.trigger_sync = [](const std::string&, bool) -> absl::StatusOr<fivetran::SyncTriggered> {
    return MakeError(absl::StatusCode::kResourceExhausted,
                     "Fivetran rate limit reached: nothing is sent", "FIVETRAN_RATE_LIMITED",
                     {{"outcome", "not_sent"}});
  };
  grpc::Status s = SyncEndingInside("TriggerSync");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  EXPECT_EQ(CallsOf("TriggerSync"), 1);
}

TEST_F(ServicesStepTest, AConflictCheckAnsweredInsideItsCallEndsTheRpcOnce) {
  api_.trigger_sync = [](const std::string&, bool) -> absl::StatusOr<fivetran::SyncTriggered> {
    return MakeError(absl::StatusCode::kAlreadyExists, "Connection is already syncing",
                     "FIVETRAN_CONFLICT", {{"http_status", "409"}, {"fivetran_code", "Conflict"}});
  };
  grpc::Status s = SyncEndingInside("GetConnection");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  EXPECT_EQ(CallsOf("GetConnection"), 2);
}

TEST_F(ServicesTest, A409IsCheckedWithOneReadAndNeverResent) {  // Field report N2 (b).
  auto conflict = [] {
    return MakeError(absl::StatusCode::kAlreadyExists, "Connection is already syncing",
                     "FIVETRAN_CONFLICT", {{"http_status", "409"}, {"fivetran_code", "Conflict"}});
  };
  // The sync started between the gateway's read and its trigger.
  api_.trigger_sync = [&](const std::string&, bool) -> absl::StatusOr<fivetran::SyncTriggered> {
    upstream_.Set([](v1::Connection* c) {
      c->mutable_status()->set_sync_state(v1::SYNC_STATE_SYNCING);
      c->mutable_status()->set_sync_state_raw("syncing");
    });
    return conflict();
  };
  v1::SyncConnectionRequest req;
  req.set_connection_id("decent_dropsy");
  {
    grpc::ClientContext ctx;
    v1::SyncConnectionResponse resp;
    grpc::Status s = connection_stub_->SyncConnection(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_TRUE(resp.already_syncing());
  }
  // A conflict with no sync running is the caller's to resolve.
  api_.trigger_sync = [&](const std::string&, bool) -> absl::StatusOr<fivetran::SyncTriggered> {
    upstream_.Set([](v1::Connection* c) {
      c->mutable_status()->set_sync_state(v1::SYNC_STATE_SCHEDULED);
      c->mutable_status()->set_sync_state_raw("scheduled");
    });
    return conflict();
  };
  grpc::ClientContext ctx;
  v1::SyncConnectionResponse resp;
  grpc::Status s = connection_stub_->SyncConnection(&ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(s.error_message(), "Connection is already syncing");
  EXPECT_EQ(InfoOf(s).metadata().at("fivetran_code"), "Conflict");
  EXPECT_EQ(CallsOf("TriggerSync"), 2);    // One per call.
  EXPECT_EQ(CallsOf("GetConnection"), 4);  // The read before, and the one after the 409.
}

// ---------------------------------------------------------------------------
// WatchConnectionSync, on the manual clock

class WatchTest : public ServicesTest {
 protected:
  using Reader = grpc::ClientReader<v1::WatchConnectionSyncResponse>;
  std::unique_ptr<Reader> Watch(grpc::ClientContext* ctx, absl::Duration interval,
                                bool trigger = false) {
    v1::WatchConnectionSyncRequest req;
    req.set_connection_id("decent_dropsy");
    req.set_trigger(trigger);
    req.mutable_poll_interval()->set_seconds(absl::ToInt64Seconds(interval));
    return connection_stub_->WatchConnectionSync(ctx, req);
  }
  // A watch without baseline or trigger, with `cache-control: no-cache`.
  std::unique_ptr<Reader> WatchNoCache(grpc::ClientContext* ctx, absl::Duration interval) {
    ctx->AddMetadata("cache-control", "no-cache");
    return Watch(ctx, interval);
  }
  // Waits until the watcher's poll is scheduled on the manual clock.
  void AwaitPollScheduled() {
    ASSERT_TRUE(Eventually([&] { return timers_.pending() > 0; }));
  }
};

TEST_F(WatchTest, EndsSucceededWhenSucceededAtPassesTheBaseline) {
  const absl::Time before = timers_.Now() - absl::Hours(1);
  upstream_.Set([&](v1::Connection* c) { *c->mutable_succeeded_at() = At(before); });
  grpc::ClientContext ctx;
  auto reader = Watch(&ctx, absl::Seconds(5));
  v1::WatchConnectionSyncResponse first;
  ASSERT_TRUE(reader->Read(&first));
  EXPECT_EQ(first.outcome(), v1::SYNC_OUTCOME_UNSPECIFIED);
  EXPECT_EQ(TimeUtil::TimestampToNanoseconds(first.baseline()), absl::ToUnixNanos(before));
  AwaitPollScheduled();

  // A poll that sees a sync running: one update, no end.
  SetSyncState(v1::SYNC_STATE_SYNCING, "syncing");
  timers_.Advance(absl::Seconds(5));
  v1::WatchConnectionSyncResponse syncing;
  ASSERT_TRUE(reader->Read(&syncing));
  EXPECT_EQ(syncing.observation().sync_state(), v1::SYNC_STATE_SYNCING);
  EXPECT_EQ(TimeUtil::TimestampToNanoseconds(syncing.observation().observed_at()),
            absl::ToUnixNanos(timers_.Now()));

  // The sync ends between two polls.
  const absl::Time done = timers_.Now() + absl::Seconds(2);
  upstream_.Set([&](v1::Connection* c) {
    *c->mutable_succeeded_at() = At(done);
    c->mutable_status()->set_sync_state(v1::SYNC_STATE_SCHEDULED);
    c->mutable_status()->set_sync_state_raw("scheduled");
  });
  AwaitPollScheduled();
  timers_.Advance(absl::Seconds(5));
  v1::WatchConnectionSyncResponse last;
  ASSERT_TRUE(reader->Read(&last));
  EXPECT_EQ(last.outcome(), v1::SYNC_OUTCOME_SUCCEEDED);
  EXPECT_FALSE(reader->Read(&last));
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_EQ(CallsOf("GetConnection"), 3);  // The first read and two polls.
  EXPECT_TRUE(Eventually([&] { return pollers_->active_pollers() == 0; }));
}

TEST_F(WatchTest, EndsRescheduledWithTriggerRequiredOnAManualSchedule) {
  upstream_.Set([&](v1::Connection* c) {
    c->set_schedule_type(v1::SCHEDULE_TYPE_MANUAL);
    c->mutable_status()->set_sync_state(v1::SYNC_STATE_RESCHEDULED);
    c->mutable_status()->set_sync_state_raw("rescheduled");
    *c->mutable_status()->mutable_rescheduled_for() = At(timers_.Now() + absl::Hours(1));
  });
  grpc::ClientContext ctx;
  auto reader = Watch(&ctx, absl::Seconds(5));
  v1::WatchConnectionSyncResponse r;
  ASSERT_TRUE(reader->Read(&r));
  EXPECT_EQ(r.outcome(), v1::SYNC_OUTCOME_RESCHEDULED);
  EXPECT_TRUE(r.trigger_required());
  EXPECT_TRUE(r.observation().has_rescheduled_for());
  EXPECT_TRUE(reader->Finish().ok());
}

TEST_F(WatchTest, EndsPausedWhenTheConnectionIsPausedMeanwhile) {
  grpc::ClientContext ctx;
  auto reader = Watch(&ctx, absl::Seconds(5));
  v1::WatchConnectionSyncResponse r;
  ASSERT_TRUE(reader->Read(&r));
  AwaitPollScheduled();
  upstream_.Set([](v1::Connection* c) { c->set_paused(true); });
  timers_.Advance(absl::Seconds(5));
  ASSERT_TRUE(reader->Read(&r));
  EXPECT_EQ(r.outcome(), v1::SYNC_OUTCOME_PAUSED);
  EXPECT_TRUE(reader->Finish().ok());
}

TEST_F(WatchTest, TheDeadlineEndsTheWatchWithTheLastObservation) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(timers_.Now() + absl::Seconds(30)));
  auto reader = Watch(&ctx, absl::Seconds(10));
  v1::WatchConnectionSyncResponse r;
  ASSERT_TRUE(reader->Read(&r));
  AwaitPollScheduled();
  SetSyncState(v1::SYNC_STATE_SYNCING, "syncing");
  // On the manual clock, 30 s pass at once: two polls, then the watch ends
  // a little (2 s) before the caller's deadline.
  timers_.Advance(absl::Seconds(29));
  ASSERT_TRUE(reader->Read(&r));
  EXPECT_EQ(r.observation().sync_state(), v1::SYNC_STATE_SYNCING);
  EXPECT_FALSE(reader->Read(&r));
  grpc::Status s = reader->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(InfoOf(s).metadata().at("last_sync_state"), "syncing");
  EXPECT_EQ(CallsOf("GetConnection"), 3);  // The first read, polls at 10 s and 20 s.
}

TEST_F(WatchTest, WatchersOfOneConnectionShareOnePollerThatStopsWithTheLast) {
  grpc::ClientContext a_ctx, b_ctx;
  auto a = Watch(&a_ctx, absl::Seconds(5));
  auto b = Watch(&b_ctx, absl::Seconds(5));
  v1::WatchConnectionSyncResponse r;
  ASSERT_TRUE(a->Read(&r));
  ASSERT_TRUE(b->Read(&r));
  ASSERT_TRUE(
      Eventually([&] { return pollers_->active_pollers() == 1 && timers_.pending() == 1; }));
  const int reads_at_start = CallsOf("GetConnection");
  EXPECT_EQ(reads_at_start, 1);  // a's start-up read; b starts from what it saw.
  for (int i = 0; i < 3; ++i) timers_.Advance(absl::Seconds(5));
  EXPECT_EQ(CallsOf("GetConnection"), reads_at_start + 3);  // One read per interval for both.

  a_ctx.TryCancel();
  EXPECT_EQ(a->Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_EQ(pollers_->active_pollers(), 1u);
  b_ctx.TryCancel();
  EXPECT_EQ(b->Finish().error_code(), grpc::StatusCode::CANCELLED);
  ASSERT_TRUE(Eventually([&] { return pollers_->active_pollers() == 0; }));
  const int reads = CallsOf("GetConnection");
  timers_.Advance(absl::Seconds(60));
  EXPECT_EQ(CallsOf("GetConnection"), reads);  // Nobody watches: no more reads.
}

TEST_F(WatchTest, ATriggerOnARunningSyncSaysTheOutcomeIsOfThatSync) {
  SetSyncState(v1::SYNC_STATE_SYNCING, "syncing");
  AcceptTriggers();
  grpc::ClientContext ctx;
  auto reader = Watch(&ctx, absl::Seconds(5), /*trigger=*/true);
  AwaitPollScheduled();
  upstream_.Set([&](v1::Connection* c) {
    *c->mutable_succeeded_at() = At(timers_.Now());
    c->mutable_status()->set_sync_state(v1::SYNC_STATE_SCHEDULED);
  });
  timers_.Advance(absl::Seconds(5));
  v1::WatchConnectionSyncResponse r;
  ASSERT_TRUE(reader->Read(&r));
  EXPECT_EQ(r.outcome(), v1::SYNC_OUTCOME_SUCCEEDED);
  EXPECT_TRUE(r.already_syncing());
  EXPECT_EQ(r.setup_state_at_trigger(), v1::SETUP_STATE_CONNECTED);
  EXPECT_TRUE(reader->Finish().ok());
}

TEST_F(WatchTest, PollingYieldsWhileTheBudgetIsUnderTheReserve) {
  grpc::ClientContext ctx;
  auto reader = Watch(&ctx, absl::Seconds(5));
  v1::WatchConnectionSyncResponse r;
  ASSERT_TRUE(reader->Read(&r));
  AwaitPollScheduled();
  budget_low_ = true;
  timers_.Advance(absl::Seconds(5));  // This poll sees the budget low...
  EXPECT_EQ(CallsOf("GetConnection"), 2);
  timers_.Advance(absl::Seconds(15));  // ... so the next waits 4 x 5 s, not 5 s.
  EXPECT_EQ(CallsOf("GetConnection"), 2);
  budget_low_ = false;
  timers_.Advance(absl::Seconds(5));
  EXPECT_EQ(CallsOf("GetConnection"), 3);
  timers_.Advance(absl::Seconds(5));  // Back to every 5 s.
  EXPECT_EQ(CallsOf("GetConnection"), 4);
  ctx.TryCancel();
  reader->Finish();
}

TEST_F(WatchTest, AWatcherWithAShorterIntervalBringsTheNextPollForward) {
  grpc::ClientContext a_ctx;
  auto a = Watch(&a_ctx, absl::Seconds(10));
  v1::WatchConnectionSyncResponse r;
  ASSERT_TRUE(a->Read(&r));
  AwaitPollScheduled();
  timers_.Advance(absl::Seconds(10));  // The shared poller's first poll.
  EXPECT_EQ(CallsOf("GetConnection"), 2);
  timers_.Advance(absl::Seconds(1));

  grpc::ClientContext b_ctx;
  auto b = Watch(&b_ctx, absl::Seconds(2));
  ASSERT_TRUE(b->Read(&r));
  ASSERT_TRUE(Eventually([&] { return timers_.next_due() == timers_.Now() + absl::Seconds(1); }))
      << "next poll due in " << (timers_.next_due() - timers_.Now());
  timers_.Advance(absl::Seconds(1));  // 2 s after the last poll, not 10.
  // + the poll: b started from the poll at 10 s, 1 s old.
  EXPECT_EQ(CallsOf("GetConnection"), 3);
  a_ctx.TryCancel();
  b_ctx.TryCancel();
  a->Finish();
  b->Finish();
}

TEST_F(WatchTest, ATriggeringWatchTriggersThenJudgesAgainstThePreTriggerState) {
  const absl::Time before = timers_.Now() - absl::Hours(1);
  upstream_.Set([&](v1::Connection* c) { *c->mutable_failed_at() = At(before); });
  AcceptTriggers();
  grpc::ClientContext ctx;
  auto reader = Watch(&ctx, absl::Seconds(5), /*trigger=*/true);
  AwaitPollScheduled();
  upstream_.Set([&](v1::Connection* c) { *c->mutable_failed_at() = At(timers_.Now()); });
  timers_.Advance(absl::Seconds(5));
  v1::WatchConnectionSyncResponse r;
  ASSERT_TRUE(reader->Read(&r));
  EXPECT_EQ(r.outcome(), v1::SYNC_OUTCOME_FAILED);
  EXPECT_EQ(TimeUtil::TimestampToNanoseconds(r.baseline()), absl::ToUnixNanos(before));
  EXPECT_TRUE(r.has_triggered_at());
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_EQ(CallsOf("TriggerSync"), 1);
  // The pre-trigger read and the polls are never answered by a read cache.
  EXPECT_GE(CallsOf("GetConnection"), 2);
  for (const auto& call : api_.calls()) {
    if (call.operation == "GetConnection") {
      EXPECT_TRUE(call.fresh);
    }
  }
}

// Issue 13: a watcher without baseline starts from what the connection's
// poller saw less than its interval ago; older, it gets a new read, which is
// the poller's poll (the next one is an interval after it).
TEST_F(WatchTest, AStartingWatcherUsesThePollersRecentObservationOrItsRead) {
  grpc::ClientContext a_ctx;
  auto a = Watch(&a_ctx, absl::Seconds(10));
  v1::WatchConnectionSyncResponse first_a;
  ASSERT_TRUE(a->Read(&first_a));
  EXPECT_EQ(CallsOf("GetConnection"), 1);
  AwaitPollScheduled();
  const absl::Time t0 = timers_.Now();

  // 4 s old, younger than b's 5 s: b starts from it (its observed_at), no read.
  timers_.Advance(absl::Seconds(4));
  grpc::ClientContext b_ctx;
  auto b = Watch(&b_ctx, absl::Seconds(5));
  v1::WatchConnectionSyncResponse first_b;
  ASSERT_TRUE(b->Read(&first_b));
  EXPECT_EQ(first_b.outcome(), v1::SYNC_OUTCOME_UNSPECIFIED);
  EXPECT_EQ(TimeUtil::TimestampToNanoseconds(first_b.observation().observed_at()),
            absl::ToUnixNanos(t0));
  EXPECT_EQ(CallsOf("GetConnection"), 1);
  // b's interval brings the next poll to 5 s after the last one.
  ASSERT_TRUE(Eventually([&] { return timers_.next_due() == t0 + absl::Seconds(5); }));

  // 3 s old, older than c's 2 s: c's first update is a read made now, and
  // it is the poller's poll: the next is due 2 s later, not at t0 + 5 s.
  timers_.Advance(absl::Seconds(1));  // The poll at t0 + 5 s.
  EXPECT_EQ(CallsOf("GetConnection"), 2);
  timers_.Advance(absl::Seconds(3));
  grpc::ClientContext c_ctx;
  auto c = Watch(&c_ctx, absl::Seconds(2));
  v1::WatchConnectionSyncResponse first_c;
  ASSERT_TRUE(c->Read(&first_c));
  EXPECT_EQ(TimeUtil::TimestampToNanoseconds(first_c.observation().observed_at()),
            absl::ToUnixNanos(timers_.Now()));
  EXPECT_EQ(CallsOf("GetConnection"), 3);
  EXPECT_EQ(timers_.next_due(), timers_.Now() + absl::Seconds(2));
  for (auto* ctx : {&a_ctx, &b_ctx, &c_ctx}) ctx->TryCancel();
  a->Finish();
  b->Finish();
  c->Finish();
  for (const auto& call : api_.calls()) EXPECT_TRUE(call.fresh);
}

// Watchers starting while the poller's read is in flight all take it as
// their start-up read; one leaving does not stop it for the others.
TEST_F(WatchTest, StartingWatchersJoinThePollInFlight) {
  api_.set_hold(true);
  grpc::ClientContext a_ctx, b_ctx, c_ctx;
  auto a = Watch(&a_ctx, absl::Seconds(5));
  ASSERT_TRUE(Eventually([&] { return CallsOf("GetConnection") == 1; }));
  auto b = Watch(&b_ctx, absl::Seconds(5));
  auto c = Watch(&c_ctx, absl::Seconds(5));
  ASSERT_TRUE(Eventually([&] { return pollers_->subscribers() == 3; }));
  a_ctx.TryCancel();
  EXPECT_EQ(a->Finish().error_code(), grpc::StatusCode::CANCELLED);
  ASSERT_TRUE(Eventually([&] { return pollers_->subscribers() == 2; }));
  EXPECT_EQ(api_.cancelled(), 0);
  ASSERT_EQ(api_.Release(), 1);
  api_.set_hold(false);
  v1::WatchConnectionSyncResponse r;
  ASSERT_TRUE(b->Read(&r));
  EXPECT_EQ(r.observation().sync_state_raw(), "scheduled");
  ASSERT_TRUE(c->Read(&r));
  EXPECT_EQ(r.observation().sync_state_raw(), "scheduled");
  EXPECT_EQ(CallsOf("GetConnection"), 1);
  b_ctx.TryCancel();
  c_ctx.TryCancel();
  b->Finish();
  c->Finish();
}

// `cache-control: no-cache`: a read of its own, even with a recent one.
TEST_F(WatchTest, NoCacheStartsFromANewRead) {
  grpc::ClientContext a_ctx, b_ctx;
  auto a = Watch(&a_ctx, absl::Seconds(10));
  v1::WatchConnectionSyncResponse r;
  ASSERT_TRUE(a->Read(&r));
  AwaitPollScheduled();
  timers_.Advance(absl::Seconds(1));
  SetSyncState(v1::SYNC_STATE_SYNCING, "syncing");
  auto b = WatchNoCache(&b_ctx, absl::Seconds(10));
  ASSERT_TRUE(b->Read(&r));
  EXPECT_EQ(r.observation().sync_state(), v1::SYNC_STATE_SYNCING);
  EXPECT_EQ(TimeUtil::TimestampToNanoseconds(r.observation().observed_at()),
            absl::ToUnixNanos(timers_.Now()));
  EXPECT_EQ(CallsOf("GetConnection"), 2);
  a_ctx.TryCancel();
  b_ctx.TryCancel();
  a->Finish();
  b->Finish();
}

// Errors of the start-up read end the watch as a read of its own did
// (NOT_FOUND, and a transient one too), and are never kept: the next
// watcher reads again. A running watcher rides out the transient one.
TEST_F(WatchTest, AStartUpReadErrorEndsOnlyTheStartingWatcherAndIsNotKept) {
  grpc::ClientContext a_ctx;
  auto a = Watch(&a_ctx, absl::Seconds(5));
  v1::WatchConnectionSyncResponse r;
  ASSERT_TRUE(a->Read(&r));
  AwaitPollScheduled();
  timers_.Advance(absl::Seconds(10));  // Poll at 5 s; the next is due at 10 s: it runs.
  const int reads = CallsOf("GetConnection");
  timers_.Advance(absl::Seconds(4));
  auto unavailable = [](const std::string&) -> absl::StatusOr<v1::Connection> {
    return MakeError(absl::StatusCode::kUnavailable, "refused", "UPSTREAM_UNAVAILABLE");
  };
  auto ok = api_.get_connection;
  api_.get_connection = unavailable;
  // Observation 4 s old, younger than 5 s: served, no read.
  grpc::ClientContext b_ctx;
  auto b = Watch(&b_ctx, absl::Seconds(5));
  ASSERT_TRUE(b->Read(&r));
  EXPECT_EQ(CallsOf("GetConnection"), reads);
  // The next poll fails: a and b go on; the failure is not kept, so c
  // (interval 5 s, well within) reads, fails and ends.
  timers_.Advance(absl::Seconds(1));
  EXPECT_EQ(CallsOf("GetConnection"), reads + 1);
  grpc::ClientContext c_ctx;
  auto c = Watch(&c_ctx, absl::Seconds(5));
  EXPECT_FALSE(c->Read(&r));
  EXPECT_EQ(c->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(CallsOf("GetConnection"), reads + 2);
  // NOT_FOUND ends a starting watcher of a connection that does not exist.
  api_.get_connection = ok;
  grpc::ClientContext d_ctx;
  v1::WatchConnectionSyncRequest missing;
  missing.set_connection_id("no_such_connection");
  auto d = connection_stub_->WatchConnectionSync(&d_ctx, missing);
  EXPECT_FALSE(d->Read(&r));
  EXPECT_EQ(d->Finish().error_code(), grpc::StatusCode::NOT_FOUND);
  // a and b are still watching; the poller recovers.
  timers_.Advance(absl::Seconds(10));
  EXPECT_GE(CallsOf("GetConnection"), reads + 4);
  a_ctx.TryCancel();
  b_ctx.TryCancel();
  EXPECT_EQ(a->Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_EQ(b->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

// A triggering watcher is not served the poller's pre-trigger observation:
// it reads before triggering, and its first update is a poll after it.
TEST_F(WatchTest, ATriggeringWatcherStillReadsBeforeItsTrigger) {
  AcceptTriggers();
  grpc::ClientContext a_ctx;
  auto a = Watch(&a_ctx, absl::Seconds(10));
  v1::WatchConnectionSyncResponse r;
  ASSERT_TRUE(a->Read(&r));
  AwaitPollScheduled();
  timers_.Advance(absl::Seconds(1));
  SetSyncState(v1::SYNC_STATE_SYNCING, "syncing");
  grpc::ClientContext t_ctx;
  auto t = Watch(&t_ctx, absl::Seconds(5), /*trigger=*/true);
  ASSERT_TRUE(Eventually([&] { return CallsOf("TriggerSync") == 1; }));
  EXPECT_EQ(CallsOf("GetConnection"), 2);  // a's, and the one before the trigger.
  ASSERT_TRUE(Eventually([&] { return timers_.next_due() == timers_.Now() + absl::Seconds(4); }));
  timers_.Advance(absl::Seconds(4));
  ASSERT_TRUE(t->Read(&r));
  EXPECT_EQ(r.observation().sync_state(), v1::SYNC_STATE_SYNCING);
  EXPECT_TRUE(r.already_syncing());
  EXPECT_EQ(TimeUtil::TimestampToNanoseconds(r.observation().observed_at()),
            absl::ToUnixNanos(timers_.Now()));
  a_ctx.TryCancel();
  t_ctx.TryCancel();
  a->Finish();
  t->Finish();
}

// Issue 11 #10: a valid far-future baseline overflowed int64 nanoseconds,
// came out in 1816 and ended the watch SUCCEEDED at once. It means "not
// finished yet", and is echoed as given.
TEST_F(WatchTest, AFarFutureBaselineIsNotFinished) {
  upstream_.Set([&](v1::Connection* c) { *c->mutable_succeeded_at() = At(timers_.Now()); });
  grpc::ClientContext ctx;
  v1::WatchConnectionSyncRequest req;
  req.set_connection_id("decent_dropsy");
  req.mutable_baseline()->set_seconds(253402300799);  // 9999-12-31T23:59:59Z
  req.mutable_baseline()->set_nanos(999999999);
  req.mutable_poll_interval()->set_seconds(5);
  auto reader = connection_stub_->WatchConnectionSync(&ctx, req);
  AwaitPollScheduled();
  timers_.RunDue();
  v1::WatchConnectionSyncResponse r;
  ASSERT_TRUE(reader->Read(&r));
  EXPECT_EQ(r.outcome(), v1::SYNC_OUTCOME_UNSPECIFIED);
  EXPECT_EQ(r.baseline().seconds(), 253402300799);
  EXPECT_EQ(r.baseline().nanos(), 999999999);
  ctx.TryCancel();
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

// The oldest valid baseline works the other way: any sync end is past it.
TEST_F(WatchTest, TheOldestValidBaselineIsPassedByAnySyncEnd) {
  upstream_.Set([&](v1::Connection* c) { *c->mutable_failed_at() = At(timers_.Now()); });
  grpc::ClientContext ctx;
  v1::WatchConnectionSyncRequest req;
  req.set_connection_id("decent_dropsy");
  req.mutable_baseline()->set_seconds(-62135596800);  // 0001-01-01T00:00:00Z
  auto reader = connection_stub_->WatchConnectionSync(&ctx, req);
  AwaitPollScheduled();
  timers_.RunDue();
  v1::WatchConnectionSyncResponse r;
  ASSERT_TRUE(reader->Read(&r));
  EXPECT_EQ(r.outcome(), v1::SYNC_OUTCOME_FAILED);
  EXPECT_EQ(r.baseline().seconds(), -62135596800);
  EXPECT_TRUE(reader->Finish().ok());
}

// An invalid Timestamp or Duration is INVALID_ARGUMENT with a BadRequest
// naming the field, before anything is read or polled.
TEST_F(WatchTest, AnInvalidBaselineOrPollIntervalIsRefusedNamingTheField) {
  struct Case {
    const char* what;
    const char* field;
    std::function<void(v1::WatchConnectionSyncRequest*)> set;
  };
  const std::vector<Case> cases = {
      {"baseline after 9999", "baseline",
       [](auto* r) { r->mutable_baseline()->set_seconds(253402300800); }},
      {"baseline before 0001", "baseline",
       [](auto* r) { r->mutable_baseline()->set_seconds(-62135596801); }},
      {"baseline int64 max", "baseline",
       [](auto* r) { r->mutable_baseline()->set_seconds(INT64_MAX); }},
      {"baseline negative nanos", "baseline",
       [](auto* r) { r->mutable_baseline()->set_nanos(-1); }},
      {"baseline nanos 1e9", "baseline",
       [](auto* r) { r->mutable_baseline()->set_nanos(1000000000); }},
      {"negative interval", "poll_interval",
       [](auto* r) { r->mutable_poll_interval()->set_seconds(-5); }},
      {"negative nanos interval", "poll_interval",
       [](auto* r) { r->mutable_poll_interval()->set_nanos(-5); }},
      {"interval nanos 1e9", "poll_interval",
       [](auto* r) { r->mutable_poll_interval()->set_nanos(1000000000); }},
      {"interval mixed signs", "poll_interval",
       [](auto* r) {
         r->mutable_poll_interval()->set_seconds(5);
         r->mutable_poll_interval()->set_nanos(-1);
       }},
      {"interval beyond Duration's range", "poll_interval",
       [](auto* r) { r->mutable_poll_interval()->set_seconds(315576000001); }},
      {"interval int64 max", "poll_interval",
       [](auto* r) { r->mutable_poll_interval()->set_seconds(INT64_MAX); }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    for (bool trigger : {false, true}) {
      grpc::ClientContext ctx;
      v1::WatchConnectionSyncRequest req;
      req.set_connection_id("decent_dropsy");
      req.set_trigger(trigger);
      c.set(&req);
      auto reader = connection_stub_->WatchConnectionSync(&ctx, req);
      v1::WatchConnectionSyncResponse r;
      EXPECT_FALSE(reader->Read(&r));
      grpc::Status s = reader->Finish();
      EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
      google::rpc::Status details;
      ASSERT_TRUE(details.ParseFromString(s.error_details()));
      bool named = false;
      for (const auto& any : details.details()) {
        google::rpc::BadRequest bad;
        if (any.UnpackTo(&bad)) {
          for (const auto& v : bad.field_violations()) named = named || v.field() == c.field;
        }
      }
      EXPECT_TRUE(named) << s.error_message();
    }
  }
  EXPECT_TRUE(api_.calls().empty());
  EXPECT_EQ(timers_.pending(), 0u);
}

// A valid but huge interval is lowered to an hour, as one below the
// minimum is raised to it: the watcher still sees polls.
TEST_F(WatchTest, AHugePollIntervalIsLoweredToAnHour) {
  grpc::ClientContext ctx;
  v1::WatchConnectionSyncRequest req;
  req.set_connection_id("decent_dropsy");
  req.mutable_poll_interval()->set_seconds(315576000000);  // 10,000 years.
  auto reader = connection_stub_->WatchConnectionSync(&ctx, req);
  v1::WatchConnectionSyncResponse r;
  ASSERT_TRUE(reader->Read(&r));
  AwaitPollScheduled();
  EXPECT_EQ(timers_.next_due() - timers_.Now(), absl::Hours(1));
  ctx.TryCancel();
  reader->Finish();
}

}  // namespace
}  // namespace fivetran_gateway
