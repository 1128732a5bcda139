// Coalesced reads through the real gateway and the real emulator: many
// concurrent identical reads cost one upstream request, each caller keeps
// its own deadline, and reads that do not overlap are not shared.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/harness.h"

namespace fivetran_gateway::testing {
namespace {

namespace v1 = ::fivetran::gateway::v1;

class CoalescingE2ETest : public StackTest {
 protected:
  // Every answer takes 700 ms, so calls started together overlap.
  static void SetUpTestSuite() { StartStack({"--latency=700ms", "--threads=64"}); }

  static int UpstreamGets(const std::string& path) {
    int n = 0;
    for (const nlohmann::json& r : emulator_->Requests()) {
      n += r["method"] == "GET" && r["path"] == path;
    }
    return n;
  }
};

struct Call {
  grpc::ClientContext context;
  v1::GetConnectionResponse response;
  grpc::Status status;
  std::unique_ptr<grpc::ClientAsyncResponseReader<v1::GetConnectionResponse>> reader;
};

// Starts `n` GetConnection calls of `id` at once and waits for them all.
std::vector<std::unique_ptr<Call>> GetConcurrently(v1::ConnectionService::Stub* stub,
                                                   const std::string& id, int n,
                                                   double deadline_s) {
  grpc::CompletionQueue cq;
  std::vector<std::unique_ptr<Call>> calls;
  for (int i = 0; i < n; ++i) {
    auto call = std::make_unique<Call>();
    call->context.set_deadline(std::chrono::system_clock::now() +
                               std::chrono::milliseconds(static_cast<int>(deadline_s * 1000)));
    v1::GetConnectionRequest request;
    request.set_connection_id(id);
    call->reader = stub->AsyncGetConnection(&call->context, request, &cq);
    call->reader->Finish(&call->response, &call->status, call.get());
    calls.push_back(std::move(call));
  }
  for (int i = 0; i < n; ++i) {
    void* tag = nullptr;
    bool ok = false;
    EXPECT_TRUE(cq.Next(&tag, &ok));
  }
  cq.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (cq.Next(&tag, &ok)) {
  }
  return calls;
}

TEST_F(CoalescingE2ETest, ConcurrentReadsOfOneConnectionCostOneRequest) {
  auto stub = gateway_->connections();
  std::vector<std::unique_ptr<Call>> calls = GetConcurrently(stub.get(), "decent_dropsy", 200, 20);
  for (const auto& c : calls) {
    ASSERT_TRUE(c->status.ok()) << c->status.error_message();
    EXPECT_EQ(c->response.connection().id(), "decent_dropsy");
    EXPECT_EQ(c->response.connection().schema(), calls[0]->response.connection().schema());
  }
  EXPECT_EQ(UpstreamGets("/v1/connections/decent_dropsy"), 1);

  // Not overlapping: a second read is a second request (no cache).
  calls = GetConcurrently(stub.get(), "decent_dropsy", 1, 20);
  ASSERT_TRUE(calls[0]->status.ok());
  EXPECT_EQ(UpstreamGets("/v1/connections/decent_dropsy"), 2);
}

TEST_F(CoalescingE2ETest, EachCallerKeepsItsOwnDeadline) {
  auto stub = gateway_->connections();
  grpc::CompletionQueue cq;
  Call patient, hasty;
  v1::GetConnectionRequest request;
  request.set_connection_id("decent_dropsy");
  patient.context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  hasty.context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
  patient.reader = stub->AsyncGetConnection(&patient.context, request, &cq);
  patient.reader->Finish(&patient.response, &patient.status, &patient);
  // The hasty caller joins the request the patient one started.
  const absl::Time until = absl::Now() + absl::Seconds(5);
  while (UpstreamGets("/v1/connections/decent_dropsy") == 0 && absl::Now() < until) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_EQ(UpstreamGets("/v1/connections/decent_dropsy"), 1);
  hasty.reader = stub->AsyncGetConnection(&hasty.context, request, &cq);
  hasty.reader->Finish(&hasty.response, &hasty.status, &hasty);
  void* tag = nullptr;
  bool ok = false;
  ASSERT_TRUE(cq.Next(&tag, &ok));
  EXPECT_EQ(tag, &hasty);  // The hasty caller ends first, on its own deadline...
  EXPECT_EQ(hasty.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  ASSERT_TRUE(cq.Next(&tag, &ok));
  EXPECT_EQ(tag, &patient);  // ... and the shared request still serves the other.
  EXPECT_TRUE(patient.status.ok()) << patient.status.error_message();
  EXPECT_EQ(patient.response.connection().id(), "decent_dropsy");
  EXPECT_EQ(UpstreamGets("/v1/connections/decent_dropsy"), 1);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
}

TEST_F(CoalescingE2ETest, WatchersStartingTogetherShareTheirFirstRead) {
  auto stub = gateway_->connections();
  constexpr int kWatchers = 50;
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReader<v1::WatchConnectionSyncResponse>>> readers;
  for (int i = 0; i < kWatchers; ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    contexts.back()->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::WatchConnectionSyncRequest request;
    request.set_connection_id("decent_dropsy");
    request.mutable_poll_interval()->set_seconds(60);
    readers.push_back(stub->WatchConnectionSync(contexts.back().get(), request));
  }
  for (auto& reader : readers) {
    v1::WatchConnectionSyncResponse first;
    ASSERT_TRUE(reader->Read(&first));  // Each watcher's first update: the state read at start.
    EXPECT_EQ(first.observation().setup_state(), v1::SETUP_STATE_CONNECTED);
  }
  EXPECT_LE(UpstreamGets("/v1/connections/decent_dropsy"), 2);
  for (auto& c : contexts) c->TryCancel();
  for (auto& reader : readers)
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

}  // namespace
}  // namespace fivetran_gateway::testing
