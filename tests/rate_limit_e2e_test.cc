// The credential set's request budget through the real gateway and the real
// emulator: once Fivetran answers 429 with Retry-After, further calls are
// refused at once with RESOURCE_EXHAUSTED and RetryInfo, sending nothing.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <string>

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

}  // namespace
}  // namespace fivetran_gateway::testing
