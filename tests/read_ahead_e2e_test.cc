// The read-ahead of listings (--read_ahead, on by default without a fleet)
// through the real gateway and the real emulator: a caller paging with page
// tokens costs one upstream GET per page, the page after its second one on
// is read while it works (trailer `read-ahead; age=...`), a first page alone
// costs one GET, a fresh read and a sync through the gateway bypass what was
// read ahead (also a page read ahead while the sync was in flight), and
// --read_ahead=off reads nothing ahead.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/harness.h"

namespace fivetran_gateway::testing {
namespace {

namespace v1 = ::fivetran::gateway::v1;

constexpr char kGroup[] = "amber_fjord";  // 260 connections in the seed.
constexpr char kPath[] = "/v1/groups/amber_fjord/connections";

class ReadAheadE2ETest : public StackTest {
 protected:
  static void SetUpTestSuite() { StartStack({"--sync_duration=10m"}); }
  // Nothing read ahead by an earlier test.
  void SetUp() override {
    RestartGateway();
    StackTest::SetUp();
  }

  // The upstream GETs of the group's listing so far, as their queries.
  static std::vector<std::string> Gets() {
    std::vector<std::string> out;
    for (const nlohmann::json& r : emulator_->Requests()) {
      if (r["method"] == "GET" && r["path"] == kPath) out.push_back(r["query"]);
    }
    return out;
  }
  // Waits (at most 5 s) until the emulator has seen `n` listing GETs.
  static bool AwaitGets(size_t n) {
    const absl::Time until = absl::Now() + absl::Seconds(5);
    while (Gets().size() < n && absl::Now() < until) absl::SleepFor(absl::Milliseconds(10));
    return Gets().size() >= n;
  }

  // Waits (at most 10 s) until the emulator has answered `n` listing GETs.
  static bool AwaitAnswered(size_t n) {
    const absl::Time until = absl::Now() + absl::Seconds(10);
    auto answered = [] {
      size_t k = 0;
      for (const nlohmann::json& r : emulator_->Requests()) {
        k += r["method"] == "GET" && r["path"] == kPath && r["status"] != 0;
      }
      return k;
    };
    while (answered() < n && absl::Now() < until) absl::SleepFor(absl::Milliseconds(10));
    return answered() >= n;
  }

