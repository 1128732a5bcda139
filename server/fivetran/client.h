// FivetranClient: asynchronous calls to the Fivetran REST API (v1), the
// layer below RestFivetranApi (rest_api.h), which alone decides what to send.
//
// Builds URLs and headers (Basic auth, `Accept: application/json;version=2`,
// User-Agent, JSON Content-Type on POST), sends them through an
// HttpTransport, and turns every outcome into either the parsed JSON
// envelope of a 2xx response or an absl::Status with google.rpc details
// (errors.h). Failed attempts are retried as retry_policy.h says, waiting
// on a TimerQueue between attempts. Never blocks: results arrive through
// callbacks on the transport's (or the timer queue's) thread.
#ifndef FIVETRAN_GATEWAY_SERVER_FIVETRAN_CLIENT_H_
#define FIVETRAN_GATEWAY_SERVER_FIVETRAN_CLIENT_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "fivetran/gateway/v1/connection.pb.h"
#include "nlohmann/json.hpp"
#include "server/common/timer_queue.h"
#include "server/fivetran/http_transport.h"
#include "server/fivetran/rate_budget.h"
#include "server/fivetran/retry_policy.h"
#include "server/fivetran/upstream_info.h"

namespace fivetran_gateway::fivetran {

struct ClientOptions {
  // Scheme and host, e.g. "https://api.fivetran.com" (a trailing "/" or
  // "/v1" is ignored).
  std::string base_url = "https://api.fivetran.com";
  std::string api_key;     // Secret: never logged.
  std::string api_secret;  // Secret: never logged.
  std::string user_agent;  // e.g. "fivetran-gateway/0.1.0".
  // Upper bound of one upstream call, retries included, when the caller set
  // no deadline (or a later one).
  absl::Duration max_request_time = absl::Seconds(120);
  // Which failed attempts are sent again, and when (retry_policy.h).
  RetryPolicy retry;
  // The credential set's request budget (rate_budget.h): every answer's
  // rate-limit headers are recorded, and after a 429 with Retry-After no
  // attempt is sent until it has passed. Null: not tracked.
  std::shared_ptr<RateBudget> budget;
  // This credential set's label in metrics (GatewayMetrics): a short hash
  // of the API key, never the key. "" = no per-credential-set metrics.
  std::string credential_set;
};

using EnvelopeCallback =
    std::function<void(absl::StatusOr<nlohmann::json> envelope, const UpstreamInfo& info)>;

// Takes a 2xx answer's body straight from its text (e.g. a page reader that
// builds no nlohmann DOM: connection_page_reader.h), with `secrets` to scrub
// from it as ScrubJson would. Returns false to decline: the call's
// EnvelopeCallback then gets the envelope as usual.
using BodyReader = std::function<bool(absl::string_view body, absl::Span<const std::string> secrets,
                                      const UpstreamInfo& info)>;

class FivetranClient {
 public:
  // `timers` runs the waits between attempts; without it nothing is retried.
  // Both must outlive the client's calls.
  FivetranClient(ClientOptions options, HttpTransport* transport, Timers* timers = nullptr);

  // GET base_url + `path` (which starts with "/v1/" and may carry a query).
  // The returned handle cancels the whole call: the transfer in flight or
  // the wait before the next attempt. `done` runs exactly once, with the
  // trace context of the call (trace_context.h) installed.
  //
  // `route` is the path's template, ids replaced by placeholders
  // ("/v1/connections/{connection_id}"): the only form of the path that
  // metrics see (null: "other"). Every attempt carries the current trace
  // context as `traceparent`, `tracestate` and `X-Request-Id` headers.
  std::shared_ptr<HttpCall> Get(std::string path, absl::Time deadline, EnvelopeCallback done,
                                const char* route = nullptr);
  // The same, offering the final 2xx body to `read` first: exactly one of
  // `read` (when it returns true) and `done` ends the call.
  std::shared_ptr<HttpCall> Get(std::string path, absl::Time deadline, BodyReader read,
                                EnvelopeCallback done, const char* route);
  // POST base_url + `path` with a JSON body. Sent again only when it never
  // reached Fivetran or was refused with 429 (retry_policy.h).
  std::shared_ptr<HttpCall> Post(std::string path, const nlohmann::json& body, absl::Time deadline,
                                 EnvelopeCallback done, const char* route = nullptr);

  const ClientOptions& options() const { return options_; }

 private:
  std::shared_ptr<HttpCall> Send(std::string method, std::string path, const char* route,
                                 std::string body, absl::Time deadline, EnvelopeCallback done,
                                 std::vector<std::string> secrets = {}, BodyReader read = nullptr);
  class Call;
  struct SetMetrics;
  ClientOptions options_;
  std::shared_ptr<SetMetrics> set_metrics_;  // Null without options_.credential_set.
  HttpTransport* transport_;
  Timers* timers_;
};

}  // namespace fivetran_gateway::fivetran

#endif  // FIVETRAN_GATEWAY_SERVER_FIVETRAN_CLIENT_H_
