// The emulator's log of the /v1 requests it received (GET /_emulator/requests),
// so tests can check what a client sent. Credentials are never recorded.
#ifndef EMULATOR_REQUEST_LOG_H_
#define EMULATOR_REQUEST_LOG_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "nlohmann/json.hpp"

namespace httplib {
struct Request;
}  // namespace httplib

namespace fivetran_emulator {

class RequestLog {
 public:
  // Keeps the last `capacity` requests, bodies cut to `max_body` bytes.
  RequestLog(size_t capacity, size_t max_body) : capacity_(capacity), max_body_(max_body) {}
  RequestLog(const RequestLog&) = delete;
  RequestLog& operator=(const RequestLog&) = delete;

  // Records a request (status 0 and fault null until SetOutcome) and returns its sequence
  // number. `raw_path`/`raw_query` are the request target as sent.
  int64_t Record(const httplib::Request& req, const std::string& raw_path,
                 const std::string& raw_query) ABSL_LOCKS_EXCLUDED(mu_);
  // Sets the answered status of request `seq` (no-op once it left the log)
  // and the fault injected into it (null for none).
  void SetOutcome(int64_t seq, int status, nlohmann::json fault) ABSL_LOCKS_EXCLUDED(mu_);
  void Clear() ABSL_LOCKS_EXCLUDED(mu_);
  // The logged entries, oldest first, whose raw path starts with
  // `path_prefix` (all when empty), as a JSON array.
  nlohmann::json Entries(absl::string_view path_prefix) const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Entry {
    int64_t seq = 0;
    nlohmann::json json;
  };

  const size_t capacity_;
  const size_t max_body_;
  mutable absl::Mutex mu_;
  std::deque<Entry> entries_ ABSL_GUARDED_BY(mu_);
  int64_t next_seq_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace fivetran_emulator

#endif  // EMULATOR_REQUEST_LOG_H_