  struct PageRead {
    grpc::Status status;
    v1::ListGroupConnectionsResponse response;
    std::string cache;  // The x-fivetran-gateway-cache trailer, "" if none.
  };
  static PageRead ReadPage(const Gateway& gateway, const std::string& token,
                           const std::string& cache_control = "") {
    auto ctx = ContextWithDeadline();
    if (!cache_control.empty()) ctx->AddMetadata("cache-control", cache_control);
    v1::ListGroupConnectionsRequest request;
    request.set_group_id(kGroup);
    request.set_page_size(100);
    request.set_page_token(token);
    PageRead out;
    out.status = gateway.groups()->ListGroupConnections(ctx.get(), request, &out.response);
    auto it = ctx->GetServerTrailingMetadata().find("x-fivetran-gateway-cache");
    if (it != ctx->GetServerTrailingMetadata().end())
      out.cache.assign(it->second.data(), it->second.size());
    return out;
  }
  static std::vector<std::string> Ids(const PageRead& page) {
    std::vector<std::string> ids;
    for (const auto& c : page.response.connections()) ids.push_back(c.id());
    return ids;
  }
};

TEST_F(ReadAheadE2ETest, APagingCallerCostsOneGetPerPageAndGetsTheThirdPageReadAhead) {
  std::vector<nlohmann::json> expected = emulator_->ListAll(kPath);
  ASSERT_EQ(expected.size(), 260u);
  emulator_->ClearRequests();

  PageRead p1 = ReadPage(*gateway_, "");
  ASSERT_TRUE(p1.status.ok()) << p1.status.error_message();
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(Gets().size(), 1u) << "a first page alone reads nothing ahead";

  PageRead p2 = ReadPage(*gateway_, p1.response.next_page_token());
  ASSERT_TRUE(p2.status.ok()) << p2.status.error_message();
  EXPECT_EQ(p2.cache, "");
  ASSERT_TRUE(AwaitGets(3)) << "page 3 was not read ahead";
  const absl::Time read_ahead_seen = absl::Now();
  // Answered, and given time to be read and kept (else page 3's read joins it).
  ASSERT_TRUE(AwaitAnswered(3));
  absl::SleepFor(absl::Milliseconds(300));

  PageRead p3 = ReadPage(*gateway_, p2.response.next_page_token());
  ASSERT_TRUE(p3.status.ok()) << p3.status.error_message();
  ASSERT_TRUE(absl::StartsWith(p3.cache, "read-ahead; age=")) << p3.cache;
  double age = -1;
  ASSERT_TRUE(absl::SimpleAtod(p3.cache.substr(16), &age)) << p3.cache;
  EXPECT_GE(age, 0.25);
  // Counted from when the read-ahead was sent, a little before the emulator logged it.
  EXPECT_LE(age, absl::ToDoubleSeconds(absl::Now() - read_ahead_seen) + 1.0);
  EXPECT_EQ(p3.response.next_page_token(), "");

  // Every connection once, in Fivetran's order, and one GET per page.
  std::vector<std::string> ids = Ids(p1);
  for (const PageRead* p : {&p2, &p3}) {
    std::vector<std::string> more = Ids(*p);
    ids.insert(ids.end(), more.begin(), more.end());
  }
  ASSERT_EQ(ids.size(), expected.size());
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(ids[i], expected[i]["id"]) << i;
  absl::SleepFor(absl::Milliseconds(200));
  std::vector<std::string> gets = Gets();
  ASSERT_EQ(gets.size(), 3u) << "nothing is read after the last page";
  EXPECT_FALSE(absl::StrContains(gets[0], "cursor="));
  EXPECT_TRUE(absl::StrContains(gets[1], "cursor="));
  EXPECT_TRUE(absl::StrContains(gets[2], "cursor="));
  EXPECT_NE(gets[1], gets[2]);
}

TEST_F(ReadAheadE2ETest, AFreshReadAndASyncBypassWhatWasReadAhead) {
  PageRead p1 = ReadPage(*gateway_, "");
  PageRead p2 = ReadPage(*gateway_, p1.response.next_page_token());
  ASSERT_TRUE(p2.status.ok()) << p2.status.error_message();
  ASSERT_TRUE(AwaitGets(3));

  PageRead fresh = ReadPage(*gateway_, p2.response.next_page_token(), "no-cache");
  ASSERT_TRUE(fresh.status.ok()) << fresh.status.error_message();
  EXPECT_EQ(fresh.cache, "");
  EXPECT_EQ(Gets().size(), 4u) << "a fresh read is sent to Fivetran";

  // Page 3 read ahead again (page 2 read again), then a sync through the
  // gateway: the next read of page 3 is sent again and shows the sync.
  PageRead p2_again = ReadPage(*gateway_, p1.response.next_page_token());
  ASSERT_TRUE(p2_again.status.ok()) << p2_again.status.error_message();
  ASSERT_TRUE(AwaitGets(6));
  const std::string synced = fresh.response.connections(0).id();
  v1::SyncConnectionRequest sync;
  sync.set_connection_id(synced);
  v1::SyncConnectionResponse sync_response;
  grpc::Status s =
      gateway_->connections()->SyncConnection(ContextWithDeadline().get(), sync, &sync_response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  emulator_->ClearRequests();
  PageRead after = ReadPage(*gateway_, p2.response.next_page_token());
  ASSERT_TRUE(after.status.ok()) << after.status.error_message();
  EXPECT_EQ(after.cache, "");
  EXPECT_EQ(Gets().size(), 1u);
  ASSERT_GT(after.response.connections_size(), 0);
  ASSERT_EQ(after.response.connections(0).id(), synced);
  EXPECT_EQ(after.response.connections(0).status().sync_state(), v1::SYNC_STATE_SYNCING);
}

// A page read ahead while a sync is in Fivetran's hands (the caller paging
// on meanwhile) may predate it: it is not served once the sync is answered.
TEST_F(ReadAheadE2ETest, APageReadAheadWhileASyncIsInFlightIsNotServedAfterIt) {
  std::vector<nlohmann::json> all = emulator_->ListAll(kPath);
  ASSERT_GT(all.size(), 200u);
  // One of page 3 that is neither paused nor syncing (an earlier test syncs
  // its first).
  size_t index = 200;
  while (index < all.size() &&
         (all[index]["paused"] == true || all[index]["status"]["sync_state"] == "syncing"))
    ++index;
  ASSERT_LT(index, all.size());
  const std::string synced = all[index]["id"];
  PageRead p1 = ReadPage(*gateway_, "");
  ASSERT_TRUE(p1.status.ok()) << p1.status.error_message();

  // The sync waits 2 s at the emulator before it takes effect.
  emulator_->AddFault({{"kind", "latency"},
                       {"latency_ms", 2000},
                       {"method", "POST"},
                       {"path_prefix", "/v1/connections/" + synced + "/sync"}});
  grpc::Status sync_status;
  std::thread sync_thread([&] {
    v1::SyncConnectionRequest sync;
    sync.set_connection_id(synced);
    v1::SyncConnectionResponse response;
    sync_status =
        gateway_->connections()->SyncConnection(ContextWithDeadline().get(), sync, &response);
  });
  absl::SleepFor(absl::Milliseconds(400));  // The sync is sent.
  PageRead p2 = ReadPage(*gateway_, p1.response.next_page_token());
  ASSERT_TRUE(p2.status.ok()) << p2.status.error_message();
  const bool read_ahead = AwaitGets(3);  // Page 3, before the sync took effect.
  sync_thread.join();
  ASSERT_TRUE(sync_status.ok()) << sync_status.error_message();
  ASSERT_TRUE(read_ahead) << "page 3 was not read ahead";

  PageRead p3 = ReadPage(*gateway_, p2.response.next_page_token());
  ASSERT_TRUE(p3.status.ok()) << p3.status.error_message();
  EXPECT_EQ(p3.cache, "") << "read ahead before the sync was answered";
  ASSERT_GT(p3.response.connections_size(), static_cast<int>(index - 200));
  ASSERT_EQ(p3.response.connections(index - 200).id(), synced);
  EXPECT_EQ(p3.response.connections(index - 200).status().sync_state(), v1::SYNC_STATE_SYNCING)
      << "the page was read before the sync took effect";
}

// A 429 (Retry-After) learned while a paging caller's page is in flight:
// that page's answer starts no upstream request for the next one, and the
// caller's next read is answered RESOURCE_EXHAUSTED without a request.
TEST_F(ReadAheadE2ETest, NothingIsReadAheadAfterA429) {
  PageRead p1 = ReadPage(*gateway_, "");
  ASSERT_TRUE(p1.status.ok()) << p1.status.error_message();
  emulator_->AddFault(
      {{"kind", "latency"}, {"latency_ms", 1500}, {"method", "GET"}, {"path_prefix", kPath}});
  emulator_->AddFault(
      {{"status", 429}, {"retry_after", "120"}, {"method", "GET"}, {"path_prefix", "/v1/users"}});
  PageRead p2;
  std::thread pager([&] { p2 = ReadPage(*gateway_, p1.response.next_page_token()); });
  ASSERT_TRUE(AwaitGets(2));  // Page 2 is at the emulator, held.
  v1::ListUsersRequest users;
  v1::ListUsersResponse users_response;
  grpc::Status limited =
      gateway_->users()->ListUsers(ContextWithDeadline().get(), users, &users_response);
  EXPECT_EQ(limited.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  pager.join();
  ASSERT_TRUE(p2.status.ok()) << p2.status.error_message();
  ASSERT_NE(p2.response.next_page_token(), "");
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(Gets().size(), 2u) << "page 3 was sent to Fivetran after its 429";

  PageRead p3 = ReadPage(*gateway_, p2.response.next_page_token());
  EXPECT_EQ(p3.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(p3.cache, "");
  EXPECT_EQ(Gets().size(), 2u);
}

TEST_F(ReadAheadE2ETest, OffReadsNothingAhead) {
  Gateway off(emulator_->base_url(), Emulator::kApiKey, Emulator::kApiSecret, {"--read_ahead=off"});
  PageRead p1 = ReadPage(off, "");
  PageRead p2 = ReadPage(off, p1.response.next_page_token());
  ASSERT_TRUE(p2.status.ok()) << p2.status.error_message();
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(Gets().size(), 2u);
  PageRead p3 = ReadPage(off, p2.response.next_page_token());
  ASSERT_TRUE(p3.status.ok()) << p3.status.error_message();
  EXPECT_EQ(p3.cache, "");
  EXPECT_EQ(Gets().size(), 3u);
}

}  // namespace
}  // namespace fivetran_gateway::testing
