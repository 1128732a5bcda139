// FivetranClient's retries against a scripted transport: which requests are
// sent again, the waits between them, and cancellation of the whole call.
#include "server/fivetran/client.h"

#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "server/common/gateway_metrics.h"
#include "server/common/timer_queue.h"
#include "server/common/trace_context.h"
#include "server/fivetran/errors.h"
#include "server/fivetran/scripted_transport.h"

namespace fivetran_gateway::fivetran {
namespace {

struct Outcome {
  absl::Notification done;
  absl::StatusOr<nlohmann::json> envelope = absl::UnknownError("not called");
  UpstreamInfo info;
  int calls = 0;
};

EnvelopeCallback Into(Outcome* out) {
  return [out](absl::StatusOr<nlohmann::json> envelope, const UpstreamInfo& info) {
    out->envelope = std::move(envelope);
    out->info = info;
    ++out->calls;
    out->done.Notify();
  };
}

google::rpc::ErrorInfo InfoOf(const absl::Status& s) {
  google::rpc::ErrorInfo info;
  if (auto p = s.GetPayload(kErrorInfoUrl)) info.ParseFromString(std::string(*p));
  return info;
}

class ClientRetryTest : public ::testing::Test {
 protected:
  ClientRetryTest() : client_(Options(), &transport_, &timers_) {}
  static ClientOptions Options() {
    ClientOptions o;
    o.base_url = "http://upstream.test";
    o.api_key = "key";
    o.api_secret = "secret";
    o.retry.initial_backoff = absl::Milliseconds(20);
    o.retry.max_backoff = absl::Milliseconds(100);
    return o;
  }
  void Wait(Outcome& out) {
    ASSERT_TRUE(out.done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  }

  ScriptedTransport transport_;
  TimerQueue timers_;
  FivetranClient client_;
};

TEST_F(ClientRetryTest, GetIsRetriedUntilItSucceeds) {
  transport_.Script({Http(503), Failure(TransportFailure::kMaybeSent), Http(200)});
  Outcome out;
  client_.Get("/v1/groups", absl::Now() + absl::Seconds(10), Into(&out));
  Wait(out);
  ASSERT_TRUE(out.envelope.ok()) << out.envelope.status();
  EXPECT_EQ(out.info.attempts, 3);
  EXPECT_EQ(out.info.http_status, 200);
  EXPECT_EQ(transport_.requests().size(), 3u);
}

// A BodyReader that records what it was offered and answers `take`.
struct ReadRecord {
  absl::Notification read;
  std::vector<std::string> bodies;
  std::vector<std::string> secrets;
  UpstreamInfo info;
};
BodyReader Reader(ReadRecord* record, bool take) {
  return [record, take](absl::string_view body, absl::Span<const std::string> secrets,
                        const UpstreamInfo& info) {
    record->bodies.emplace_back(body);
    record->secrets.assign(secrets.begin(), secrets.end());
    record->info = info;
    if (!record->read.HasBeenNotified()) record->read.Notify();
    return take;
  };
}

TEST_F(ClientRetryTest, BodyReaderTakesTheFinalAnswerInsteadOfTheCallback) {
  transport_.Script({Http(503), Http(200, R"({"data":{"items":[]}})")});
  ReadRecord record;
  Outcome out;
  client_.Get("/v1/groups", absl::Now() + absl::Seconds(10), Reader(&record, true), Into(&out),
              "/v1/groups");
  ASSERT_TRUE(record.read.WaitForNotificationWithTimeout(absl::Seconds(10)));
  // Only the 2xx answer, once, with the credentials to scrub.
  EXPECT_THAT(record.bodies, ::testing::ElementsAre(R"({"data":{"items":[]}})"));
  EXPECT_THAT(record.secrets, ::testing::IsSupersetOf({"key", "secret", "key:secret"}));
  EXPECT_EQ(record.info.attempts, 2);
  EXPECT_EQ(record.info.http_status, 200);
  EXPECT_FALSE(out.done.WaitForNotificationWithTimeout(absl::Milliseconds(100)));
  EXPECT_EQ(out.calls, 0);
}

TEST_F(ClientRetryTest, DeclinedBodyGoesToTheCallbackAsAnEnvelope) {
  transport_.Script({Http(200, R"({"data":{"items":[],"note":"key:secret"}})")});
  ReadRecord record;
  Outcome out;
  client_.Get("/v1/groups", absl::Now() + absl::Seconds(10), Reader(&record, false), Into(&out),
              "/v1/groups");
  Wait(out);
  EXPECT_EQ(record.bodies.size(), 1u);
  ASSERT_TRUE(out.envelope.ok()) << out.envelope.status();
  EXPECT_EQ((*out.envelope)["data"]["note"], "******");  // scrubbed as always
  EXPECT_EQ(out.info.http_status, 200);
  EXPECT_EQ(out.calls, 1);
}

TEST_F(ClientRetryTest, ErrorsNeverReachTheBodyReader) {
  transport_.Script({Http(404, R"({"code":"NotFound","message":"no such group"})")});
  ReadRecord record;
  Outcome out;
  client_.Get("/v1/groups/x", absl::Now() + absl::Seconds(10), Reader(&record, true), Into(&out),
              "/v1/groups/{group_id}");
  Wait(out);
  EXPECT_TRUE(record.bodies.empty());
  EXPECT_EQ(out.envelope.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ClientRetryTest, GetGivesUpAfterMaxAttemptsWithTheLastError) {
  transport_.Script({Http(503), Http(502), Http(504), Http(200)});
  Outcome out;
  client_.Get("/v1/groups", absl::Now() + absl::Seconds(10), Into(&out));
  Wait(out);
  EXPECT_EQ(out.envelope.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(InfoOf(out.envelope.status()).metadata().at("http_status"), "504");
  EXPECT_EQ(InfoOf(out.envelope.status()).metadata().at("attempts"), "3");
  EXPECT_EQ(out.info.attempts, 3);
  EXPECT_EQ(transport_.requests().size(), 3u);
}

TEST_F(ClientRetryTest, ClientErrorsAreNotRetried) {
  transport_.Script({Http(404, R"({"code":"NotFound_Connection","message":"nope"})")});
  Outcome out;
  client_.Get("/v1/connections/x", absl::Now() + absl::Seconds(10), Into(&out));
  Wait(out);
  EXPECT_EQ(out.envelope.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(out.info.attempts, 1);
  EXPECT_EQ(transport_.requests().size(), 1u);
}

TEST_F(ClientRetryTest, PostIsNotRetriedOnceItMayHaveArrived) {  // Field report B23.
  for (Step step : {Http(503), Http(500), Http(502), Failure(TransportFailure::kMaybeSent)}) {
    ScriptedTransport transport;
    FivetranClient client(Options(), &transport, &timers_);
    transport.Script({step, Http(201)});
    Outcome out;
    client.Post("/v1/connections", {{"group_id", "g"}}, absl::Now() + absl::Seconds(10),
                Into(&out));
    Wait(out);
    ASSERT_FALSE(out.envelope.ok());
    EXPECT_EQ(InfoOf(out.envelope.status()).metadata().at("outcome"), "unknown");
    EXPECT_EQ(transport.requests().size(), 1u);
    EXPECT_EQ(out.info.attempts, 1);
  }
}

TEST_F(ClientRetryTest, PostIsRetriedWhenItNeverLeftOrWasRateLimited) {
  transport_.Script({Failure(TransportFailure::kNotSent), Http(429, "{}", "0"),
                     Http(201, R"({"code":"Success","data":{"id":"c1"}})")});
  Outcome out;
  client_.Post("/v1/connections", {{"group_id", "g"}}, absl::Now() + absl::Seconds(10), Into(&out));
  Wait(out);
  ASSERT_TRUE(out.envelope.ok()) << out.envelope.status();
  EXPECT_EQ(out.info.attempts, 3);
  std::vector<HttpRequest> sent = transport_.requests();
  ASSERT_EQ(sent.size(), 3u);
  for (const HttpRequest& r : sent) EXPECT_EQ(r.body, sent[0].body);
}

TEST_F(ClientRetryTest, RetryAfterLongerThanTheDeadlineEndsAtOnce) {
  transport_.Script({Http(429, R"({"code":"TooManyRequests","message":"slow down"})", "3600")});
  Outcome out;
  absl::Time start = absl::Now();
  client_.Get("/v1/users", start + absl::Seconds(2), Into(&out));
  Wait(out);
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(500));
  EXPECT_EQ(out.envelope.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(RetryDelayOf(out.envelope.status()), absl::Seconds(3600));
  EXPECT_EQ(transport_.requests().size(), 1u);
}

TEST_F(ClientRetryTest, UnavailableWithALongRetryAfterCarriesRetryInfo) {
  transport_.Script({Http(503, "{}", "120")});
  Outcome out;
  client_.Get("/v1/users", absl::Now() + absl::Seconds(5), Into(&out));
  Wait(out);
  EXPECT_EQ(out.envelope.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(RetryDelayOf(out.envelope.status()), absl::Seconds(120));
  EXPECT_EQ(transport_.requests().size(), 1u);
}

TEST_F(ClientRetryTest, RetryAfterIsWaitedOut) {
  transport_.Script({Http(429, "{}", "1")});
  Outcome out;
  absl::Time start = absl::Now();
  client_.Get("/v1/users", start + absl::Seconds(10), Into(&out));
  Wait(out);
  ASSERT_TRUE(out.envelope.ok()) << out.envelope.status();
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(990));
  EXPECT_EQ(out.info.attempts, 2);
}

TEST_F(ClientRetryTest, CancelDuringTheWaitEndsTheCallAndDropsTheTimer) {
  transport_.Script({Http(503, "{}", "5")});
  Outcome out;
  std::shared_ptr<HttpCall> call =
      client_.Get("/v1/users", absl::Now() + absl::Seconds(30), Into(&out));
  EXPECT_EQ(timers_.pending(), 1u);
  absl::Time start = absl::Now();
  call->Cancel();
  Wait(out);
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  EXPECT_EQ(out.envelope.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(timers_.pending(), 0u);
  call->Cancel();  // Harmless again.
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(out.calls, 1);
  EXPECT_EQ(transport_.requests().size(), 1u);
}

TEST_F(ClientRetryTest, CancelDuringAnAttemptAbortsIt) {
  transport_.Script({Http(503), Hang()});
  Outcome out;
  std::shared_ptr<HttpCall> call =
      client_.Get("/v1/users", absl::Now() + absl::Seconds(30), Into(&out));
  for (int i = 0; i < 200 && transport_.requests().size() < 2; ++i) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_EQ(transport_.requests().size(), 2u);
  call->Cancel();
  Wait(out);
  EXPECT_EQ(out.envelope.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(out.info.attempts, 2);
}

TEST_F(ClientRetryTest, WithoutATimerQueueNothingIsRetried) {
  ScriptedTransport transport;
  FivetranClient client(Options(), &transport);
  transport.Script({Http(503)});
  Outcome out;
  client.Get("/v1/users", absl::Now() + absl::Seconds(10), Into(&out));
  Wait(out);
  EXPECT_EQ(out.envelope.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(transport.requests().size(), 1u);
}

TEST_F(ClientRetryTest, MaxAttemptsOneDisablesRetries) {
  ClientOptions options = Options();
  options.retry.max_attempts = 1;
  ScriptedTransport transport;
  FivetranClient client(options, &transport, &timers_);
  transport.Script({Failure(TransportFailure::kNotSent)});
  Outcome out;
  client.Get("/v1/users", absl::Now() + absl::Seconds(10), Into(&out));
  Wait(out);
  EXPECT_EQ(InfoOf(out.envelope.status()).metadata().at("outcome"), "not_sent");
  EXPECT_EQ(transport.requests().size(), 1u);
}

TEST_F(ClientRetryTest, EveryAttemptSharesTheCallsDeadline) {
  transport_.Script({Http(503), Http(503)});
  Outcome out;
  absl::Time deadline = absl::Now() + absl::Seconds(7);
  client_.Get("/v1/users", deadline, Into(&out));
  Wait(out);
  for (const HttpRequest& r : transport_.requests()) EXPECT_EQ(r.deadline, deadline);
}

TEST(ClientBudgetTest, A429StopsEveryCallOfTheCredentialSetUntilItsRetryAfter) {
  ScriptedTransport transport;
  TimerQueue timers;
  ClientOptions options;
  options.base_url = "http://upstream.test";
  options.budget = std::make_shared<RateBudget>();
  FivetranClient client(options, &transport, &timers);
  Step ok = Http(200);
  ok.result.response.rate_limit = 20000;
  ok.result.response.rate_limit_remaining = 1234;
  Step limited = Http(429, R"({"code":"TooManyRequests"})", "30");
  limited.result.response.rate_limit = 20000;
  limited.result.response.rate_limit_remaining = 0;
  transport.Script({ok, limited});

  Outcome first;
  client.Get("/v1/users", absl::Now() + absl::Seconds(10), Into(&first));
  ASSERT_TRUE(first.done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(options.budget->View().remaining, 1234);
  EXPECT_EQ(options.budget->View().limit, 20000);

  // Retry-After 30 s is longer than the deadline: the call ends at once...
  Outcome second;
  client.Get("/v1/groups", absl::Now() + absl::Seconds(10), Into(&second));
  ASSERT_TRUE(second.done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(second.envelope.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(transport.requests().size(), 2u);

  // ... and every later call of these credentials, GET or POST, is answered
  // without a request until the 30 s have passed.
  for (int i = 0; i < 100; ++i) {
    Outcome out;
    if (i % 2 == 0) {
      client.Get("/v1/groups", absl::Now() + absl::Seconds(10), Into(&out));
    } else {
      client.Post("/v1/connections/c/sync", nlohmann::json::object(),
                  absl::Now() + absl::Seconds(10), Into(&out));
    }
    ASSERT_TRUE(out.done.WaitForNotificationWithTimeout(absl::Seconds(10)));
    ASSERT_EQ(out.envelope.status().code(), absl::StatusCode::kResourceExhausted);
    google::rpc::ErrorInfo info = InfoOf(out.envelope.status());
    EXPECT_EQ(info.reason(), "FIVETRAN_RATE_LIMITED");
    EXPECT_EQ(info.metadata().at("outcome"), "not_sent");
    std::optional<absl::Duration> delay = RetryDelayOf(out.envelope.status());
    ASSERT_TRUE(delay.has_value());
    EXPECT_GT(*delay, absl::Seconds(25));
    EXPECT_LE(*delay, absl::Seconds(30));
    EXPECT_EQ(out.info.attempts, 0);
  }
  EXPECT_EQ(transport.requests().size(), 2u);
  EXPECT_TRUE(options.budget->BelowReserve());
}

// Issue 11: an expiry of --max_request_time says it was the gateway's own bound.
TEST_F(ClientRetryTest, MaxRequestTimeExpiryNamesTheGatewaysBound) {
  ClientOptions options = Options();
  options.max_request_time = absl::Seconds(3);
  ScriptedTransport transport;
  FivetranClient client(options, &transport, &timers_);
  transport.Script({Failure(TransportFailure::kDeadlineExceeded)});
  Outcome out;
  client.Get("/v1/users", absl::InfiniteFuture(), Into(&out));  // the caller set no deadline
  Wait(out);
  const absl::Status& s = out.envelope.status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_NE(s.message().find("gateway's own bound"), absl::string_view::npos) << s;
  EXPECT_NE(s.message().find("--max_request_time=3s"), absl::string_view::npos) << s;
  EXPECT_EQ(InfoOf(s).metadata().at("bound"), "max_request_time");
  EXPECT_EQ(InfoOf(s).reason(), "DEADLINE_EXCEEDED");

  // The caller's own, earlier deadline: no such claim.
  transport.Script({Failure(TransportFailure::kDeadlineExceeded)});
  Outcome caller;
  client.Get("/v1/users", absl::Now() + absl::Seconds(1), Into(&caller));
  Wait(caller);
  EXPECT_EQ(caller.envelope.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(InfoOf(caller.envelope.status()).metadata().count("bound"), 0u);
  EXPECT_EQ(caller.envelope.status().message().find("max_request_time"), absl::string_view::npos);
}

// Issue 11: a retry due after the timers stopped (the gateway exiting) ends the call at once
// with the last attempt's error, instead of scheduling on a queue that is gone.
TEST_F(ClientRetryTest, RetryDueAfterTheTimersStoppedEndsTheCall) {
  TimerQueue stopped;
  stopped.Stop();
  ScriptedTransport transport;
  FivetranClient client(Options(), &transport, &stopped);
  transport.Script({Http(503)});
  Outcome out;
  client.Get("/v1/users", absl::Now() + absl::Seconds(10), Into(&out));
  Wait(out);
  const absl::Status& s = out.envelope.status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_EQ(InfoOf(s).metadata().at("shutting_down"), "true");
  EXPECT_NE(s.message().find("shutting down"), absl::string_view::npos) << s;
  EXPECT_EQ(transport.requests().size(), 1u);
  EXPECT_EQ(out.calls, 1);

  // A POST refused with 429 keeps its outcome: not applied.
  transport.Script({Http(429, R"({"code":"TooManyRequests","message":"slow down"})", "1")});
  Outcome post;
  client.Post("/v1/connections", nlohmann::json::object(), absl::Now() + absl::Seconds(10),
              Into(&post));
  Wait(post);
  EXPECT_EQ(post.envelope.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(InfoOf(post.envelope.status()).metadata().at("shutting_down"), "true");
}

// The current trace context (trace_context.h) rides on every attempt, and
// the callback runs with it installed.
TEST_F(ClientRetryTest, EveryAttemptCarriesTheCurrentTraceContext) {
  transport_.Script({Http(503), Http(200)});
  auto trace = std::make_shared<const TraceContext>(
      StartTrace("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "k=v", "req-7"));
  Outcome out;
  std::shared_ptr<const TraceContext> in_callback;
  {
    ScopedTrace scope(trace);
    client_.Get("/v1/groups", absl::Now() + absl::Seconds(10),
                [&](absl::StatusOr<nlohmann::json> envelope, const UpstreamInfo& info) {
                  in_callback = CurrentTrace();
                  Into (&out)(std::move(envelope), info);
                });
  }
  Wait(out);
  ASSERT_EQ(transport_.requests().size(), 2u);
  for (const HttpRequest& r : transport_.requests()) {
    EXPECT_THAT(r.headers,
                ::testing::Contains(absl::StrCat(
                    "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-", trace->span_id, "-01")));
    EXPECT_THAT(r.headers, ::testing::Contains("tracestate: k=v"));
    EXPECT_THAT(r.headers, ::testing::Contains("X-Request-Id: req-7"));
  }
  EXPECT_EQ(in_callback, trace);
}

TEST_F(ClientRetryTest, NoTraceContextNoTraceHeaders) {
  transport_.Script({Http(200)});
  Outcome out;
  client_.Get("/v1/groups", absl::Now() + absl::Seconds(10), Into(&out));
  Wait(out);
  const std::vector<HttpRequest> requests = transport_.requests();
  ASSERT_EQ(requests.size(), 1u);
  for (const std::string& h : requests[0].headers) {
    EXPECT_FALSE(absl::StartsWith(h, "traceparent") || absl::StartsWith(h, "X-Request-Id")) << h;
  }
}

// Upstream metrics count attempts by route template and status, and retries
// by reason (the process-wide registry: compared before and after).
TEST_F(ClientRetryTest, AttemptsAndRetriesAreCounted) {
  const GatewayMetrics& m = GatewayMetrics::Get();
  metrics::Counter* unavailable = m.upstream_requests->With({"GET", "/v1/test/{id}", "503"});
  metrics::Counter* ok = m.upstream_requests->With({"GET", "/v1/test/{id}", "200"});
  metrics::Counter* retries = m.upstream_retries->With({"unavailable"});
  const uint64_t unavailable0 = unavailable->Value(), ok0 = ok->Value(),
                 retries0 = retries->Value();
  transport_.Script({Http(503), Http(200)});
  Outcome out;
  client_.Get("/v1/test/raw-id-1", absl::Now() + absl::Seconds(10), Into(&out), "/v1/test/{id}");
  Wait(out);
  EXPECT_EQ(unavailable->Value() - unavailable0, 1u);
  EXPECT_EQ(ok->Value() - ok0, 1u);
  EXPECT_EQ(retries->Value() - retries0, 1u);
  EXPECT_EQ(metrics::DefaultRegistry().Expose().find("raw-id-1"), std::string::npos);
}

// A request whose deadline passed while it waited for an upstream connection
// never reached Fivetran: it is not an upstream request in the metrics.
TEST_F(ClientRetryTest, RequestsThatNeverLeftTheQueueAreNotCounted) {
  const GatewayMetrics& m = GatewayMetrics::Get();
  metrics::Counter* error = m.upstream_requests->With({"GET", "/v1/queued/{id}", "error"});
  const uint64_t error0 = error->Value();
  transport_.Script({Failure(TransportFailure::kDeadlineExceededNotSent)});
  Outcome out;
  client_.Get("/v1/queued/1", absl::Now() + absl::Seconds(10), Into(&out), "/v1/queued/{id}");
  Wait(out);
  EXPECT_EQ(out.envelope.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(error->Value() - error0, 0u);
  // One that was sent and timed out on the wire still counts.
  transport_.Script({Failure(TransportFailure::kDeadlineExceeded)});
  Outcome sent;
  client_.Get("/v1/queued/2", absl::Now() + absl::Seconds(10), Into(&sent), "/v1/queued/{id}");
  Wait(sent);
  EXPECT_EQ(error->Value() - error0, 1u);
}

}  // namespace
}  // namespace fivetran_gateway::fivetran
