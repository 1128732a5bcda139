#include "server/common/trace_context.h"

#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace fivetran_gateway {
namespace {

thread_local std::shared_ptr<const TraceContext> current_trace;

bool LowerHex(absl::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool AllZero(absl::string_view s) { return s.find_first_not_of('0') == absl::string_view::npos; }

int HexValue(char c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

// `n` random bytes as lowercase hex, not all zero.
std::string RandomHex(int bytes) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  std::string out;
  do {
    out.clear();
    for (int i = 0; i < bytes; i += 8) absl::StrAppend(&out, absl::StrFormat("%016x", rng()));
    out.resize(static_cast<size_t>(bytes) * 2);
  } while (AllZero(out));
  return out;
}

bool PlainTracestate(absl::string_view s) {
  if (s.empty() || s.size() > 512) return false;
  for (char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace

std::optional<Traceparent> ParseTraceparent(absl::string_view v) {
  // 2 + 1 + 32 + 1 + 16 + 1 + 2 characters.
  constexpr size_t kLength = 55;
  if (v.size() < kLength || v[2] != '-' || v[35] != '-' || v[52] != '-') return std::nullopt;
  const absl::string_view version = v.substr(0, 2);
  const absl::string_view trace_id = v.substr(3, 32);
  const absl::string_view parent_id = v.substr(36, 16);
  const absl::string_view flags = v.substr(53, 2);
  if (!LowerHex(version) || !LowerHex(trace_id) || !LowerHex(parent_id) || !LowerHex(flags)) {
    return std::nullopt;
  }
  if (version == "ff" || AllZero(trace_id) || AllZero(parent_id)) return std::nullopt;
  // Version 00 is exactly these fields; a later version may add some.
  if (version == "00" ? v.size() != kLength : (v.size() > kLength && v[kLength] != '-')) {
    return std::nullopt;
  }
  Traceparent out;
  out.trace_id = std::string(trace_id);
  out.parent_id = std::string(parent_id);
  out.flags = static_cast<uint8_t>(HexValue(flags[0]) * 16 + HexValue(flags[1]));
  return out;
}

std::string TraceContext::TraceparentHeader() const {
  return absl::StrFormat("00-%s-%s-%02x", trace_id, span_id, flags);
}

TraceContext StartTrace(std::optional<absl::string_view> traceparent,
                        std::optional<absl::string_view> tracestate, std::string request_id) {
  TraceContext trace;
  std::optional<Traceparent> parent;
  if (traceparent.has_value()) parent = ParseTraceparent(*traceparent);
  if (parent.has_value()) {
    trace.trace_id = std::move(parent->trace_id);
    // Only the sampled bit is defined; the others are not passed on.
    trace.flags = parent->flags & 0x01;
    if (tracestate.has_value() && PlainTracestate(*tracestate)) {
      trace.tracestate = std::string(*tracestate);
    }
  } else {
    trace.trace_id = RandomHex(16);
  }
  trace.span_id = RandomHex(8);
  trace.request_id = std::move(request_id);
  return trace;
}

std::shared_ptr<const TraceContext> CurrentTrace() { return current_trace; }

ScopedTrace::ScopedTrace(std::shared_ptr<const TraceContext> trace)
    : previous_(std::exchange(current_trace, std::move(trace))) {}

ScopedTrace::~ScopedTrace() { current_trace = std::move(previous_); }

}  // namespace fivetran_gateway
