#include "server/rpc_reactor.h"

#include <algorithm>
#include <optional>
#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "server/common/gateway_metrics.h"
#include "server/common/safe_text.h"
#include "server/common/status.h"
#include "server/grpc_status.h"
#include "spdlog/spdlog.h"

namespace fivetran_gateway {
namespace {

// A caller-supplied x-request-id is kept when it is short and plain.
bool PlainRequestId(absl::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

std::string NewRequestId() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  return absl::StrFormat("%016x", rng());
}

std::optional<absl::string_view> Metadata(const grpc::ServerContextBase& context, const char* key) {
  auto it = context.client_metadata().find(key);
  if (it == context.client_metadata().end()) return std::nullopt;
  return absl::string_view(it->second.data(), it->second.size());
}

const char* CodeName(grpc::StatusCode code) {
  static constexpr const char* kNames[] = {"OK",
                                           "CANCELLED",
                                           "UNKNOWN",
                                           "INVALID_ARGUMENT",
                                           "DEADLINE_EXCEEDED",
                                           "NOT_FOUND",
                                           "ALREADY_EXISTS",
                                           "PERMISSION_DENIED",
                                           "RESOURCE_EXHAUSTED",
                                           "FAILED_PRECONDITION",
                                           "ABORTED",
                                           "OUT_OF_RANGE",
                                           "UNIMPLEMENTED",
                                           "INTERNAL",
                                           "UNAVAILABLE",
                                           "DATA_LOSS",
                                           "UNAUTHENTICATED"};
  int i = static_cast<int>(code);
  return i >= 0 && i <= 16 ? kNames[i] : "UNKNOWN";
}

// How a read was answered, in the words of the metadata, the log line and
// read_cache_total: "hit", "miss", "read-ahead"; "" when no cache was asked.
const char* CacheResult(const fivetran::UpstreamInfo& upstream) {
  switch (upstream.cache) {
    case fivetran::UpstreamInfo::Cache::kHit:
      return "hit";
    case fivetran::UpstreamInfo::Cache::kMiss:
      return "miss";
    case fivetran::UpstreamInfo::Cache::kReadAhead:
      return "read-ahead";
    case fivetran::UpstreamInfo::Cache::kNone:
      break;
  }
  return "";
}

// One finished RPC in the metrics (GatewayMetrics).
void RecordMetrics(const char* method, const char* code, absl::Duration elapsed,
                   const fivetran::UpstreamInfo& upstream, bool replay) {
  const GatewayMetrics& m = GatewayMetrics::Get();
  m.RecordRpc(method, code, elapsed);
  // Pages read ahead are counted by read_ahead_pages_total.
  if (upstream.cache == fivetran::UpstreamInfo::Cache::kHit ||
      upstream.cache == fivetran::UpstreamInfo::Cache::kMiss) {
    m.read_cache->With({method, CacheResult(upstream)})->Increment();
  }
  if (replay) m.idempotency_replays->With({method})->Increment();
}

}  // namespace

absl::Time CallerDeadline(const grpc::ServerContextBase& context) {
  // gRPC reports "no deadline" as a far-future time point (not always
  // time_point::max()); converting that blindly would overflow.
  std::chrono::system_clock::time_point d = context.deadline();
  if (d - std::chrono::system_clock::now() > std::chrono::hours(24 * 365)) {
    return absl::InfiniteFuture();
  }
  return absl::FromChrono(d);
}

std::shared_ptr<const TraceContext> NewCallTrace(const grpc::ServerContextBase& context) {
  std::optional<absl::string_view> id = Metadata(context, "x-request-id");
  std::string request_id =
      id.has_value() && PlainRequestId(*id) ? std::string(*id) : NewRequestId();
  return std::make_shared<const TraceContext>(StartTrace(
      Metadata(context, "traceparent"), Metadata(context, "tracestate"), std::move(request_id)));
}

std::shared_ptr<const TraceContext> CallTrace(const grpc::ServerContextBase& context) {
  std::shared_ptr<const TraceContext> trace = CurrentTrace();
  return trace != nullptr ? trace : NewCallTrace(context);
}

fivetran::ReadOptions ReadOptionsOf(const grpc::ServerContextBase& context) {
  fivetran::ReadOptions read;
  auto range = context.client_metadata().equal_range("cache-control");
  for (auto it = range.first; it != range.second; ++it) {
    for (absl::string_view directive :
         absl::StrSplit(absl::string_view(it->second.data(), it->second.size()), ',')) {
      if (absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(directive), "no-cache")) {
        read.fresh = true;
      }
    }
  }
  return read;
}

std::string CacheMetadata(const fivetran::UpstreamInfo& upstream) {
  const char* result = CacheResult(upstream);
  const bool kept = upstream.cache == fivetran::UpstreamInfo::Cache::kHit ||
                    upstream.cache == fivetran::UpstreamInfo::Cache::kReadAhead;
  if (!kept) return result;
  return absl::StrFormat("%s; age=%.1f", result, absl::ToDoubleSeconds(upstream.cache_age));
}

