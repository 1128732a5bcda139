// End-to-end: retries and idempotent creates against the real emulator with
// injected faults (README "Retries and idempotency", field reports B8, B22,
// B23). Counts what reached the emulator through its request log.
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/harness.h"

namespace fivetran_gateway::testing {
namespace {

namespace v1 = ::fivetran::gateway::v1;
using google::protobuf::util::MessageDifferencer;
using nlohmann::json;

class ReliabilityE2ETest : public StackTest {
 protected:
  static void SetUpTestSuite() { StartStack(); }

  // Requests the emulator received with `method` whose path starts with `prefix`.
  static int Count(const std::string& method, const std::string& prefix) {
    return emulator_->CountRequests(method, prefix);
  }

  static v1::CreateConnectionRequest Create(const std::string& schema,
                                            const std::string& request_id) {
    return PostgresCreateRequest(schema, request_id, "idem-secret-pw");
  }

  static grpc::Status CreateNow(const v1::CreateConnectionRequest& request,
                                v1::CreateConnectionResponse* response, double deadline_s = 10) {
    return gateway_->connections()->CreateConnection(ContextWithDeadline(deadline_s).get(), request,
                                                     response);
  }

  // The gateway's log line of the RPC with x-request-id `id`.
  static std::string LogLine(const std::string& id) {
    std::string log = gateway_->log();
    size_t at = log.find("request_id=" + id + " ");
    if (at == std::string::npos) return "";
    size_t start = log.rfind('\n', at) + 1;
    return log.substr(start, log.find('\n', at) - start);
  }

