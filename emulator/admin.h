// The /_emulator admin endpoints (no auth, not rate limited, not faulted, not
// logged): health, faults, request log, reset, rate limit and per-connection
// sync outcomes. See README.md.
#ifndef EMULATOR_ADMIN_H_
#define EMULATOR_ADMIN_H_

#include <string>

#include "emulator/account.h"
#include "emulator/faults.h"
#include "emulator/rate_limiter.h"
#include "emulator/request_log.h"
#include "nlohmann/json.hpp"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace fivetran_emulator {

class AdminEndpoints {
 public:
  // Everything is borrowed and must outlive this object. `rate_limit_per_hour`
  // is the limit a reset restores.
  AdminEndpoints(Account& account, FaultInjector& faults, RequestLog& requests,
                 RateLimiter& rate_limiter, int rate_limit_per_hour)
      : account_(account),
        faults_(faults),
        requests_(requests),
        rate_limiter_(rate_limiter),
        rate_limit_per_hour_(rate_limit_per_hour) {}

  // Answers a request whose raw path is /_emulator or starts with /_emulator/.
  void Handle(const httplib::Request& req, const std::string& raw_path, httplib::Response& res);

 private:
  // `body` is the parsed POST body ({} when empty), null for other methods.
  void Faults(const std::string& method, const nlohmann::json& body, httplib::Response& res);
  void Requests(const httplib::Request& req, httplib::Response& res);
  void Reset(httplib::Response& res);
  void RateLimit(const nlohmann::json& body, httplib::Response& res);
  // POST /_emulator/connections/{id}/sync_outcome; `raw_id` not decoded.
  void SetSyncOutcome(const std::string& raw_id, const nlohmann::json& body,
                      httplib::Response& res);
  // POST /_emulator/connections/{id}/sync_end; `raw_id` not decoded.
  void EndSync(const std::string& raw_id, httplib::Response& res);

  Account& account_;
  FaultInjector& faults_;
  RequestLog& requests_;
  RateLimiter& rate_limiter_;
  const int rate_limit_per_hour_;
};

}  // namespace fivetran_emulator

#endif  // EMULATOR_ADMIN_H_
