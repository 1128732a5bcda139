// Upstream (HTTP / transport) failures -> absl::Status, in one place.
//
// Every error status built here is made with server/common/status.h, so it
// carries an ErrorInfo (and a RetryInfo where it applies).
#ifndef FIVETRAN_GATEWAY_SERVER_FIVETRAN_ERRORS_H_
#define FIVETRAN_GATEWAY_SERVER_FIVETRAN_ERRORS_H_

#include <map>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "server/common/secrets.h"
#include "server/common/status.h"
#include "server/fivetran/http_transport.h"

namespace fivetran_gateway::fivetran {

// Retry-After header: delta-seconds ("120") or an HTTP-date
// ("Wed, 21 Oct 2026 07:28:00 GMT"), relative to `now`. nullopt when missing
// or unparseable; a date in the past gives zero.
std::optional<absl::Duration> ParseRetryAfter(absl::string_view value, absl::Time now);

// What the gateway was doing, for messages and for deciding whether a failed
// request may have changed upstream state.
struct UpstreamOp {
  std::string method;  // "GET" / "POST".
  std::string path;    // e.g. "/v1/connections/decent_dropsy" (no query).
  bool mutating() const { return method != "GET"; }
};

// A non-2xx HTTP response -> status (conventions.md table). `body` is
// Fivetran's {code, message} envelope or anything else (an HTML page).
// `scrub` lists strings (credentials) that must not appear in the message.
absl::Status StatusFromHttpError(const HttpResponse& response, const UpstreamOp& op, absl::Time now,
                                 absl::Span<const std::string> scrub = {});

// A transfer that got no HTTP response -> status.
absl::Status StatusFromTransportError(const TransportError& error, const UpstreamOp& op);

// Keeps at most `max` printable ASCII characters of `text` (others become
// ' '), collapsing runs of white space: safe to put in an error message.
std::string SanitizeSnippet(absl::string_view text, size_t max = 120);

}  // namespace fivetran_gateway::fivetran

#endif  // FIVETRAN_GATEWAY_SERVER_FIVETRAN_ERRORS_H_
