// The HTTP side of the emulator: Fivetran REST routes under /v1, HTTP Basic
// auth, Accept/Content-Type checks, rate limiting, fault injection, a request
// log and the /_emulator admin endpoints.
#ifndef EMULATOR_SERVER_H_
#define EMULATOR_SERVER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "emulator/account.h"
#include "emulator/admin.h"
#include "emulator/api_handlers.h"
#include "emulator/faults.h"
#include "emulator/rate_limiter.h"
#include "emulator/request_log.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace fivetran_emulator {

inline constexpr int kDefaultThreads = 256;

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
  // Most connections served at once: one worker thread each, started when a
  // connection arrives and none is free. A keep-alive connection holds its
  // worker while idle, so this must exceed the connections clients keep open
  // (the gateway: --max_upstream_connections, 32 by default).
  int threads = kDefaultThreads;
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
  // The httplib server (TLS or plain) with every handler and option set.
  absl::Status CreateServer();
  // Binds options_.host:port (port 0 = any free one) and sets port_.
  absl::Status Bind();
  void Handle(const httplib::Request& req, httplib::Response& res);
  // A /v1 request: logged, then faulted or served.
  void HandleApi(const httplib::Request& req, const std::string& raw_path,
                 const std::string& raw_query, httplib::Response& res);
  // Answers with `fault` applied; returns the status to log (0 = dropped).
  // `fault_log` is the fault's request log entry; an apply_first fault adds
  // the status the request was served with.
  int ServeWithFault(const Fault& fault, const httplib::Request& req, const std::string& raw_path,
                     httplib::Response& res, nlohmann::json& fault_log);
  // Auth (401), rate limit (429), then the API handlers.
  void ServeApi(const httplib::Request& req, const std::string& raw_path, httplib::Response& res);
  bool Authorized(const httplib::Request& req) const;

  const ServerOptions options_;
  std::unique_ptr<Account> account_;
  FaultInjector faults_;
  RequestLog requests_;
  RateLimiter rate_limiter_;
  ApiHandlers api_;
  AdminEndpoints admin_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace fivetran_emulator

#endif  // EMULATOR_SERVER_H_
