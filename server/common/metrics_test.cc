#include "server/common/metrics.h"

#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"

namespace fivetran_gateway::metrics {
namespace {

TEST(MetricsTest, CounterExposition) {
  Registry registry;
  CounterFamily* rpcs = registry.AddCounter("test_rpcs_total", "RPCs handled.", {"method", "code"});
  rpcs->With({"GetConnection", "OK"})->Increment();
  rpcs->With({"GetConnection", "OK"})->Increment(2);
  rpcs->With({"ListGroups", "NOT_FOUND"})->Increment();
  EXPECT_EQ(registry.Expose(),
            "# HELP test_rpcs_total RPCs handled.\n"
            "# TYPE test_rpcs_total counter\n"
            "test_rpcs_total{method=\"GetConnection\",code=\"OK\"} 3\n"
            "test_rpcs_total{method=\"ListGroups\",code=\"NOT_FOUND\"} 1\n");
}

TEST(MetricsTest, FamiliesOrderedByNameAndUnlabelledSeries) {
  Registry registry;
  registry.AddGauge("test_b", "B.", {})->With({})->Set(-4);
  registry.AddCounter("test_a_total", "A.", {})->With({})->Increment(7);
  registry.AddGauge("test_c", "Nothing recorded yet.", {"x"});
  EXPECT_EQ(registry.Expose(),
            "# HELP test_a_total A.\n"
            "# TYPE test_a_total counter\n"
            "test_a_total 7\n"
            "# HELP test_b B.\n"
            "# TYPE test_b gauge\n"
            "test_b -4\n"
            "# HELP test_c Nothing recorded yet.\n"
            "# TYPE test_c gauge\n");
}

TEST(MetricsTest, HistogramBucketsAreCumulativeWithSumAndCount) {
  Registry registry;
  HistogramFamily* h =
      registry.AddHistogram("test_seconds", "Latency.", {"method"}, {0.005, 0.1, 1});
  Histogram* get = h->With({"Get"});
  get->Observe(0.005);  // le is inclusive: the first bucket.
  get->Observe(0.05);
  get->Observe(0.25);
  get->Observe(3);
  EXPECT_EQ(registry.Expose(),
            "# HELP test_seconds Latency.\n"
            "# TYPE test_seconds histogram\n"
            "test_seconds_bucket{method=\"Get\",le=\"0.005\"} 1\n"
            "test_seconds_bucket{method=\"Get\",le=\"0.1\"} 2\n"
            "test_seconds_bucket{method=\"Get\",le=\"1\"} 3\n"
            "test_seconds_bucket{method=\"Get\",le=\"+Inf\"} 4\n"
            "test_seconds_sum{method=\"Get\"} 3.305\n"
            "test_seconds_count{method=\"Get\"} 4\n");
}

TEST(MetricsTest, EscapesLabelValuesAndHelp) {
  EXPECT_EQ(EscapeLabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(EscapeHelp("one\\two\nthree \"quoted\""), "one\\\\two\\nthree \"quoted\"");
  Registry registry;
  registry.AddCounter("test_total", "Line one\nline two.", {"v"})
      ->With({"say \"hi\""})
      ->Increment();
  EXPECT_EQ(registry.Expose(),
            "# HELP test_total Line one\\nline two.\n"
            "# TYPE test_total counter\n"
            "test_total{v=\"say \\\"hi\\\"\"} 1\n");
}

TEST(MetricsTest, FormatsValues) {
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(12), "12");
  EXPECT_EQ(FormatValue(0.0025), "0.0025");
  EXPECT_EQ(FormatValue(2.5), "2.5");
  EXPECT_EQ(FormatValue(1.0 / 0.0), "+Inf");
}

TEST(MetricsTest, TrackedSeriesLiveWhileHeld) {
  Registry registry;
  GaugeFamily* remaining = registry.AddGauge("test_remaining", "R.", {"credential_set"});
  {
    std::shared_ptr<Gauge> a = remaining->Track({"aaaa"});
    std::shared_ptr<Gauge> a2 = remaining->Track({"aaaa"});
    EXPECT_EQ(a.get(), a2.get());  // One series for both holders.
    a->Set(17);
    EXPECT_NE(registry.Expose().find("test_remaining{credential_set=\"aaaa\"} 17\n"),
              std::string::npos);
  }
  EXPECT_EQ(registry.Expose().find("aaaa"), std::string::npos);
  // A pinned series outlives every tracker.
  remaining->With({"bbbb"})->Set(1);
  remaining->Track({"bbbb"})->Set(2);
  EXPECT_NE(registry.Expose().find("test_remaining{credential_set=\"bbbb\"} 2\n"),
            std::string::npos);
}

TEST(MetricsTest, SameDefinitionReturnsTheSameFamily) {
  Registry registry;
  CounterFamily* a = registry.AddCounter("test_total", "T.", {"x"});
  EXPECT_EQ(registry.AddCounter("test_total", "T.", {"x"}), a);
  EXPECT_DEATH(registry.AddCounter("test_total", "T.", {"y"}), "already registered");
  EXPECT_DEATH(registry.AddGauge("test_total", "T.", {"x"}), "already registered");
}

TEST(MetricsTest, RefusesBadNamesAndLabelCounts) {
  Registry registry;
  EXPECT_DEATH(registry.AddCounter("1bad", "B.", {}), "bad metric name");
  EXPECT_DEATH(registry.AddCounter("test_total", "B.", {"bad-label"}), "bad label name");
  EXPECT_DEATH(registry.AddHistogram("test_seconds", "B.", {"le"}, {1}), "bad label name");
  EXPECT_DEATH(registry.AddHistogram("test_seconds", "B.", {}, {2, 1}), "strictly increasing");
  CounterFamily* f = registry.AddCounter("test_total", "B.", {"a", "b"});
  EXPECT_DEATH(f->With({"only one"}), "takes 2 label values");
}

TEST(MetricsTest, ConcurrentIncrementsAllCount) {
  Registry registry;
  CounterFamily* f = registry.AddCounter("test_total", "T.", {"code"});
  HistogramFamily* h = registry.AddHistogram("test_seconds", "T.", {}, {0.5});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        f->With({i % 2 == 0 ? "OK" : "NOT_FOUND"})->Increment();
        h->With({})->Observe(1);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(f->With({"OK"})->Value(), 20000u);
  EXPECT_EQ(f->With({"NOT_FOUND"})->Value(), 20000u);
  Histogram::Snapshot s = h->With({})->Read();
  EXPECT_EQ(s.count(), 40000u);
  EXPECT_EQ(s.sum, 40000.0);
}

// What one RPC costs in metrics (a lookup by label values, an increment and
// an observation); printed for the record, bounded loosely.
TEST(MetricsTest, RecordingIsCheap) {
  // As in the gateway's optimized build (main.cc): Debian's Abseil would
  // otherwise check every lock for deadlock cycles.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  Registry registry;
  CounterFamily* f = registry.AddCounter("test_total", "T.", {"method", "code"});
  HistogramFamily* h = registry.AddHistogram("test_seconds", "T.", {"method"}, LatencyBuckets());
  constexpr int kCalls = 200000;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kCalls; ++i) {
    f->With({"ListGroupConnections", "OK"})->Increment();
    h->With({"ListGroupConnections"})->Observe(0.0123);
  }
  const double ns =
      std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count() /
      kCalls;
  std::printf("metrics cost per RPC (counter + histogram, looked up by labels): %.0f ns\n", ns);
  EXPECT_LT(ns, 20000);  // Far below the gateway's ~300 µs of CPU per call.
}

}  // namespace
}  // namespace fivetran_gateway::metrics
