// The HTTP side of the emulator: Fivetran REST routes under /v1, HTTP Basic
// auth, Accept/Content-Type checks, rate limiting, fault injection, a request
// log and the /_emulator admin endpoints.
#ifndef EMULATOR_SERVER_H_
#define EMULATOR_SERVER_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "emulator/account.h"
#include "nlohmann/json.hpp"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace fivetran_emulator {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8089;  // 0 = let the OS pick
  std::string api_key = "demo_api_key";
  std::string api_secret = "demo_api_secret";
  // Added to every /v1 response.
  absl::Duration latency = absl::ZeroDuration();
  // Probability (0..1) that a /v1 request gets a 503 (deterministic PRNG).
  double fault_rate_503 = 0;
  // Probability that a /v1 request's connection is closed without an answer.
  double fault_rate_drop = 0;
  uint64_t fault_seed = 1;
  int rate_limit_per_hour = 20000;
  int keep_alive_timeout_sec = 5;
  int threads = 16;
  size_t request_log_capacity = 1000;
  size_t max_logged_body = 64 * 1024;
  size_t max_body_bytes = 1024 * 1024;
  bool log_requests = false;  // one line per request on stderr
  // Serve HTTPS with this PEM certificate chain and private key (both set),
  // plain HTTP when both are empty.
  std::string tls_cert_file;
  std::string tls_key_file;
};

// Parses "HOST:PORT" ("[v6]:PORT" also accepted).
absl::Status ParseListenAddress(const std::string& listen, std::string* host, int* port);

class Emulator {
 public:
  Emulator(ServerOptions options, std::unique_ptr<Account> account);
  ~Emulator();
  Emulator(const Emulator&) = delete;
  Emulator& operator=(const Emulator&) = delete;

  // Binds and starts serving on a background thread. Ignores SIGPIPE for the
  // whole process (writes to closed sockets must not kill the server).
  absl::Status Start();
  // The bound port (valid after Start).
  int port() const { return port_; }
  // Stops serving and joins the server thread. Idempotent.
  void Stop();

  Account& account() { return *account_; }

 private:
  struct Fault {
    int64_t id = 0;
    std::string path_prefix = "/v1";
    std::string method;     // empty = any
    int64_t remaining = 1;  // -1 = until cleared
    std::string kind = "status";
    int status = 503;
    std::string retry_after;
    int64_t latency_ms = 0;
    std::string code;
    std::string message;
    std::string mode;  // truncate: short_body | cut_json
  };
  struct RateDecision {
    bool allowed = true;
    int limit = 0;
    int remaining = 0;
    int64_t retry_after_seconds = 0;
  };
  struct LoggedRequest {
    int64_t seq = 0;
    nlohmann::json entry;
  };

  void Handle(const httplib::Request& req, httplib::Response& res);
  void HandleApi(const httplib::Request& req, const std::string& raw_path,
                 const std::string& raw_query, httplib::Response& res);
  void ServeApi(const httplib::Request& req, const std::string& raw_path, httplib::Response& res);
  void HandleAdmin(const httplib::Request& req, const std::string& raw_path,
                   httplib::Response& res);
  absl::StatusOr<nlohmann::json> AddFault(const nlohmann::json& body);

  std::optional<Fault> TakeFault(const std::string& method, const std::string& raw_path)
      ABSL_LOCKS_EXCLUDED(mu_);
  RateDecision TakeRate(bool count) ABSL_LOCKS_EXCLUDED(mu_);
  int64_t RecordRequest(const httplib::Request& req, const std::string& raw_path,
                        const std::string& raw_query) ABSL_LOCKS_EXCLUDED(mu_);
  void RecordStatus(int64_t seq, int status) ABSL_LOCKS_EXCLUDED(mu_);
  bool Authorized(const httplib::Request& req) const;

  const ServerOptions options_;
  std::unique_ptr<Account> account_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;

  absl::Mutex mu_;
  std::deque<Fault> faults_ ABSL_GUARDED_BY(mu_);
  int64_t next_fault_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::deque<LoggedRequest> log_ ABSL_GUARDED_BY(mu_);
  int64_t next_seq_ ABSL_GUARDED_BY(mu_) = 1;
  std::deque<absl::Time> window_ ABSL_GUARDED_BY(mu_);
  int rate_limit_ ABSL_GUARDED_BY(mu_);
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
};

}  // namespace fivetran_emulator

#endif  // EMULATOR_SERVER_H_