RpcReactor::RpcReactor(grpc::CallbackServerContext* context, const char* method)
    : context_(context), method_(method), start_(absl::Now()) {
  caller_deadline_ = CallerDeadline(*context);
  // Upstream work ends a little before the caller gives up, so that the
  // caller gets the gateway's DEADLINE_EXCEEDED, with its details (e.g.
  // outcome=unknown for a create), rather than gRPC's bare local one.
  deadline_ = caller_deadline_;
  if (caller_deadline_ != absl::InfiniteFuture()) {
    absl::Duration margin = std::clamp((caller_deadline_ - start_) / 20, absl::Milliseconds(10),
                                       absl::Milliseconds(500));
    deadline_ = caller_deadline_ - margin;
  }
  trace_ = CallTrace(*context);
  context->AddInitialMetadata("x-request-id", trace_->request_id);
  read_options_ = ReadOptionsOf(*context);
}

void UpstreamCallSlot::Hold(std::shared_ptr<Cancellable> call) {
  bool cancel_now = false;
  {
    absl::MutexLock lock(&mu_);
    if (!closed_) call_ = call;
    cancel_now = cancelled_;
  }
  if (cancel_now && call) call->Cancel();
}

void UpstreamCallSlot::Close() {
  std::shared_ptr<Cancellable> call;
  {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    call = std::move(call_);
  }
  // `call` is dropped here, outside the lock (the caller owns this slot too).
}

void UpstreamCallSlot::Cancel() {
  std::shared_ptr<Cancellable> call;
  {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
    call = call_;
  }
  if (call) call->Cancel();
}

RpcReactor::~RpcReactor() { upstream_->Close(); }

RpcReactor* RpcReactor::Attach(std::shared_ptr<Cancellable> call) {
  upstream_->Hold(std::move(call));
  Unref();
  return this;
}

std::function<void(std::shared_ptr<Cancellable>)> RpcReactor::chain() const {
  return [slot = upstream_](std::shared_ptr<Cancellable> call) { slot->Hold(std::move(call)); };
}

RpcReactor* RpcReactor::Release() {
  Unref();
  return this;
}

RpcReactor* RpcReactor::FinishNow(const absl::Status& status) {
  CompleteInternal(status, fivetran::UpstreamInfo{});
  Unref();
  return this;
}

void RpcReactor::Complete(const absl::Status& status, const fivetran::UpstreamInfo& upstream) {
  CompleteInternal(status, upstream);
}

void RpcReactor::CompleteOnGrpcThread(const absl::Status& status,
                                      const fivetran::UpstreamInfo& upstream) {
  // An alarm due now runs its callback on gRPC's callback executor. It is
  // never cancelled, and the RPC must end either way, so `ok` is not read.
  hand_off_.emplace();
  hand_off_->Set(gpr_now(GPR_CLOCK_MONOTONIC),
                 [this, status, upstream](bool /*ok*/) { CompleteInternal(status, upstream); });
}

void RpcReactor::CompleteInternal(const absl::Status& status,
                                  const fivetran::UpstreamInfo& upstream) {
  const int http_status = upstream.http_status;
  grpc::Status out = ToGrpcStatus(status);
  if (out.error_code() == grpc::StatusCode::CANCELLED && absl::Now() >= caller_deadline_) {
    // gRPC cancels a call whose deadline ran out: say so in the log.
    out = ToGrpcStatus(MakeError(absl::StatusCode::kDeadlineExceeded,
                                 "the caller's deadline ran out", "DEADLINE_EXCEEDED"));
  }
  const absl::Duration elapsed = absl::Now() - start_;
  double ms = absl::ToDoubleMilliseconds(elapsed);
  RecordMetrics(method_, CodeName(out.error_code()), elapsed, upstream, replay_);
  const std::string cache = CacheMetadata(upstream);
  if (!cache.empty()) context_->AddTrailingMetadata("x-fivetran-gateway-cache", cache);
  const std::string cache_field =
      cache.empty() ? "" : absl::StrCat(" cache=", CacheResult(upstream));
  // Messages are built from sanitised upstream text and never hold secrets;
  // escaped here, so that no caller value quoted in one can end the line or
  // fake a field, and bounded.
  if (out.ok()) {
    spdlog::info(
        "rpc method={} code=OK http_status={} latency_ms={:.1f} request_id={} attempts={} "
        "trace_id={}{}",
        method_, http_status, ms, trace_->request_id, upstream.attempts, trace_->trace_id,
        cache_field);
  } else {
    spdlog::warn(
        "rpc method={} code={} http_status={} latency_ms={:.1f} request_id={} attempts={} "
        "trace_id={}{} error=\"{}\"",
        method_, CodeName(out.error_code()), http_status, ms, trace_->request_id, upstream.attempts,
        trace_->trace_id, cache_field, SafeText(out.error_message(), kMaxLoggedMessage));
  }
  Finish(out);
}

void RpcReactor::OnCancel() { upstream_->Cancel(); }

void RpcReactor::OnDone() { Unref(); }

void RpcReactor::Unref() {
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
}

}  // namespace fivetran_gateway
