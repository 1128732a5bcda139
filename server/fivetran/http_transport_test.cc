// CurlTransport against a real HTTP server on a loopback port: keep-alive
// reuse, POSTs on fresh connections, deadlines, cancellation, bounded
// response size, refused connections.
#include "server/fivetran/http_transport.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "absl/synchronization/notification.h"
#include "httplib.h"

namespace fivetran_gateway::fivetran {
namespace {

class HttpTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.set_keep_alive_max_count(1000);
    server_.set_keep_alive_timeout(2);
    server_.Get("/ok", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"code":"Success"})", "application/json");
    });
    server_.Post("/ok", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(req.body, "application/json");
    });
    server_.Get("/slow", [](const httplib::Request&, httplib::Response& res) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      res.set_content("{}", "application/json");
    });
    server_.Get("/big", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(3 << 20, 'x'), "application/json");
    });
    server_.Get("/rate", [](const httplib::Request&, httplib::Response& res) {
      res.status = 429;
      res.set_header("Retry-After", "17");
      res.set_content(R"({"code":"TooManyRequests"})", "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  void TearDown() override {
    server_.stop();
    thread_.join();
  }

  HttpResult Send(CurlTransport& t, const std::string& method, const std::string& path,
                  absl::Duration timeout = absl::Seconds(5)) {
    HttpRequest r;
    r.method = method;
    r.url = "http://127.0.0.1:" + std::to_string(port_) + path;
    r.body = method == "POST" ? R"({"a":1})" : "";
    r.deadline = absl::Now() + timeout;
    absl::Notification done;
    HttpResult result;
    t.Send(std::move(r), [&](HttpResult res) {
      result = std::move(res);
      done.Notify();
    });
    done.WaitForNotification();
    return result;
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

TEST_F(HttpTransportTest, KeepAliveReusesOneConnectionForGets) {
  CurlTransport t;
  for (int i = 0; i < 10; ++i) {
    HttpResult r = Send(t, "GET", "/ok");
    ASSERT_TRUE(r.ok) << r.error.message;
    EXPECT_EQ(r.response.status, 200);
    EXPECT_EQ(r.response.content_type, "application/json");
  }
  EXPECT_EQ(t.connections_opened(), 1);
}

TEST_F(HttpTransportTest, PostsUseAFreshConnectionSoLibcurlNeverReplaysThem) {
  CurlTransport t;
  ASSERT_TRUE(Send(t, "GET", "/ok").ok);
  HttpResult r = Send(t, "POST", "/ok");
  ASSERT_TRUE(r.ok) << r.error.message;
  EXPECT_EQ(r.response.body, R"({"a":1})");
  ASSERT_TRUE(Send(t, "POST", "/ok").ok);
  EXPECT_EQ(t.connections_opened(), 3);
}

TEST_F(HttpTransportTest, RetryAfterAndStatusAreReported) {
  CurlTransport t;
  HttpResult r = Send(t, "GET", "/rate");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.response.status, 429);
  EXPECT_EQ(r.response.retry_after, "17");
}

TEST_F(HttpTransportTest, DeadlineEndsTheTransfer) {
  CurlTransport t;
  auto start = absl::Now();
  HttpResult r = Send(t, "GET", "/slow", absl::Milliseconds(200));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error.failure, TransportFailure::kDeadlineExceeded) << r.error.message;
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
}

TEST_F(HttpTransportTest, CancelAbortsAndCallsBackOnce) {
  CurlTransport t;
  HttpRequest req;
  req.method = "GET";
  req.url = "http://127.0.0.1:" + std::to_string(port_) + "/slow";
  req.deadline = absl::Now() + absl::Seconds(10);
  std::atomic<int> calls{0};
  absl::Notification done;
  TransportFailure failure = TransportFailure::kNone;
  auto start = absl::Now();
  std::shared_ptr<HttpCall> call = t.Send(std::move(req), [&](HttpResult r) {
    failure = r.error.failure;
    ++calls;
    done.Notify();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  call->Cancel();
  call->Cancel();
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_EQ(failure, TransportFailure::kCancelled);
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(calls.load(), 1);
}

TEST_F(HttpTransportTest, OversizedResponseFailsCleanly) {
  CurlTransportOptions options;
  options.max_response_bytes = 1 << 20;
  CurlTransport t(options);
  HttpResult r = Send(t, "GET", "/big");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error.failure, TransportFailure::kResponseTooLarge) << r.error.message;
}

TEST_F(HttpTransportTest, RefusedConnectionWasNeverSent) {
  CurlTransport t;
  HttpRequest req;
  req.method = "POST";
  req.url = "http://127.0.0.1:1/v1/connections";
  req.deadline = absl::Now() + absl::Seconds(5);
  absl::Notification done;
  HttpResult result;
  t.Send(std::move(req), [&](HttpResult r) {
    result = std::move(r);
    done.Notify();
  });
  done.WaitForNotification();
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error.failure, TransportFailure::kNotSent) << result.error.message;
}

}  // namespace
}  // namespace fivetran_gateway::fivetran
