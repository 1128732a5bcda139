// RpcReactor: the unary reactor behind every gateway RPC.
//
// It ties one gRPC call to at most one upstream HTTP call at a time: the
// caller's deadline becomes the transfer's deadline, a cancelled RPC cancels
// the transfer, and when the RPC ends it writes the one log line per RPC
// (method, gRPC code, upstream HTTP status, latency, request id, trace id,
// upstream attempts) and records the call in the metrics (GatewayMetrics:
// count by code, latency, read cache results). Handlers never block: they
// start the upstream call and return.
//
// Trace context (trace_context.h): a caller's W3C `traceparent` is kept (an
// invalid one is ignored and a new trace started), and so is its
// `x-request-id` when short and plain; the upstream requests of the call
// carry both.
//
// Read cache (README "Read cache"): a caller's `cache-control: no-cache`
// makes read_options() fresh, and an answer the read cache handled carries
// the trailing metadata `x-fivetran-gateway-cache: hit; age=SECONDS` or
// `miss`.
#ifndef FIVETRAN_GATEWAY_SERVER_RPC_REACTOR_H_
#define FIVETRAN_GATEWAY_SERVER_RPC_REACTOR_H_

#include <grpcpp/alarm.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/common/cancel.h"
#include "server/common/trace_context.h"
#include "server/fivetran/fivetran_api.h"
#include "server/fivetran/upstream_info.h"

namespace fivetran_gateway {

// The caller's deadline; InfiniteFuture when none was set.
absl::Time CallerDeadline(const grpc::ServerContextBase& context);

// Fresh when a `cache-control` metadata value has the directive `no-cache`
// (case-insensitive, among comma-separated directives).
fivetran::ReadOptions ReadOptionsOf(const grpc::ServerContextBase& context);
// The value of the trailing metadata `x-fivetran-gateway-cache` for an
// answer; "" when no read cache handled it.
std::string CacheMetadata(const fivetran::UpstreamInfo& upstream);

// A new trace context for a call, from its metadata: `traceparent` and
// `tracestate` (StartTrace), and `x-request-id` when it is at most 64
// characters of [A-Za-z0-9._-] (else a new random id).
std::shared_ptr<const TraceContext> NewCallTrace(const grpc::ServerContextBase& context);
// The call's trace context: the one installed on this thread for it (the
// guard does, auth_services.h), else NewCallTrace().
std::shared_ptr<const TraceContext> CallTrace(const grpc::ServerContextBase& context);

// The upstream call an RPC waits on, and whether the RPC was cancelled.
class UpstreamCallSlot {
 public:
  // Keeps `call` as the one in flight; cancels it at once if Cancel() came
  // first.
  void Hold(std::shared_ptr<Cancellable> call);
  // Cancels the call held now and every one held later.
  void Cancel();
  // The RPC has ended: lets go of the call held (whose callback may own
  // this slot through chain(): a cycle) and keeps none held later.
  void Close();

 private:
  absl::Mutex mu_;
  std::shared_ptr<Cancellable> call_ ABSL_GUARDED_BY(mu_);
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

class RpcReactor final : public grpc::ServerUnaryReactor {
 public:
  RpcReactor(grpc::CallbackServerContext* context, const char* method);

  // Deadline for upstream work: slightly before the caller's deadline
  // (InfiniteFuture when the caller set none).
  absl::Time deadline() const { return deadline_; }
  const std::string& request_id() const { return trace_->request_id; }
  const TraceContext& trace() const { return *trace_; }
  // How the caller allows reads to be answered (cache-control: no-cache).
  fivetran::ReadOptions read_options() const { return read_options_; }

  // Hands over the upstream call just started, then lets go of the handler's
  // reference: the reactor must not be touched by the handler afterwards.
  // Returns this, for `return r->Attach(...)`.
  RpcReactor* Attach(std::shared_ptr<Cancellable> call);
  // Lets go of the handler's reference after upstream calls were handed over
  // through chain(). Returns this.
  RpcReactor* Release();
  // Ends the RPC without an upstream call (e.g. invalid input), from the
  // handler. Returns this.
  RpcReactor* FinishNow(const absl::Status& status);
  // The answer is a create's result replayed for its request_id (metrics).
  void NoteReplay() { replay_ = true; }
  // Ends the RPC from an upstream callback. Call exactly once.
  void Complete(const absl::Status& status, const fivetran::UpstreamInfo& upstream);
  // The same, but the RPC is finished from one of gRPC's own threads: Finish
  // serialises the response on the thread that calls it, and a large one
  // (a page of 1,000 connections: milliseconds) must not hold up the thread
  // that serves every upstream transfer. Costs one hand-off between threads.
  void CompleteOnGrpcThread(const absl::Status& status, const fivetran::UpstreamInfo& upstream);
  // Where the steps of a multi-request RPC hand over the upstream call each
  // one starts (e.g. SyncConnection's trigger, started from its read's
  // callback), so that cancelling the RPC cancels it. It does not refer to
  // the reactor and stays safe to call after the RPC has ended: a step
  // answered inside the call that starts it may end the RPC, and gRPC may
  // free the reactor, before that call returns.
  std::function<void(std::shared_ptr<Cancellable>)> chain() const;

  void OnCancel() override;
  void OnDone() override;
  // gRPC runs OnDone and OnCancel on the thread where the call ends, instead
  // of handing each to its executor thread (a wake-up and a thread switch per
  // RPC). Both are short and never block: OnDone drops a reference, OnCancel
  // asks the upstream call to stop.
  bool InternalInlineable() override { return true; }

 private:
  ~RpcReactor() override;
  void Unref();
  void CompleteInternal(const absl::Status& status, const fivetran::UpstreamInfo& upstream);

  grpc::CallbackServerContext* const context_;
  const char* const method_;
  const absl::Time start_;
  absl::Time caller_deadline_;
  absl::Time deadline_;
  std::shared_ptr<const TraceContext> trace_;
  fivetran::ReadOptions read_options_;
  bool replay_ = false;
  // Two owners: the handler (until Attach/FinishNow) and gRPC (until OnDone).
  std::atomic<int> refs_{2};
  // CompleteOnGrpcThread only: made then, as an alarm costs a gRPC library
  // reference (a global lock) and an allocation to make and to destroy.
  std::optional<grpc::Alarm> hand_off_;
  // The upstream call in flight; shared with chain()'s users, which may
  // outlive the reactor.
  std::shared_ptr<UpstreamCallSlot> upstream_ = std::make_shared<UpstreamCallSlot>();
};

}  // namespace fivetran_gateway

#endif  // FIVETRAN_GATEWAY_SERVER_RPC_REACTOR_H_
