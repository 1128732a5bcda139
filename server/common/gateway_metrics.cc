#include "server/common/gateway_metrics.h"

namespace fivetran_gateway {
namespace {

GatewayMetrics Register(metrics::Registry& r) {
  const std::vector<double>& latency = metrics::LatencyBuckets();
  GatewayMetrics m;
  m.build_info =
      r.AddGauge("fivetran_gateway_build_info",
                 "Always 1; the version of the running gateway is a label.", {"version"});
  m.rpcs = r.AddCounter("fivetran_gateway_rpcs_total",
                        "RPCs handled (refused ones included), by method and gRPC status code.",
                        {"method", "code"});
  m.rpc_seconds = r.AddHistogram(
      "fivetran_gateway_rpc_duration_seconds",
      "Time from an RPC's arrival to its status, by method (WatchConnectionSync: the stream).",
      {"method"}, latency);
  m.auth_refusals = r.AddCounter("fivetran_gateway_auth_refusals_total",
                                 "Calls refused by caller authentication, by reason.", {"reason"});
  m.upstream_requests = r.AddCounter(
      "fivetran_gateway_upstream_requests_total",
      "HTTP requests sent to Fivetran (each retry counts), by HTTP method, route template and "
      "HTTP status (error: no answer).",
      {"method", "route", "status"});
  m.upstream_request_seconds =
      r.AddHistogram("fivetran_gateway_upstream_request_duration_seconds",
                     "Duration of one HTTP request to Fivetran, by HTTP method and route template.",
                     {"method", "route"}, latency);
  m.upstream_retries =
      r.AddCounter("fivetran_gateway_upstream_retries_total",
                   "Upstream requests scheduled to be sent again, by reason.", {"reason"});
  m.upstream_queued = r.AddGauge(
      "fivetran_gateway_upstream_queued_requests",
      "Requests to Fivetran waiting for a free upstream connection (--max_upstream_connections).",
      {});
  m.upstream_queue_wait_seconds = r.AddHistogram(
      "fivetran_gateway_upstream_queue_wait_seconds",
      "Time a request to Fivetran waited for a free upstream connection before it was sent.", {},
      latency);
  m.rate_limited = r.AddCounter("fivetran_gateway_upstream_rate_limited_total",
                                "HTTP 429 answers from Fivetran, by credential set (key hash).",
                                {"credential_set"});
  m.rate_limit_rejections =
      r.AddCounter("fivetran_gateway_rate_limit_rejections_total",
                   "Calls ended with RESOURCE_EXHAUSTED without sending, because an earlier 429's "
                   "Retry-After has not passed, by credential set (key hash).",
                   {"credential_set"});
  m.rate_limit_limit = r.AddGauge(
      "fivetran_gateway_rate_limit_limit",
      "Fivetran's hourly request limit (X-Rate-Limit of the latest answer), by credential set.",
      {"credential_set"});
  m.rate_limit_remaining = r.AddGauge(
      "fivetran_gateway_rate_limit_remaining",
      "Requests left in Fivetran's hourly budget (X-Rate-Limit-Remaining of the latest answer), "
      "by credential set.",
      {"credential_set"});
  m.read_cache = r.AddCounter("fivetran_gateway_read_cache_total",
                              "Reads the read cache handled, by RPC method and result (hit, miss).",
                              {"method", "result"});
  m.coalesced_reads =
      r.AddCounter("fivetran_gateway_coalesced_reads_total",
                   "Reads that shared an identical upstream request already in flight.", {});
  m.read_ahead = r.AddCounter(
      "fivetran_gateway_read_ahead_pages_total",
      "Next pages of a listing read ahead for a paging caller, by result: used (the caller's "
      "read took it), unused (not taken in time, failed, or dropped by a change), skipped (not "
      "read: the hourly budget is under its reserve, a 429's Retry-After runs, or too many "
      "pages are held).",
      {"result"});
  m.idempotency_replays = r.AddCounter(
      "fivetran_gateway_idempotency_replays_total",
      "Create calls answered with the result of an earlier call with the same request_id.",
      {"method"});
  m.sync_watchers =
      r.AddGauge("fivetran_gateway_sync_watchers", "WatchConnectionSync streams open.", {});
  m.sync_pollers = r.AddGauge("fivetran_gateway_sync_pollers",
                              "Connections polled for their sync state (one poller each).", {});
  m.tls_reloads = r.AddCounter("fivetran_gateway_tls_reloads_total",
                               "Times the listener's certificate files were found changed.", {});
  m.tls_certificate_expiry =
      r.AddGauge("fivetran_gateway_tls_certificate_expiry_timestamp_seconds",
                 "Expiry (notAfter, Unix time) of the listener's current certificate.", {});
  m.state_store_up = r.AddGauge(
      "fivetran_gateway_state_store_up",
      "1 while the fleet's state store (--state_store) answers, 0 during an outage.", {});
  // Series that exist from the start, so that a rate() sees the first one.
  m.coalesced_reads->With({});
  for (const char* result : {"used", "unused", "skipped"}) m.read_ahead->With({result});
  m.sync_watchers->With({});
  m.sync_pollers->With({});
  m.upstream_queued->With({});
  m.upstream_queue_wait_seconds->With({});
  return m;
}

}  // namespace

const GatewayMetrics& GatewayMetrics::Get() {
  static const GatewayMetrics* m = new GatewayMetrics(Register(metrics::DefaultRegistry()));
  return *m;
}

void GatewayMetrics::RecordRpc(absl::string_view method, absl::string_view code,
                               absl::Duration elapsed) const {
  rpcs->With({method, code})->Increment();
  rpc_seconds->With({method})->Observe(absl::ToDoubleSeconds(elapsed));
}

}  // namespace fivetran_gateway
