// Every metric the gateway exports, in one place (docs/metrics.md describes
// each for operators). Added to metrics::DefaultRegistry() on first use;
// GET /metrics on --metrics_listen serves that registry.
//
// Label values are the gateway's own bounded names: RPC methods, gRPC code
// names, HTTP methods, route templates (`/v1/connections/{connection_id}`,
// never a raw id), HTTP statuses, reasons, and a credential set's short
// hash (8 hex digits of SHA-256 of the API key, never the key). No id, key,
// token or caller text is ever a label value.
#ifndef FIVETRAN_GATEWAY_SERVER_COMMON_GATEWAY_METRICS_H_
#define FIVETRAN_GATEWAY_SERVER_COMMON_GATEWAY_METRICS_H_

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/common/metrics.h"

namespace fivetran_gateway {

struct GatewayMetrics {
  // fivetran_gateway_build_info{version} 1.
  metrics::GaugeFamily* build_info;
  // Calls, refused ones included, by method and gRPC code name; and their
  // duration (WatchConnectionSync: the whole stream).
  metrics::CounterFamily* rpcs;           // {method, code}
  metrics::HistogramFamily* rpc_seconds;  // {method}
  // Calls refused before any work: {reason} = missing_token,
  // malformed_token, unknown_token, insufficient_scope,
  // per_call_credentials_disabled, per_call_credentials_without_tls,
  // per_call_credentials_incomplete, per_call_credentials_full.
  metrics::CounterFamily* auth_refusals;
  // Every HTTP attempt sent to Fivetran (retries included), by HTTP method,
  // route template and status (the HTTP status, or `error` when no answer
  // arrived: refused, dropped, timed out, cancelled); and its duration.
  metrics::CounterFamily* upstream_requests;           // {method, route, status}
  metrics::HistogramFamily* upstream_request_seconds;  // {method, route}
  // Attempts sent again, by reason: not_sent, connection_failed,
  // rate_limited, server_error, unavailable (retry_policy.h).
  metrics::CounterFamily* upstream_retries;  // {reason}
  // Requests waiting for a free upstream connection (beyond
  // --max_upstream_connections), and how long each sent request waited.
  metrics::GaugeFamily* upstream_queued;                  // {}
  metrics::HistogramFamily* upstream_queue_wait_seconds;  // {}
  // Per credential set: 429 answers; calls ended at once by the 429 circuit
  // (nothing sent); the latest X-Rate-Limit and X-Rate-Limit-Remaining.
  metrics::CounterFamily* rate_limited;           // {credential_set}
  metrics::CounterFamily* rate_limit_rejections;  // {credential_set}
  metrics::GaugeFamily* rate_limit_limit;         // {credential_set}
  metrics::GaugeFamily* rate_limit_remaining;     // {credential_set}
  // Reads answered by the read cache (hit) or read from Fivetran through it
  // (miss), by RPC method; reads that joined an identical one in flight.
  metrics::CounterFamily* read_cache;       // {method, result}
  metrics::CounterFamily* coalesced_reads;  // {}
  // Pages read ahead of a paging caller (read_ahead_api.h), by result.
  metrics::CounterFamily* read_ahead;  // {result}
  // Create calls answered with an earlier call's result (same request_id).
  metrics::CounterFamily* idempotency_replays;  // {method}
  // WatchConnectionSync streams open, and connections being polled.
  metrics::GaugeFamily* sync_watchers;  // {}
  metrics::GaugeFamily* sync_pollers;   // {}
  // The listener's certificate files found changed (and so reloaded), and
  // the current certificate's expiry.
  metrics::CounterFamily* tls_reloads;           // {}
  metrics::GaugeFamily* tls_certificate_expiry;  // {} Unix time, seconds
  // With --state_store: 1 while the fleet's state store answers, 0 during
  // an outage (probed every second).
  metrics::GaugeFamily* state_store_up;  // {}

  static const GatewayMetrics& Get();

  // One finished RPC: its count by code and its duration.
  void RecordRpc(absl::string_view method, absl::string_view code, absl::Duration elapsed) const;
};

// +1 while alive (e.g. a member of each open watch stream).
class LiveCount {
 public:
  explicit LiveCount(metrics::Gauge* gauge) : gauge_(gauge) { gauge_->Add(1); }
  ~LiveCount() { gauge_->Add(-1); }
  LiveCount(const LiveCount&) = delete;
  LiveCount& operator=(const LiveCount&) = delete;

 private:
  metrics::Gauge* const gauge_;
};

}  // namespace fivetran_gateway

#endif  // FIVETRAN_GATEWAY_SERVER_COMMON_GATEWAY_METRICS_H_
