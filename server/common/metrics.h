// A small Prometheus metrics module: counters, gauges and histograms in
// families with a fixed set of label names, and their text exposition
// (format 0.0.4, https://prometheus.io/docs/instrumenting/exposition_formats/).
//
// Debian ships no C++ Prometheus client, and the gateway needs little of
// one. The hot path is lock-free once a series is in hand: a Counter,
// Gauge or Histogram is a few relaxed atomics. Family::With() finds (or
// makes) the series of some label values under a reader lock; callers that
// record often keep the pointer.
//
//   metrics::Registry registry;
//   auto* rpcs = registry.AddCounter("fivetran_gateway_rpcs_total",
//                                    "RPCs handled, by method and gRPC code.",
//                                    {"method", "code"});
//   rpcs->With({"GetConnection", "OK"})->Increment();
//   std::string text = registry.Expose();
//
// Label values must be bounded and never secret: the gateway's own names
// (methods, codes, route templates, reasons), never caller text, ids, keys
// or tokens. Names are checked when a family is added (a bad name, or the
// same name added again with another type, help or label names, aborts:
// a programming error).
#ifndef FIVETRAN_GATEWAY_SERVER_COMMON_METRICS_H_
#define FIVETRAN_GATEWAY_SERVER_COMMON_METRICS_H_

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace fivetran_gateway::metrics {

// A count that only goes up (exposed as a `counter`; names end in `_total`).
class Counter {
 public:
  void Increment(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A value that goes up and down (exposed as a `gauge`).
class Gauge {
 public:
  void Set(int64_t value) { value_.store(value, std::memory_order_relaxed); }
  void Add(int64_t delta) { value_.fetch_add(delta, std::memory_order_relaxed); }
  int64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// Counts observations into buckets with fixed upper bounds (exposed as a
// `histogram`: cumulative `_bucket{le="..."}`, `_sum`, `_count`).
class Histogram {
 public:
  // `bounds`: strictly increasing upper bounds, without +Inf.
  explicit Histogram(std::shared_ptr<const std::vector<double>> bounds);
  void Observe(double value);

  struct Snapshot {
    std::vector<uint64_t> cumulative;  // One per bound, then +Inf (= count).
    double sum = 0;
    uint64_t count() const { return cumulative.empty() ? 0 : cumulative.back(); }
  };
  Snapshot Read() const;
  const std::vector<double>& bounds() const { return *bounds_; }

 private:
  const std::shared_ptr<const std::vector<double>> bounds_;
  // Not cumulative: bucket i counts values in (bounds[i-1], bounds[i]]; the
  // last one those above every bound.
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<double> sum_{0};
};

// Bucket bounds in seconds for request latencies: 1 ms to 2 minutes.
const std::vector<double>& LatencyBuckets();

enum class Type { kCounter, kGauge, kHistogram };

// One metric name and its series, one per distinct set of label values.
class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, Type type, std::vector<std::string> labels);
  virtual ~FamilyBase() = default;
  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  Type type() const { return type_; }
  const std::vector<std::string>& labels() const { return labels_; }
  // Appends HELP, TYPE and every series' samples, series ordered by label
  // values.
  virtual void Write(std::string* out) const = 0;

 protected:
  // `{a="x",b="y"}` for the joined key (values separated by '\xff'), with
  // `extra` (e.g. `le="0.5"`) appended; "" when there is nothing to say.
  std::string LabelText(absl::string_view key, absl::string_view extra = "") const;
  // The map key of some label values (checks their number).
  void Key(std::initializer_list<absl::string_view> values, std::string* key) const;

 private:
  const std::string name_;
  const std::string help_;
  const Type type_;
  const std::vector<std::string> labels_;
};

template <typename T>
class Family final : public FamilyBase {
 public:
  Family(std::string name, std::string help, Type type, std::vector<std::string> labels,
         std::shared_ptr<const std::vector<double>> bounds = nullptr)
      : FamilyBase(std::move(name), std::move(help), type, std::move(labels)),
        bounds_(std::move(bounds)) {}

  // The series of `values` (one per label name, in order), made on first
  // use and kept for the registry's lifetime. The pointer stays valid.
  T* With(std::initializer_list<absl::string_view> values);
  // The series of `values`, exposed only while a returned pointer is held
  // (for series of something that goes away, e.g. a per-call credential
  // set). Holders of the same values share one series.
  std::shared_ptr<T> Track(std::initializer_list<absl::string_view> values);

  void Write(std::string* out) const override;
  // Histograms only: the bucket bounds.
  const std::vector<double>* bounds() const { return bounds_.get(); }

 private:
  struct Entry {
    std::shared_ptr<T> pinned;  // Set by With().
    std::weak_ptr<T> tracked;   // Set by Track().
  };
  std::shared_ptr<T> Make() const;
  void WriteSeries(const std::string& key, const T& cell, std::string* out) const;

  const std::shared_ptr<const std::vector<double>> bounds_;
  mutable absl::Mutex mu_;
  std::unordered_map<std::string, Entry> series_ ABSL_GUARDED_BY(mu_);
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Adds a family, or returns the one of that name when it has the same
  // type, help, label names (and bounds). The pointer lives as long as the
  // registry.
  CounterFamily* AddCounter(const std::string& name, const std::string& help,
                            std::vector<std::string> labels);
  GaugeFamily* AddGauge(const std::string& name, const std::string& help,
                        std::vector<std::string> labels);
  HistogramFamily* AddHistogram(const std::string& name, const std::string& help,
                                std::vector<std::string> labels, std::vector<double> bounds);

  // Every family in the text format 0.0.4, families ordered by name.
  std::string Expose() const;

 private:
  FamilyBase* Find(const std::string& name, Type type, const std::string& help,
                   const std::vector<std::string>& labels) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<FamilyBase>> families_ ABSL_GUARDED_BY(mu_);
};

// The process's registry: what the gateway records and GET /metrics serves.
Registry& DefaultRegistry();

// The exposition's content type.
inline constexpr char kContentType[] = "text/plain; version=0.0.4; charset=utf-8";

// Exposition helpers (exposed for tests): a label value or HELP text
// escaped, a sample value formatted.
std::string EscapeLabelValue(absl::string_view value);
std::string EscapeHelp(absl::string_view help);
std::string FormatValue(double value);

}  // namespace fivetran_gateway::metrics

#endif  // FIVETRAN_GATEWAY_SERVER_COMMON_METRICS_H_
