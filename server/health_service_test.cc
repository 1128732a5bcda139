#include "server/health_service.h"

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace fivetran_gateway {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

constexpr char kService[] = "fivetran.gateway.v1.ConnectionService";

// A real gRPC server with only the health service, on a loopback port and
// a unix socket (a second client address).
class HealthServiceTest : public ::testing::Test {
 protected:
  void Start(HealthLimits limits) {
    health_ = std::make_unique<HealthService>(limits, std::vector<std::string>{kService});
    socket_ = absl::StrCat("/tmp/fivetran-gateway-health-test.", getpid(), ".sock");
    unlink(socket_.c_str());
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.AddListeningPort("unix:" + socket_, grpc::InsecureServerCredentials());
    builder.RegisterService(health_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    tcp_ = Health::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port_), grpc::InsecureChannelCredentials()));
    unix_ =
        Health::NewStub(grpc::CreateChannel("unix:" + socket_, grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::system_clock::now());
    unlink(socket_.c_str());
  }

  struct Watcher {
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientReader<HealthCheckResponse>> reader;
    // The next status, or -1 when the stream has ended.
    int Next() {
      HealthCheckResponse response;
      return reader->Read(&response) ? response.status() : -1;
    }
  };
  std::unique_ptr<Watcher> Watch(Health::Stub* stub, const std::string& service = "") {
    auto watcher = std::make_unique<Watcher>();
    HealthCheckRequest request;
    request.set_service(service);
    watcher->reader = stub->Watch(&watcher->context, request);
    return watcher;
  }
  grpc::Status Check(const std::string& service, HealthCheckResponse* response) {
    grpc::ClientContext context;
    HealthCheckRequest request;
    request.set_service(service);
    return tcp_->Check(&context, request, response);
  }
  void WaitForOpenWatches(int n) {
    const absl::Time until = absl::Now() + absl::Seconds(10);
    while (health_->open_watches() != n && absl::Now() < until)
      absl::SleepFor(absl::Milliseconds(5));
    ASSERT_EQ(health_->open_watches(), n);
  }

  std::unique_ptr<HealthService> health_;
  std::unique_ptr<grpc::Server> server_;
  std::string socket_;
  int port_ = 0;
  std::unique_ptr<Health::Stub> tcp_, unix_;
};

TEST(PeerAddressTest, DropsThePortAndGroupsUnixPeers) {
  EXPECT_EQ(PeerAddress("ipv4:10.0.0.7:5123"), "10.0.0.7");
  EXPECT_EQ(PeerAddress("ipv6:[::1]:5123"), "[::1]");
  EXPECT_EQ(PeerAddress("ipv6:[fe80::1%25eth0]:80"), "[fe80::1%25eth0]");
  EXPECT_EQ(PeerAddress("unix:/run/gw.sock"), "unix");
  EXPECT_EQ(PeerAddress("unix-abstract:gw"), "unix");
  EXPECT_EQ(PeerAddress("ipv4:10.0.0.7:1"), "10.0.0.7");
}

TEST_F(HealthServiceTest, CheckAnswersKnownServicesAndRefusesOthers) {
  Start({});
  HealthCheckResponse response;
  ASSERT_TRUE(Check("", &response).ok());
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);
  ASSERT_TRUE(Check(kService, &response).ok());
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);
  EXPECT_EQ(Check("no.such.Service", &response).error_code(), grpc::StatusCode::NOT_FOUND);
  health_->SetServing(false);
  ASSERT_TRUE(Check(kService, &response).ok());
  EXPECT_EQ(response.status(), HealthCheckResponse::NOT_SERVING);
}

