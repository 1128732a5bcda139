// Asynchronous HTTP transport for the Fivetran REST client.
//
// CurlTransport drives libcurl's multi interface in its socket mode: every
// transfer is non-blocking, connections are kept alive and reused (HTTP/2
// multiplexing when the server offers it over TLS), and each transfer is
// bounded by its deadline. One event-loop thread waits on the sockets
// (epoll) and reads the answers. Callers are never blocked on network I/O:
// Send() queues the request and, when no other thread is driving libcurl at
// that moment, starts it on the caller's thread (a non-blocking write on a
// kept-alive connection), which spares a wake-up of the loop thread per
// call; otherwise the loop starts it. The completion callback always runs on
// the event-loop thread and must not block.
//
// Completion callbacks run between rounds of socket I/O, about 5 ms of them
// per round (at least one), oldest first: a burst of answers whose callbacks
// take long (mapping large pages) must not hold back the requests of other
// transfers. A server may close a new connection on which nothing arrives
// in time, and a POST cut off that way cannot safely be sent again.
//
// Under overload, transfers beyond max_host_connections wait in a FIFO
// queue owned by the loop (not in libcurl's pending list, which does not
// serve the oldest first): the oldest waiting transfer is sent when a slot
// frees. The queue's depth and each transfer's wait are exported as
// fivetran_gateway_upstream_queued_requests and
// fivetran_gateway_upstream_queue_wait_seconds (docs/metrics.md).
#ifndef FIVETRAN_GATEWAY_SERVER_FIVETRAN_HTTP_TRANSPORT_H_
#define FIVETRAN_GATEWAY_SERVER_FIVETRAN_HTTP_TRANSPORT_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/common/cancel.h"
#include "server/common/metrics.h"

namespace fivetran_gateway::fivetran {

struct HttpRequest {
  std::string method;                // "GET" or "POST".
  std::string url;                   // Absolute URL, already percent-encoded.
  std::vector<std::string> headers;  // "Name: value" lines.
  std::string body;                  // Sent when method is POST.
  // Basic auth credentials; passed to curl, never placed in `headers`, so
  // they cannot end up in a log of this struct.
  std::string username;
  std::string password;
  absl::Time deadline = absl::InfiniteFuture();
};

struct HttpResponse {
  int status = 0;                 // HTTP status code.
  std::string body;               // Response body (bounded by max_response_bytes).
  std::string content_type;       // Content-Type header, "" when absent.
  std::string retry_after;        // Retry-After header, raw, "" when absent.
  int rate_limit = -1;            // X-Rate-Limit header; -1 when absent or not a number.
  int rate_limit_remaining = -1;  // X-Rate-Limit-Remaining header; likewise.
  std::string http_version;       // "1.1" or "2".
};

// How a transfer ended when no HTTP response was received.
enum class TransportFailure {
  kNone,
  // Connect refused, DNS failure: the request provably never reached the
  // server, so even a POST is safe to retry.
  kNotSent,
  // The request may have reached the server (dropped mid-way, TLS error
  // after connect, empty reply): a POST's outcome is unknown.
  kMaybeSent,
  // The deadline passed while the request was on the wire or awaited its
  // answer: a POST's outcome is unknown.
  kDeadlineExceeded,
  // The deadline passed before the request was sent (it waited for a free
  // upstream connection): it never reached the server.
  kDeadlineExceededNotSent,
  kCancelled,
  kResponseTooLarge,
};

// A failed transfer: what happened and a message safe to show (no headers,
// no credentials).
struct TransportError {
  TransportFailure failure = TransportFailure::kNone;
  std::string message;
};

struct HttpResult {
  // Set when a response arrived (any HTTP status); otherwise `error` says why.
  bool ok = false;
  HttpResponse response;
  TransportError error;
};

using HttpCallback = std::function<void(HttpResult)>;

// A transfer in flight. Cancel() is safe from any thread, at any time, and
// more than once; the callback then runs once with kCancelled, unless the
// transfer had already completed.
using HttpCall = ::fivetran_gateway::Cancellable;

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // Starts `request`; `done` runs exactly once, on the transport's thread
  // (or, when the transport is shutting down and refuses it, at once on the
  // caller's thread, inside Send()).
  virtual std::shared_ptr<HttpCall> Send(HttpRequest request, HttpCallback done) = 0;
};

struct CurlTransportOptions {
  // CA bundle file that replaces the system's ("" = system only).
  std::string ca_file;
  // PEM text of every trusted CA; when set it replaces ca_file and the
  // system bundle (the gateway passes the system bundle plus
  // --fivetran_ca_file). Peer and host verification are always on.
  std::string ca_pem;
  // Upper bound of a response body; larger responses fail cleanly.
  int64_t max_response_bytes = 32 << 20;
  // Connect timeout cap (the deadline still applies when shorter).
  absl::Duration connect_timeout = absl::Seconds(10);
  // Keep-alive connections kept in the pool.
  int max_connections = 64;
  // Transfers running at once, and so connections open to the upstream at
  // a time (the gateway talks to one host: every transfer counts against
  // this one limit; values below 1 mean 1). Protects the upstream (and the
  // emulator, which serves one connection per thread). Further transfers
  // wait in the transport's own queue and are sent oldest first as running
  // ones end. A queued transfer still honours its deadline (it ends with
  // kDeadlineExceededNotSent when the deadline passes first) and Cancel()
  // (it ends at once with kCancelled); neither is sent.
  int max_host_connections = 64;
  // Ask for gzip-compressed answers (Accept-Encoding: gzip) and inflate
  // them; false sends no Accept-Encoding (identity).
  bool gzip = true;
};

