// The credential set's request budget through the real gateway and the real
// emulator: once Fivetran answers 429 with Retry-After, further calls are
// refused at once with RESOURCE_EXHAUSTED and RetryInfo, sending nothing.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "tests/harness.h"

namespace fivetran_gateway::testing {
namespace {

namespace v1 = ::fivetran::gateway::v1;

class RateLimitE2ETest : public StackTest {
 protected:
  static void SetUpTestSuite() { StartStack(); }
  void TearDown() override {
    emulator_->Admin("POST", "/_emulator/rate_limit", {{"limit_per_hour", 20000}});
  }
};

TEST_F(RateLimitE2ETest, After429NothingIsSentUntilItsRetryAfter) {
  emulator_->Admin("POST", "/_emulator/rate_limit", {{"limit_per_hour", 3}});
  auto connections = gateway_->connections();
  auto groups = gateway_->groups();
  int ok = 0;
  grpc::Status limited;
  for (int i = 0; i < 4; ++i) {
    auto ctx = ContextWithDeadline(10);
    v1::GetConnectionRequest req;
    req.set_connection_id("decent_dropsy");
    v1::GetConnectionResponse resp;
    grpc::Status s = connections->GetConnection(ctx.get(), req, &resp);
    if (s.ok()) {
      ++ok;
    } else {
      limited = s;
    }
  }
  EXPECT_EQ(ok, 3);
  ASSERT_EQ(limited.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  ASSERT_EQ(emulator_->Requests().size(), 4u);

  // 100 further calls of any kind: answered at once, nothing sent.
  for (int i = 0; i < 100; ++i) {
    auto ctx = ContextWithDeadline(10);
    grpc::Status s;
    if (i % 2 == 0) {
      v1::ListGroupsRequest req;
      v1::ListGroupsResponse resp;
      s = groups->ListGroups(ctx.get(), req, &resp);
    } else {
      v1::GetConnectionRequest req;
      req.set_connection_id("fresh_otter");
      v1::GetConnectionResponse resp;
      s = connections->GetConnection(ctx.get(), req, &resp);
    }
    ASSERT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
    ErrorDetails d = DetailsOf(s);
    EXPECT_EQ(d.error_info.reason(), "FIVETRAN_RATE_LIMITED");
    EXPECT_EQ(d.error_info.metadata().at("outcome"), "not_sent");
    ASSERT_TRUE(d.has_retry_info);
    EXPECT_GT(d.retry_info.retry_delay().seconds(), 60);  // The emulator's window: up to an hour.
  }
  EXPECT_EQ(emulator_->Requests().size(), 4u);
}

// SyncConnection reads the connection, then triggers from that read's
// callback. Here a 429 blocks the credential set while the reads are on
// their way, so each trigger is refused inside the call that starts it: the
// RPC ends before that call returns. The step must not touch the RPC after
// that (AddressSanitizer caught a use-after-free of it here).
TEST_F(RateLimitE2ETest, ASyncWhoseTriggerTheBudgetRefusesEndsWithTheRefusal) {
  emulator_->AddFault({{"kind", "latency"},
                       {"latency_ms", 400},
                       {"method", "GET"},
                       {"path_prefix", "/v1/connections/"},
                       {"count", -1}});
  // Connections a sync may be triggered for, each read on its own.
  std::vector<std::string> ids;
  for (const nlohmann::json& group : emulator_->ListAll("/v1/groups")) {
    for (const nlohmann::json& c :
         emulator_->ListAll("/v1/groups/" + group["id"].get<std::string>() + "/connections")) {
      if (c["status"]["setup_state"] == "connected" && c["paused"] == false) {
        ids.push_back(c["id"].get<std::string>());
      }
    }
  }
  ASSERT_GE(ids.size(), 10u);
  auto connections = gateway_->connections();
  struct Sync {
    grpc::ClientContext context;
    v1::SyncConnectionRequest request;
    v1::SyncConnectionResponse response;
    grpc::Status status;
    std::promise<void> done;
  };
  std::vector<std::unique_ptr<Sync>> syncs;
  for (size_t i = 0; i < 40; ++i) {
    auto sync = std::make_unique<Sync>();
    sync->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    sync->request.set_connection_id(ids[i % ids.size()]);
    sync->request.set_force(true);
    Sync* p = sync.get();
    connections->async()->SyncConnection(&p->context, &p->request, &p->response,
                                         [p](grpc::Status status) {
                                           p->status = std::move(status);
                                           p->done.set_value();
                                         });
    syncs.push_back(std::move(sync));
  }
  absl::SleepFor(absl::Milliseconds(100));  // The reads are sent and wait 400 ms.
  emulator_->AddFault({{"kind", "status"},
                       {"status", 429},
                       {"retry_after", "3"},
                       {"method", "GET"},
                       {"path_prefix", "/v1/groups"},
                       {"count", 1}});
  {
    auto ctx = ContextWithDeadline(1);  // Shorter than the Retry-After: no wait.
    v1::ListGroupsRequest req;
    v1::ListGroupsResponse resp;
    grpc::Status s = gateway_->groups()->ListGroups(ctx.get(), req, &resp);
    ASSERT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  }
  for (const auto& sync : syncs) {
    sync->done.get_future().wait();
    ASSERT_EQ(sync->status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
        << sync->status.error_message();
    EXPECT_EQ(DetailsOf(sync->status).error_info.metadata().at("outcome"), "not_sent");
  }
  EXPECT_EQ(emulator_->CountRequests("POST", "/v1"), 0);  // No trigger was sent.
  // Still serving (a health check needs no upstream request).
  grpc::health::v1::HealthCheckResponse health;
  EXPECT_TRUE(HealthCheck(gateway_->channel(), &health).ok());
  RestartGateway();  // Its credential set stays blocked for 3 s.
}

}  // namespace
}  // namespace fivetran_gateway::testing
