// Fault injection for /v1 requests: faults queued through
// POST /_emulator/faults, random 503s and drops (--fault_rate_*), and the
// ways a fault changes the answer (error status, HTML page, dropped
// connection, truncated body, latency).
#ifndef EMULATOR_FAULTS_H_
#define EMULATOR_FAULTS_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "nlohmann/json.hpp"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace fivetran_emulator {

enum class FaultKind { kStatus, kHtml, kDrop, kLatency, kTruncate };

// "status", "html", "drop", "latency" or "truncate".
const char* FaultKindName(FaultKind kind);

struct Fault {
  int64_t id = 0;  // 0 for random faults
  std::string path_prefix = "/v1";
  std::string method;     // empty = any
  int64_t remaining = 1;  // -1 = until cleared
  FaultKind kind = FaultKind::kStatus;
  int status = 503;
  std::string retry_after;
  int64_t latency_ms = 0;
  std::string code;
  std::string message;
  std::string mode;  // truncate: short_body | cut_json
  // Serve the request first (a create or sync takes effect), then answer
  // with the fault instead (status, html, drop, latency).
  bool apply_first = false;
};

// Validates a POST /_emulator/faults body (InvalidInput naming the field).
absl::StatusOr<Fault> ParseFault(const nlohmann::json& body);

// Every field of `f`, as POST /_emulator/faults answers it.
nlohmann::json FaultToJson(const Fault& f);
// The fields GET /_emulator/faults lists.
nlohmann::json FaultSummaryToJson(const Fault& f);

class FaultInjector {
 public:
  static constexpr size_t kMaxQueued = 1000;

  // Random faults: each /v1 request is dropped with probability `rate_drop`,
  // else answered 503 with probability `rate_503`, from a PRNG seeded `seed`.
  FaultInjector(double rate_503, double rate_drop, uint64_t seed)
      : rate_503_(rate_503), rate_drop_(rate_drop), rng_(seed) {}
  FaultInjector(const FaultInjector&) = delete;
  FaultInjector& operator=(const FaultInjector&) = delete;

  // Queues `f` with a fresh id and returns it; InvalidInput when kMaxQueued
  // faults are queued already.
  absl::StatusOr<Fault> Add(Fault f) ABSL_LOCKS_EXCLUDED(mu_);
  std::vector<Fault> Queued() const ABSL_LOCKS_EXCLUDED(mu_);
  void Clear() ABSL_LOCKS_EXCLUDED(mu_);

  // The fault for this request, if any: the first queued fault that matches
  // (its count is used up), else possibly a random one.
  std::optional<Fault> Take(const std::string& method, const std::string& raw_path)
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const double rate_503_;
  const double rate_drop_;
  mutable absl::Mutex mu_;
  std::deque<Fault> queued_ ABSL_GUARDED_BY(mu_);
  int64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
};

// Forgets the answer in `res` (status, headers, body), so that a fault's
// answer replaces the one the request was served with.
void ClearAnswer(httplib::Response& res);

// Answers with the error of a status or html fault (JSON envelope or HTML
// page, plus Retry-After when set).
void WriteFaultAnswer(const Fault& f, httplib::Response& res);

// Closes the connection of `req` without a single response byte (falls back
// to promising a body that never comes).
void DropConnection(const httplib::Request& req, httplib::Response& res);

// Cuts the answer already in `res` as the truncate fault's mode says.
void TruncateAnswer(const Fault& f, httplib::Response& res);

}  // namespace fivetran_emulator

#endif  // EMULATOR_FAULTS_H_