class CurlTransport final : public HttpTransport {
 public:
  explicit CurlTransport(CurlTransportOptions options = {});
  ~CurlTransport() override;  // Cancels what is in flight, joins the loop.
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  std::shared_ptr<HttpCall> Send(HttpRequest request, HttpCallback done) override;

  // Connections opened so far (for tests of keep-alive reuse).
  int64_t connections_opened() const { return connections_opened_.load(); }

 private:
  struct Shared;
  class Transfer;
  struct Completed {
    HttpCallback done;
    HttpResult result;
  };
  void Loop();
  // Takes new and cancelled transfers from the shared state, starts what
  // may start and collects what ended (callbacks not run). Any thread, with
  // drive_mu_ held; `ready` are the sockets epoll found ready (loop only).
  void DriveLocked(const std::vector<std::pair<int, int>>& ready)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(drive_mu_);
  // Ends every transfer when the transport stops (callbacks not run).
  void StopLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(drive_mu_);
  // Takes a running transfer out of the multi handle (its connection slot
  // frees at once); returns its callback, not yet run.
  HttpCallback Detach(Transfer* t) ABSL_EXCLUSIVE_LOCKS_REQUIRED(drive_mu_);
  // Ends a running transfer: out of the multi handle, callback queued.
  void Finish(Transfer* t, HttpResult result) ABSL_EXCLUSIVE_LOCKS_REQUIRED(drive_mu_);
  // Runs the callbacks of completed transfers, oldest first, for about
  // kCallbackSlice (at least one): the rest wait for the next round, after
  // the sockets have been served. Loop thread, without drive_mu_.
  void RunCompleted();
  // Moves completed_ to the end of running_ (loop thread).
  void TakeCompletedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(drive_mu_);
  // Runs every pending completion callback (when stopping).
  void RunAllCompleted();
  // Appends a new transfer to the queue.
  void Enqueue(std::shared_ptr<Transfer> t) ABSL_EXCLUSIVE_LOCKS_REQUIRED(drive_mu_);
  // Ends a queued transfer unsent: out of the queue, callback queued.
  void EndQueued(Transfer* t, TransportError error) ABSL_EXCLUSIVE_LOCKS_REQUIRED(drive_mu_);
  // Ends the queued transfers whose deadline is at or before `now`.
  void ExpireQueued(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(drive_mu_);
  // Moves the oldest queued transfers into the multi handle while fewer
  // than max_host_connections run.
  void Admit() ABSL_EXCLUSIVE_LOCKS_REQUIRED(drive_mu_);
  // When the loop must next drive libcurl unprompted: now when a queued
  // transfer could start, else libcurl's timer or the earliest queued
  // deadline (InfiniteFuture when neither).
  absl::Time NextDueLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(drive_mu_);

  const CurlTransportOptions options_;
  metrics::Gauge* const queued_gauge_;
  metrics::Histogram* const queue_wait_;
  // State shared with the HttpCall handles, which may outlive the transport.
  std::shared_ptr<Shared> shared_;
  // Held by whichever thread drives libcurl: the loop, or a caller in
  // Send() that found it free (it never waits for it).
  absl::Mutex drive_mu_;
  // Transfers owned by the transport: running ones (in the multi handle,
  // at most max_host_connections), and queued ones, oldest first, with
  // their deadlines (finite ones only) in time order.
  std::vector<std::shared_ptr<Transfer>> active_ ABSL_GUARDED_BY(drive_mu_);
  std::list<std::shared_ptr<Transfer>> queue_ ABSL_GUARDED_BY(drive_mu_);
  std::multimap<absl::Time, Transfer*> queued_deadlines_ ABSL_GUARDED_BY(drive_mu_);
  // Ended transfers whose callbacks the loop has not taken yet, oldest first.
  std::deque<Completed> completed_ ABSL_GUARDED_BY(drive_mu_);
  // Whether the loop is about to wait or waits on its sockets, and until
  // when: Send() starts a transfer itself only then (under load the loop is
  // awake and takes new transfers in batches), and wakes the loop for what
  // it made due earlier.
  std::atomic<bool> loop_sleeping_{false};
  absl::Time loop_sleeps_until_ ABSL_GUARDED_BY(drive_mu_) = absl::InfinitePast();
  // Callbacks taken by the loop and not yet run (loop thread only).
  std::deque<Completed> running_;
  std::atomic<int64_t> connections_opened_{0};
  std::thread thread_;
};

}  // namespace fivetran_gateway::fivetran

#endif  // FIVETRAN_GATEWAY_SERVER_FIVETRAN_HTTP_TRANSPORT_H_