  static double Since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
};

// ---------------------------------------------------------------------------
// Idempotent creates (AIP-155)

TEST_F(ReliabilityE2ETest, SameRequestIdTwiceSendsOnePostAndReplaysTheResult) {
  v1::CreateConnectionRequest request = Create("pg_idem_twice", "3f0c1a9e-idem-twice");
  v1::CreateConnectionResponse first, second;
  grpc::Status s = CreateNow(request, &first);
  ASSERT_TRUE(s.ok()) << s.error_message();
  s = CreateNow(request, &second);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(MessageDifferencer::Equals(first, second));
  EXPECT_EQ(Count("POST", "/v1/connections"), 1);
  // Exactly one such connection exists upstream.
  int found = 0;
  for (const json& c : emulator_->ListAll("/v1/groups/quiet_harbor/connections")) {
    found += c["schema"] == "pg_idem_twice";
  }
  EXPECT_EQ(found, 1);
}

TEST_F(ReliabilityE2ETest, CreateFtpConnectionIsIdempotentToo) {
  v1::CreateFtpConnectionRequest request;
  request.set_group_id("quiet_harbor");
  request.set_request_id("ftp-idem-1");
  v1::FtpConfig* config = request.mutable_config();
  config->set_schema("ftp_idem");
  config->set_table("t");
  config->set_host("ftp.example.test");
  config->set_user("loader");
  config->set_password("ftp-idem-pw");
  v1::CreateFtpConnectionResponse first, second;
  ASSERT_TRUE(gateway_->connections()
                  ->CreateFtpConnection(ContextWithDeadline().get(), request, &first)
                  .ok());
  ASSERT_TRUE(gateway_->connections()
                  ->CreateFtpConnection(ContextWithDeadline().get(), request, &second)
                  .ok());
  EXPECT_TRUE(MessageDifferencer::Equals(first, second));
  EXPECT_EQ(Count("POST", "/v1/connections"), 1);
}

TEST_F(ReliabilityE2ETest, ConcurrentDuplicatesWaitForTheFirstAndSendOnePost) {
  // A slow upstream, so that every duplicate arrives while the first is in flight.
  emulator_->AddFault({{"kind", "latency"},
                       {"latency_ms", 800},
                       {"method", "POST"},
                       {"path_prefix", "/v1/connections"},
                       {"count", 1}});
  v1::CreateConnectionRequest request = Create("pg_idem_concurrent", "idem-concurrent-20");
  constexpr int kCallers = 20;
  std::vector<v1::CreateConnectionResponse> responses(kCallers);
  std::vector<grpc::Status> statuses(kCallers);
  std::vector<std::thread> threads;
  for (int i = 0; i < kCallers; ++i) {
    threads.emplace_back([&, i] { statuses[i] = CreateNow(request, &responses[i]); });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kCallers; ++i) {
    ASSERT_TRUE(statuses[i].ok()) << i << ": " << statuses[i].error_message();
    EXPECT_TRUE(MessageDifferencer::Equals(responses[0], responses[i])) << i;
  }
  EXPECT_FALSE(responses[0].connection().id().empty());
  EXPECT_EQ(Count("POST", "/v1/connections"), 1);
}

TEST_F(ReliabilityE2ETest, SameRequestIdWithADifferentRequestIsInvalidArgument) {
  v1::CreateConnectionResponse response;
  ASSERT_TRUE(CreateNow(Create("pg_idem_a", "idem-mismatch"), &response).ok());
  grpc::Status s = CreateNow(Create("pg_idem_b", "idem-mismatch"), &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  ErrorDetails d = DetailsOf(s);
  ASSERT_TRUE(d.has_bad_request);
  EXPECT_EQ(d.bad_request.field_violations(0).field(), "request_id");
  EXPECT_EQ(Count("POST", "/v1/connections"), 1);
}

TEST_F(ReliabilityE2ETest, OverlongRequestIdIsRejectedBeforeSending) {
  v1::CreateConnectionResponse response;
  grpc::Status s = CreateNow(Create("pg_idem_long", std::string(129, 'x')), &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(DetailsOf(s).bad_request.field_violations(0).field(), "request_id");
  EXPECT_TRUE(emulator_->Requests().empty());
}

TEST_F(ReliabilityE2ETest, CallerTimingOutDoesNotLoseTheCreate) {  // Field report B23.
  // The first caller gives up before Fivetran answers; its retry with the
  // same request_id gets the one connection that was created. The caller's
  // 2 s leave a loaded machine (sanitizer builds, parallel tests) time to
  // send the POST, which must have reached Fivetran for the outcome to be
  // unknown rather than not_sent; Fivetran then takes 4 s to answer.
  emulator_->AddFault({{"kind", "latency"},
                       {"latency_ms", 4000},
                       {"method", "POST"},
                       {"path_prefix", "/v1/connections"},
                       {"count", 1}});
  v1::CreateConnectionRequest request = Create("pg_idem_slow", "idem-slow-retry");
  v1::CreateConnectionResponse response;
  grpc::Status s = CreateNow(request, &response, 2);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << s.error_message();
  EXPECT_EQ(DetailsOf(s).error_info.metadata().at("outcome"), "unknown");
  s = CreateNow(request, &response, 15);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.connection().schema(), "pg_idem_slow");
  EXPECT_EQ(Count("POST", "/v1/connections"), 1);
}

TEST_F(ReliabilityE2ETest, AnUnknownOutcomeIsReplayedNotResent) {
  emulator_->AddFault({{"kind", "status"},
                       {"status", 503},
                       {"method", "POST"},
                       {"path_prefix", "/v1/connections"},
                       {"count", 1}});
  v1::CreateConnectionRequest request = Create("pg_idem_unknown", "idem-unknown");
  v1::CreateConnectionResponse response;
  grpc::Status first = CreateNow(request, &response);
  EXPECT_EQ(first.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(DetailsOf(first).error_info.metadata().at("outcome"), "unknown");
  grpc::Status second = CreateNow(request, &response);
  EXPECT_EQ(second.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(second.error_message(), first.error_message());
  EXPECT_EQ(second.error_details(), first.error_details());
  EXPECT_EQ(Count("POST", "/v1/connections"), 1);
}

TEST_F(ReliabilityE2ETest, ARefusedCreateIsNotKeptSoItsRetryIsSent) {
  // 429 with a Retry-After longer than --max_retry_wait: refused at once,
  // nothing created.
  Gateway gateway(emulator_->base_url(), Emulator::kApiKey, Emulator::kApiSecret,
                  {"--max_retry_wait=1s"});
  emulator_->AddFault({{"kind", "status"},
                       {"status", 429},
                       {"retry_after", "2"},
                       {"method", "POST"},
                       {"path_prefix", "/v1/connections"},
                       {"count", 1}});
  v1::CreateConnectionRequest request = Create("pg_idem_refused", "idem-refused");
  v1::CreateConnectionResponse response;
  const absl::Time refused_at = absl::Now();
  grpc::Status s =
      gateway.connections()->CreateConnection(ContextWithDeadline(10).get(), request, &response);
  const absl::Time answered_at = absl::Now();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  EXPECT_LT(answered_at - refused_at, absl::Seconds(1));
  // Until the Retry-After has passed nothing is sent for these credentials;
  // then the same request_id is sent again, since nothing was created. The
  // wait counts from the 429's arrival, which is before `answered_at` (a
  // slow run, e.g. under a sanitizer, can take a while to get it).
  absl::SleepFor(answered_at + absl::Seconds(2.1) - absl::Now());
  s = gateway.connections()->CreateConnection(ContextWithDeadline(10).get(), request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(Count("POST", "/v1/connections"), 2);
}

// ---------------------------------------------------------------------------
// POSTs are retried only when they cannot have been applied

TEST_F(ReliabilityE2ETest, A503OnCreateIsNotRetriedAndTheOutcomeIsUnknown) {
  emulator_->AddFault({{"kind", "status"},
                       {"status", 503},
                       {"method", "POST"},
                       {"path_prefix", "/v1/connections"},
                       {"count", 1}});
  v1::CreateConnectionResponse response;
  grpc::Status s = CreateNow(Create("pg_503_once", ""), &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  EXPECT_EQ(DetailsOf(s).error_info.metadata().at("outcome"), "unknown");
  EXPECT_EQ(Count("POST", "/v1/connections"), 1);
}

TEST_F(ReliabilityE2ETest, A503OnSyncTriggerIsNotRetried) {
  emulator_->AddFault({{"kind", "status"},
                       {"status", 503},
                       {"method", "POST"},
                       {"path_prefix", "/v1/connections/decent_dropsy/sync"},
                       {"count", 1}});
  v1::SyncConnectionRequest request;
  request.set_connection_id("decent_dropsy");
  v1::SyncConnectionResponse response;
  grpc::Status s =
      gateway_->connections()->SyncConnection(ContextWithDeadline().get(), request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  EXPECT_EQ(DetailsOf(s).error_info.metadata().at("outcome"), "unknown");
  EXPECT_EQ(Count("POST", "/v1/connections/decent_dropsy/sync"), 1);
}

TEST_F(ReliabilityE2ETest, A429OnCreateIsRetriedAfterRetryAfter) {
  emulator_->AddFault({{"kind", "status"},
                       {"status", 429},
                       {"retry_after", "1"},
                       {"method", "POST"},
                       {"path_prefix", "/v1/connections"},
                       {"count", 1}});
  v1::CreateConnectionResponse response;
  grpc::Status s = CreateNow(Create("pg_429_retried", ""), &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(Count("POST", "/v1/connections"), 2);
}

TEST_F(ReliabilityE2ETest, RefusedConnectionsAreRetriedEvenForPosts) {
  // Nothing listens on port 1: every attempt is refused before sending.
  Gateway dead("http://127.0.0.1:1", "k", "s");
  v1::CreateConnectionResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  context.AddMetadata("x-request-id", "refused-create-1");
  grpc::Status s =
      dead.connections()->CreateConnection(&context, Create("pg_refused", ""), &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  EXPECT_EQ(DetailsOf(s).error_info.metadata().at("outcome"), "not_sent");
  EXPECT_EQ(DetailsOf(s).error_info.metadata().at("attempts"), "3");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::string log = dead.log();
  EXPECT_NE(log.find("request_id=refused-create-1 attempts=3"), std::string::npos) << log;
}

// ---------------------------------------------------------------------------
// GETs

TEST_F(ReliabilityE2ETest, GetSucceedsAfterTwo503sWithExactlyThreeRequests) {
  emulator_->AddFault({{"kind", "status"},
                       {"status", 503},
                       {"method", "GET"},
                       {"path_prefix", "/v1/connections/decent_dropsy"},
                       {"count", 2}});
  v1::GetConnectionRequest request;
  request.set_connection_id("decent_dropsy");
  v1::GetConnectionResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  context.AddMetadata("x-request-id", "get-after-two-503");
  grpc::Status s = gateway_->connections()->GetConnection(&context, request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.connection().id(), "decent_dropsy");
  EXPECT_EQ(Count("GET", "/v1/connections/decent_dropsy"), 3);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_NE(LogLine("get-after-two-503").find("attempts=3"), std::string::npos)
      << LogLine("get-after-two-503");
}

TEST_F(ReliabilityE2ETest, GetGivesUpAfterMaxAttempts) {
  emulator_->AddFault({{"kind", "html"},
                       {"status", 502},
                       {"method", "GET"},
                       {"path_prefix", "/v1/groups"},
                       {"count", -1}});
  v1::ListGroupsRequest request;
  v1::ListGroupsResponse response;
  grpc::Status s = gateway_->groups()->ListGroups(ContextWithDeadline().get(), request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(DetailsOf(s).error_info.metadata().at("attempts"), "3");
  EXPECT_EQ(Count("GET", "/v1/groups"), 3);
}

TEST_F(ReliabilityE2ETest, A500IsRetriedOnce) {  // Field report B8.
  emulator_->AddFault({{"kind", "status"},
                       {"status", 500},
                       {"method", "GET"},
                       {"path_prefix", "/v1/users"},
                       {"count", -1}});
  v1::ListUsersRequest request;
  v1::ListUsersResponse response;
  grpc::Status s = gateway_->users()->ListUsers(ContextWithDeadline().get(), request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(Count("GET", "/v1/users"), 2);
}

TEST_F(ReliabilityE2ETest, DroppedAndTruncatedGetsAreRetried) {
  for (json fault : {json{{"kind", "drop"}}, json{{"kind", "truncate"}},
                     json{{"kind", "html"}, {"status", 504}}}) {
    SCOPED_TRACE(fault.dump());
    emulator_->ClearFaults();
    fault["method"] = "GET";
    fault["path_prefix"] = "/v1/users";
    fault["count"] = 1;
    emulator_->AddFault(fault);
    v1::ListUsersRequest request;
    v1::ListUsersResponse response;
    grpc::Status s = gateway_->users()->ListUsers(ContextWithDeadline().get(), request, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_GT(response.users_size(), 0);
  }
}

TEST_F(ReliabilityE2ETest, RateLimitedGetIsRetriedAfterRetryAfterSeconds) {
  emulator_->AddFault({{"kind", "status"},
                       {"status", 429},
                       {"retry_after", "1"},
                       {"method", "GET"},
                       {"path_prefix", "/v1/groups"},
                       {"count", 1}});
  v1::ListGroupsRequest request;
  v1::ListGroupsResponse response;
  auto start = std::chrono::steady_clock::now();
  grpc::Status s = gateway_->groups()->ListGroups(ContextWithDeadline().get(), request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_GE(Since(start), 0.95);
  EXPECT_EQ(Count("GET", "/v1/groups"), 2);
}

TEST_F(ReliabilityE2ETest, RetryAfterBeyondTheDeadlineEndsAtOnceWithRetryInfo) {
  emulator_->AddFault({{"kind", "status"},
                       {"status", 429},
                       {"retry_after", "3600"},
                       {"method", "GET"},
                       {"path_prefix", "/v1/groups"},
                       {"count", -1}});
  v1::ListGroupsRequest request;
  v1::ListGroupsResponse response;
  auto start = std::chrono::steady_clock::now();
  grpc::Status s = gateway_->groups()->ListGroups(ContextWithDeadline(2).get(), request, &response);
  double took = Since(start);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  EXPECT_LT(took, 1.0);
  ErrorDetails d = DetailsOf(s);
  ASSERT_TRUE(d.has_retry_info);
  EXPECT_EQ(d.retry_info.retry_delay().seconds(), 3600);
  EXPECT_EQ(Count("GET", "/v1/groups"), 1);
  RestartGateway();  // A 429 stopped these credentials for an hour.
}

TEST_F(ReliabilityE2ETest, RetryAfterAsAnHttpDate) {
  auto http_date = [](absl::Duration from_now) {
    return absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", absl::Now() + from_now,
                            absl::UTCTimeZone());
  };
  // Two seconds away: waited out, then the read succeeds.
  emulator_->AddFault({{"kind", "status"},
                       {"status", 429},
                       {"retry_after", http_date(absl::Seconds(2))},
                       {"method", "GET"},
                       {"path_prefix", "/v1/groups"},
                       {"count", 1}});
  v1::ListGroupsRequest request;
  v1::ListGroupsResponse response;
  grpc::Status s =
      gateway_->groups()->ListGroups(ContextWithDeadline(10).get(), request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(Count("GET", "/v1/groups"), 2);

  // An hour away: RESOURCE_EXHAUSTED at once, RetryInfo from the date.
  emulator_->ClearRequests();
  emulator_->AddFault({{"kind", "status"},
                       {"status", 429},
                       {"retry_after", http_date(absl::Hours(1))},
                       {"method", "GET"},
                       {"path_prefix", "/v1/groups"},
                       {"count", 1}});
  auto start = std::chrono::steady_clock::now();
  s = gateway_->groups()->ListGroups(ContextWithDeadline(10).get(), request, &response);
  EXPECT_LT(Since(start), 1.0);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  ErrorDetails d = DetailsOf(s);
  ASSERT_TRUE(d.has_retry_info);
  EXPECT_GE(d.retry_info.retry_delay().seconds(), 3590);
  EXPECT_LE(d.retry_info.retry_delay().seconds(), 3600);
  EXPECT_EQ(Count("GET", "/v1/groups"), 1);
  RestartGateway();  // A 429 stopped these credentials for an hour.
}

TEST_F(ReliabilityE2ETest, GarbageRetryAfterFallsBackToBackoff) {
  emulator_->AddFault({{"kind", "status"},
                       {"status", 503},
                       {"retry_after", "soon-ish"},
                       {"method", "GET"},
                       {"path_prefix", "/v1/groups"},
                       {"count", 1}});
  v1::ListGroupsRequest request;
  v1::ListGroupsResponse response;
  auto start = std::chrono::steady_clock::now();
  grpc::Status s = gateway_->groups()->ListGroups(ContextWithDeadline().get(), request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_LT(Since(start), 2.0);
  EXPECT_EQ(Count("GET", "/v1/groups"), 2);
}

TEST(ReliabilityFlagsTest, MaxAttemptsOneTurnsRetriesOff) {
  Emulator emulator;
  Gateway gateway(emulator.base_url(), Emulator::kApiKey, Emulator::kApiSecret,
                  {"--max_attempts=1"});
  emulator.AddFault({{"kind", "status"},
                     {"status", 503},
                     {"method", "GET"},
                     {"path_prefix", "/v1/groups"},
                     {"count", 1}});
  v1::ListGroupsRequest request;
  v1::ListGroupsResponse response;
  grpc::Status s = gateway.groups()->ListGroups(ContextWithDeadline().get(), request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  int gets = 0;
  for (const json& r : emulator.Requests()) gets += r["method"] == "GET";
  EXPECT_EQ(gets, 1);
}

}  // namespace
}  // namespace fivetran_gateway::testing
