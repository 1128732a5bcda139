// The read cache (--read_cache_ttl=30s) through the real gateway and the
// real emulator: a second read within the TTL sends nothing and says `hit`
// with its age, `cache-control: no-cache` sends a new GET, and a sync
// through the gateway drops what it changed.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/util/message_differencer.h"
#include "tests/harness.h"

namespace fivetran_gateway::testing {
namespace {

namespace v1 = ::fivetran::gateway::v1;

constexpr char kConnection[] = "decent_dropsy";
constexpr char kGroup[] = "projected_sickle";  // decent_dropsy's group.

class ReadCacheE2ETest : public StackTest {
 protected:
  // A triggered sync runs long enough to be seen running.
  static void SetUpTestSuite() { StartStack({"--sync_duration=10m"}, {"--read_cache_ttl=30s"}); }
  // Each test starts with an empty cache.
  void SetUp() override {
    RestartGateway();
    StackTest::SetUp();
  }

  static int UpstreamGets(const std::string& path) {
    int n = 0;
    for (const nlohmann::json& r : emulator_->Requests()) {
      n += r["method"] == "GET" && r["path"] == path;
    }
    return n;
  }

  // The x-fivetran-gateway-cache trailer of a finished call; "" if absent.
  static std::string CacheOf(const grpc::ClientContext& ctx) {
    auto it = ctx.GetServerTrailingMetadata().find("x-fivetran-gateway-cache");
    if (it == ctx.GetServerTrailingMetadata().end()) return "";
    return std::string(it->second.data(), it->second.size());
  }

  struct Read {
    grpc::Status status;
    v1::Connection connection;
    std::string cache;
  };
  static Read Get(const std::string& cache_control = "") {
    auto ctx = ContextWithDeadline();
    if (!cache_control.empty()) ctx->AddMetadata("cache-control", cache_control);
    v1::GetConnectionRequest request;
    request.set_connection_id(kConnection);
    v1::GetConnectionResponse response;
    Read out;
    out.status = gateway_->connections()->GetConnection(ctx.get(), request, &response);
    out.connection = response.connection();
    out.cache = CacheOf(*ctx);
    return out;
  }
  static std::string ListGroupConnections() {
    auto ctx = ContextWithDeadline();
    v1::ListGroupConnectionsRequest request;
    request.set_group_id(kGroup);
    v1::ListGroupConnectionsResponse response;
    grpc::Status s = gateway_->groups()->ListGroupConnections(ctx.get(), request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return CacheOf(*ctx);
  }
};

TEST_F(ReadCacheE2ETest, ASecondReadIsServedFromTheCacheAndSaysHowOld) {
  const absl::Time start = absl::Now();
  Read first = Get();
  ASSERT_TRUE(first.status.ok()) << first.status.error_message();
  EXPECT_EQ(first.cache, "miss");
  Read second = Get();
  const absl::Duration elapsed = absl::Now() - start;
  ASSERT_TRUE(second.status.ok()) << second.status.error_message();
  EXPECT_TRUE(
      google::protobuf::util::MessageDifferencer::Equals(second.connection, first.connection));
  EXPECT_EQ(UpstreamGets(std::string("/v1/connections/") + kConnection), 1);
  ASSERT_TRUE(absl::StartsWith(second.cache, "hit; age=")) << second.cache;
  double age = -1;
  ASSERT_TRUE(absl::SimpleAtod(second.cache.substr(9), &age)) << second.cache;
  EXPECT_GE(age, 0);
  EXPECT_LE(age, absl::ToDoubleSeconds(elapsed) + 0.05);  // Printed with one decimal.

  // Listings too.
  EXPECT_EQ(ListGroupConnections(), "miss");
  EXPECT_TRUE(absl::StartsWith(ListGroupConnections(), "hit; age="));
  EXPECT_EQ(UpstreamGets(std::string("/v1/groups/") + kGroup + "/connections"), 1);
}

TEST_F(ReadCacheE2ETest, NoCacheSendsANewGet) {
  ASSERT_TRUE(Get().status.ok());
  Read fresh = Get("no-cache");
  ASSERT_TRUE(fresh.status.ok()) << fresh.status.error_message();
  EXPECT_EQ(fresh.cache, "miss");
  EXPECT_EQ(UpstreamGets(std::string("/v1/connections/") + kConnection), 2);
  // Its answer refreshed the entry.
  EXPECT_TRUE(absl::StartsWith(Get().cache, "hit; age="));
  EXPECT_EQ(UpstreamGets(std::string("/v1/connections/") + kConnection), 2);
}

TEST_F(ReadCacheE2ETest, ASyncThroughTheGatewayDropsTheConnectionAndItsGroupsListings) {
  Read before = Get();
  ASSERT_TRUE(before.status.ok()) << before.status.error_message();
  ASSERT_NE(before.connection.status().sync_state(), v1::SYNC_STATE_SYNCING);
  EXPECT_EQ(ListGroupConnections(), "miss");
  emulator_->ClearRequests();

  v1::SyncConnectionRequest request;
  request.set_connection_id(kConnection);
  v1::SyncConnectionResponse response;
  grpc::Status s =
      gateway_->connections()->SyncConnection(ContextWithDeadline().get(), request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  // The read before the trigger is never a cached one (its baseline).
  EXPECT_EQ(UpstreamGets(std::string("/v1/connections/") + kConnection), 1);

  Read after = Get();
  ASSERT_TRUE(after.status.ok()) << after.status.error_message();
  EXPECT_EQ(after.cache, "miss");
  EXPECT_EQ(after.connection.status().sync_state(), v1::SYNC_STATE_SYNCING);
  EXPECT_EQ(UpstreamGets(std::string("/v1/connections/") + kConnection), 2);
  EXPECT_EQ(ListGroupConnections(), "miss");
  EXPECT_EQ(UpstreamGets(std::string("/v1/groups/") + kGroup + "/connections"), 1);
}

}  // namespace
}  // namespace fivetran_gateway::testing
