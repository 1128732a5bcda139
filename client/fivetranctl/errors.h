// Exit codes of fivetranctl and the one-line rendering of a failed RPC.
#ifndef CLIENT_FIVETRANCTL_ERRORS_H_
#define CLIENT_FIVETRANCTL_ERRORS_H_

#include <grpcpp/support/status.h>

#include <string>

namespace fivetranctl {

// Documented in `fivetranctl --help` and client/fivetranctl/README.md; keep them in sync.
enum ExitCode : int {
  kExitOk = 0,
  kExitOther = 1,            // Any other failure (INTERNAL, FAILED_PRECONDITION, ...).
  kExitUsage = 2,            // Bad flags or unusable local input; nothing was sent.
  kExitNotFound = 3,         // NOT_FOUND.
  kExitInvalidArgument = 4,  // INVALID_ARGUMENT, OUT_OF_RANGE.
  kExitPermission = 5,       // PERMISSION_DENIED, UNAUTHENTICATED.
  kExitUnavailable = 6,      // UNAVAILABLE, DEADLINE_EXCEEDED.
  kExitRateLimited = 7,      // RESOURCE_EXHAUSTED (retry later).
  kExitNotReady = 8,         // Connection created, but setup_state is not "connected".
  // sync --wait / watch outcomes:
  kExitSyncFailed = 9,    // The sync ended with failed_at past the baseline.
  kExitRescheduled = 10,  // Rescheduled (waiting for source quota).
  kExitPaused = 11,       // The connection is paused (also when refused before triggering).
  kExitWaitTimeout = 12,  // --timeout ran out before the sync ended.
  // No connection could be set up: the TLS handshake failed, or TLS on one side only.
  kExitTls = 13,
};

// The exit code for a failed RPC.
int ExitCodeFor(grpc::StatusCode code);

// "NOT_FOUND", "INVALID_ARGUMENT", ...
std::string StatusCodeName(grpc::StatusCode code);

// One line, e.g. `NOT_FOUND: Connection "x" not found (fivetran_code=NotFound_Connection,
// http_status=404)` or `RESOURCE_EXHAUSTED: ... (fivetran_code=TooManyRequests, retry_after=30s)`.
// Uses the google.rpc.Status details (ErrorInfo, RetryInfo, BadRequest) when present.
std::string DescribeError(const grpc::Status& status);

// `text` on one line: control characters (newlines included) become spaces.
std::string OneLine(const std::string& text);

}  // namespace fivetranctl

#endif  // CLIENT_FIVETRANCTL_ERRORS_H_
