// Trace context of one call: the W3C `traceparent` (and `tracestate`) a
// caller sent, or a new trace when it sent none or an invalid one, and the
// call's request id (`x-request-id`). See https://www.w3.org/TR/trace-context/.
//
// The gRPC layer makes one TraceContext per RPC and installs it as the
// thread's current context (ScopedTrace) while the handler starts its
// upstream work; FivetranClient copies the current context into each HTTP
// request it builds (`traceparent` with the same trace id and the gateway's
// span id as parent, `tracestate` as received, `X-Request-Id`), so every
// attempt of that call, retries included, carries them. FivetranClient
// installs a call's context again while it runs the call's callback, so that
// follow-up requests (the trigger after a read) carry it too; code that
// hops threads in between captures CurrentTrace() and re-installs it.
// Background work (sync polls) runs with no context and sends none.
#ifndef FIVETRAN_GATEWAY_SERVER_COMMON_TRACE_CONTEXT_H_
#define FIVETRAN_GATEWAY_SERVER_COMMON_TRACE_CONTEXT_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"

namespace fivetran_gateway {

// The fields of a valid `traceparent` header value.
struct Traceparent {
  std::string trace_id;   // 32 lowercase hex digits, not all zero.
  std::string parent_id;  // 16 lowercase hex digits, not all zero.
  uint8_t flags = 0;      // trace-flags; bit 0 = sampled.
};

// Parses `version-trace_id-parent_id-flags` (W3C Trace Context level 1):
// lowercase hex of the right lengths, trace and parent ids not all zero,
// version not `ff`; version 00 must end after the flags, a later version may
// carry more after a `-`. nullopt when invalid (the caller then ignores it).
std::optional<Traceparent> ParseTraceparent(absl::string_view value);

struct TraceContext {
  std::string trace_id;  // 32 lowercase hex digits: the caller's or a new one.
  std::string span_id;   // The gateway's span for this call: 16 lowercase hex digits.
  uint8_t flags = 0;     // The caller's trace-flags; 0 for a trace started here.
  // The caller's `tracestate`, forwarded unchanged; "" when none, when it
  // came without a valid traceparent, or when it was not plain text of at
  // most 512 bytes.
  std::string tracestate;
  std::string request_id;  // Sent upstream as X-Request-Id; "" = none.

  // `00-<trace_id>-<span_id>-<flags>`, for the upstream requests.
  std::string TraceparentHeader() const;
};

// A context for a call that carried `traceparent` / `tracestate` (nullopt
// when absent): the caller's trace when its traceparent is valid, else a
// new random trace id. A new random span id either way.
TraceContext StartTrace(std::optional<absl::string_view> traceparent,
                        std::optional<absl::string_view> tracestate, std::string request_id);

// The context installed on this thread; null when none.
std::shared_ptr<const TraceContext> CurrentTrace();

// Installs `trace` as the thread's current context until destroyed, then
// restores the one before. Create and destroy on the same thread.
class ScopedTrace {
 public:
  explicit ScopedTrace(std::shared_ptr<const TraceContext> trace);
  ~ScopedTrace();
  ScopedTrace(const ScopedTrace&) = delete;
  ScopedTrace& operator=(const ScopedTrace&) = delete;

 private:
  std::shared_ptr<const TraceContext> previous_;
};

// `fn`, made to run with the context current now installed (itself when
// there is none): for a callback that answers this call's caller later, from
// another call's thread (e.g. a read that joined another's request).
template <typename... Args>
std::function<void(Args...)> WithCurrentTrace(std::function<void(Args...)> fn) {
  std::shared_ptr<const TraceContext> trace = CurrentTrace();
  if (trace == nullptr) return fn;
  return [trace, fn = std::move(fn)](Args... args) {
    ScopedTrace scope(trace);
    fn(std::forward<Args>(args)...);
  };
}

}  // namespace fivetran_gateway

#endif  // FIVETRAN_GATEWAY_SERVER_COMMON_TRACE_CONTEXT_H_
