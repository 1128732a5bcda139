// End-to-end test harness: runs the real fivetran_emulator and
// fivetran_gateway binaries on OS-chosen loopback ports, and talks to them
// over gRPC (the generated C++ stubs) and HTTP (the emulator's REST API and
// its /_emulator admin endpoints).
#ifndef FIVETRAN_GATEWAY_TESTS_HARNESS_H_
#define FIVETRAN_GATEWAY_TESTS_HARNESS_H_

#include <grpcpp/grpcpp.h>
#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "fivetran/gateway/v1/connection_service.grpc.pb.h"
#include "fivetran/gateway/v1/group_service.grpc.pb.h"
#include "fivetran/gateway/v1/user_service.grpc.pb.h"
#include "google/rpc/error_details.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace fivetran_gateway::testing {

// Path of a runfile, e.g. "server/fivetran_gateway".
std::string Runfile(const std::string& path);

// A child process, stopped with SIGTERM (then SIGKILL) when destroyed.
class Process {
 public:
  Process(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
          const std::string& output_file);
  ~Process();
  pid_t pid() const { return pid_; }
  // Sends `sig` and waits up to `timeout_s` for the exit status (-1 if none).
  int StopWith(int sig, double timeout_s);
  // Waits for exit; returns the exit code, or -1 on timeout.
  int WaitExit(double timeout_s);
  bool Running();

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  bool reaped_ = false;
};

// Adds a test failure, with the report, when `log` (a started process's
// output) holds a ThreadSanitizer report: with --config=tsan the gateway and
// the emulator are instrumented too, and their reports must fail the test
// that started them.
void ExpectNoSanitizerReport(const std::string& who, const std::string& log);

// Waits until `path` holds a port number; returns it (0 on timeout).
int WaitForPortFile(const std::string& path, double timeout_s = 20);

std::string TempPath(const std::string& name);
std::string ReadFile(const std::string& path);
// Writes `content` to TempPath(name); returns the path.
std::string WriteTemp(const std::string& name, const std::string& content);

// A self-signed certificate for localhost and 127.0.0.1 (its own CA), made
// with openssl, in TempPath(name + ".crt") and TempPath(name + ".key").
struct KeyPair {
  std::string cert;
  std::string key;
};
KeyPair MakeCert(const std::string& name);

struct HttpReply {
  int status = 0;
  std::string body;
  nlohmann::json json;  // Parsed body, or null.
};

class Emulator {
 public:
  static constexpr char kApiKey[] = "e2e_key_5f2a";
  static constexpr char kApiSecret[] = "e2e_secret_9c1d";
  explicit Emulator(const std::vector<std::string>& extra_flags = {});
  ~Emulator();
  int port() const { return port_; }
  std::string base_url() const;
  // Authenticated REST call to the emulator itself (to compare with what the
  // gateway returns).
  HttpReply Rest(const std::string& method, const std::string& path,
                 const std::string& body = "") const;
  // Admin endpoint (/_emulator/...), no auth.
  HttpReply Admin(const std::string& method, const std::string& path,
                  const nlohmann::json& body = nullptr) const;
  // Every /v1 request the emulator received since the last ClearRequests().
  std::vector<nlohmann::json> Requests() const;
  // How many of them had `method` and a path starting with `path_prefix`.
  int CountRequests(const std::string& method, const std::string& path_prefix) const;
  void ClearRequests() const;
  // The connection's syncs from now on end after `duration_ms` with `outcome`
  // (success, failure or reschedule): POST .../sync_outcome. A refusal fails
  // the test.
  void SetSyncOutcome(const std::string& id, const std::string& outcome, int duration_ms) const;
  // Ends the connection's running sync now: POST .../sync_end. True when one
  // was running; a refusal fails the test.
  bool EndSync(const std::string& id) const;
  void AddFault(const nlohmann::json& fault) const;
  void ClearFaults() const;
  // All items of a REST listing, following next_cursor.
  std::vector<nlohmann::json> ListAll(const std::string& path) const;

 private:
  std::unique_ptr<Process> process_;
  std::string log_path_;
  int port_ = 0;
};

class Gateway {
 public:
  // Starts fivetran_gateway against `upstream_url` with the given
  // credentials (written to a credentials file).
  Gateway(const std::string& upstream_url, const std::string& api_key,
          const std::string& api_secret, const std::vector<std::string>& extra_flags = {});
  ~Gateway();
  int port() const { return port_; }
  std::string address() const;
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }
  // A new channel to the gateway with `credentials` (e.g. TLS), with its own
  // connections: nothing is shared with other channels.
  std::shared_ptr<grpc::Channel> NewChannel(
      std::shared_ptr<grpc::ChannelCredentials> credentials) const;
  Process& process() { return *process_; }
  std::string log() const { return ReadFile(log_path_); }

  std::unique_ptr<::fivetran::gateway::v1::ConnectionService::Stub> connections() const;
  std::unique_ptr<::fivetran::gateway::v1::GroupService::Stub> groups() const;
  std::unique_ptr<::fivetran::gateway::v1::UserService::Stub> users() const;

 private:
  std::unique_ptr<Process> process_;
  std::string log_path_;
  int port_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
};

// A test suite sharing one emulator and one gateway in front of it: the
// suite's SetUpTestSuite calls StartStack, and both stop after the suite.
// Faults and the emulator's request log are cleared before each test.
class StackTest : public ::testing::Test {
 protected:
  static void StartStack(const std::vector<std::string>& emulator_flags = {},
                         const std::vector<std::string>& gateway_flags = {});
  // A fresh gateway (same flags, new port) in front of the same emulator:
  // for tests after which the old one must not be reused, e.g. once a 429
  // has stopped its credential set until a long Retry-After.
  static void RestartGateway();
  static void TearDownTestSuite();
  void SetUp() override;

  static Emulator* emulator_;
  static Gateway* gateway_;

 private:
  static std::vector<std::string>* gateway_flags_;
};

// The google.rpc details of a failed call.
struct ErrorDetails {
  bool has_error_info = false;
  google::rpc::ErrorInfo error_info;
  bool has_retry_info = false;
  google::rpc::RetryInfo retry_info;
  bool has_bad_request = false;
  google::rpc::BadRequest bad_request;
  int error_info_count = 0;
};
ErrorDetails DetailsOf(const grpc::Status& status);

// Server reflection's list_services (grpc.reflection.v1alpha, the version
// gRPC 1.51 serves) over the generic bytes API; fills the raw
// ServerReflectionResponse.
grpc::Status ReflectionListServices(const std::shared_ptr<grpc::Channel>& channel,
                                    std::string* response_bytes, double deadline_s = 10);

// grpc.health.v1 Health/Check of `service` ("" = the whole server), with
// the generated stub.
grpc::Status HealthCheck(const std::shared_ptr<grpc::Channel>& channel,
                         grpc::health::v1::HealthCheckResponse* response,
                         const std::string& service = "", double deadline_s = 10);

// A CreateConnectionRequest for a postgres connection in the seeded group
// quiet_harbor, whose setup tests pass in the emulator: config schema,
// host db.example.test and password; with request_id (idempotent create).
::fivetran::gateway::v1::CreateConnectionRequest PostgresCreateRequest(
    const std::string& schema, const std::string& request_id, const std::string& password);

// A context with a deadline `seconds` from now.
std::unique_ptr<grpc::ClientContext> ContextWithDeadline(double seconds = 10);

}  // namespace fivetran_gateway::testing

#endif  // FIVETRAN_GATEWAY_TESTS_HARNESS_H_