TEST_F(HealthServiceTest, WatchSendsTheStatusAndEachChange) {
  Start({});
  auto all = Watch(tcp_.get());
  auto unknown = Watch(tcp_.get(), "no.such.Service");
  EXPECT_EQ(all->Next(), HealthCheckResponse::SERVING);
  EXPECT_EQ(unknown->Next(), HealthCheckResponse::SERVICE_UNKNOWN);
  health_->SetServing(false);
  EXPECT_EQ(all->Next(), HealthCheckResponse::NOT_SERVING);
  health_->SetServing(false);  // No change, nothing sent.
  health_->SetServing(true);
  EXPECT_EQ(all->Next(), HealthCheckResponse::SERVING);
  all->context.TryCancel();
  unknown->context.TryCancel();
  EXPECT_EQ(all->Next(), -1);
  EXPECT_EQ(all->reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  WaitForOpenWatches(0);
}

TEST_F(HealthServiceTest, OneServiceCanChangeAlone) {
  Start({});
  HealthCheckResponse response;
  EXPECT_EQ(Check("example.Store", &response).error_code(), grpc::StatusCode::NOT_FOUND);
  auto store = Watch(tcp_.get(), "example.Store");
  auto all = Watch(tcp_.get());
  EXPECT_EQ(store->Next(), HealthCheckResponse::SERVICE_UNKNOWN);
  EXPECT_EQ(all->Next(), HealthCheckResponse::SERVING);
  health_->SetServing("example.Store", false);
  EXPECT_EQ(store->Next(), HealthCheckResponse::NOT_SERVING);
  ASSERT_TRUE(Check("example.Store", &response).ok());
  EXPECT_EQ(response.status(), HealthCheckResponse::NOT_SERVING);
  ASSERT_TRUE(Check("", &response).ok());  // The others are untouched.
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);
  health_->SetServing("example.Store", true);
  EXPECT_EQ(store->Next(), HealthCheckResponse::SERVING);
  health_->SetServing(false);  // Every service, the named one too.
  EXPECT_EQ(store->Next(), HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(all->Next(), HealthCheckResponse::NOT_SERVING);
  store->context.TryCancel();
  all->context.TryCancel();
}

TEST_F(HealthServiceTest, WatchesFromOneAddressAreBounded) {
  Start({/*max_watches=*/10, /*max_watches_per_peer=*/2});
  auto first = Watch(tcp_.get());
  auto second = Watch(tcp_.get());
  ASSERT_EQ(first->Next(), HealthCheckResponse::SERVING);
  ASSERT_EQ(second->Next(), HealthCheckResponse::SERVING);
  auto third = Watch(tcp_.get());
  EXPECT_EQ(third->Next(), -1);
  grpc::Status refused = third->reader->Finish();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(refused.error_message().find("--max_health_watches_per_peer"), std::string::npos)
      << refused.error_message();
  // Another address is not held back by this one.
  auto other = Watch(unix_.get());
  EXPECT_EQ(other->Next(), HealthCheckResponse::SERVING);
  // Check is never bounded.
  HealthCheckResponse response;
  EXPECT_TRUE(Check("", &response).ok());
  // A stream that ends gives its place back.
  first->context.TryCancel();
  EXPECT_EQ(first->Next(), -1);
  WaitForOpenWatches(2);
  auto again = Watch(tcp_.get());
  EXPECT_EQ(again->Next(), HealthCheckResponse::SERVING);
  for (auto* w : {second.get(), other.get(), again.get()}) w->context.TryCancel();
}

TEST_F(HealthServiceTest, AllWatchesTogetherAreBounded) {
  Start({/*max_watches=*/3, /*max_watches_per_peer=*/3});
  auto a = Watch(tcp_.get());
  auto b = Watch(tcp_.get());
  auto c = Watch(unix_.get());
  for (auto* w : {a.get(), b.get(), c.get()}) ASSERT_EQ(w->Next(), HealthCheckResponse::SERVING);
  auto d = Watch(unix_.get());
  EXPECT_EQ(d->Next(), -1);
  grpc::Status refused = d->reader->Finish();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(refused.error_message().find("(3, --max_health_watches)"), std::string::npos)
      << refused.error_message();
  for (auto* w : {a.get(), b.get(), c.get()}) w->context.TryCancel();
}

TEST_F(HealthServiceTest, ShutdownTellsWatchersAndEndsTheirStreams) {
  Start({});
  auto watcher = Watch(tcp_.get());
  ASSERT_EQ(watcher->Next(), HealthCheckResponse::SERVING);
  health_->Shutdown();
  EXPECT_EQ(watcher->Next(), HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(watcher->Next(), -1);
  EXPECT_EQ(watcher->reader->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  WaitForOpenWatches(0);
  auto late = Watch(tcp_.get());
  EXPECT_EQ(late->Next(), -1);
  EXPECT_EQ(late->reader->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  HealthCheckResponse response;
  ASSERT_TRUE(Check("", &response).ok());
  EXPECT_EQ(response.status(), HealthCheckResponse::NOT_SERVING);
  health_->SetServing(true);  // Shut down for good.
  ASSERT_TRUE(Check("", &response).ok());
  EXPECT_EQ(response.status(), HealthCheckResponse::NOT_SERVING);
}

}  // namespace
}  // namespace fivetran_gateway
