#include "emulator/faults.h"

#include "gtest/gtest.h"

namespace fivetran_emulator {
namespace {

using nlohmann::json;

Fault Parsed(const json& body) {
  absl::StatusOr<Fault> f = ParseFault(body);
  EXPECT_TRUE(f.ok()) << body.dump() << ": " << f.status();
  return f.ok() ? *f : Fault();
}

TEST(ParseFault, Defaults) {
  const Fault f = Parsed(json::object());
  EXPECT_EQ(f.kind, FaultKind::kStatus);
  EXPECT_EQ(f.status, 503);
  EXPECT_EQ(f.path_prefix, "/v1");
  EXPECT_EQ(f.method, "");
  EXPECT_EQ(f.remaining, 1);
  EXPECT_FALSE(f.apply_first);
  EXPECT_EQ(Parsed(json{{"kind", "html"}}).status, 502);
  EXPECT_EQ(Parsed(json{{"kind", "truncate"}}).mode, "short_body");
  EXPECT_EQ(Parsed(json{{"method", "post"}}).method, "POST");
  EXPECT_EQ(Parsed(json{{"retry_after", 7}}).retry_after, "7");
}

TEST(ParseFault, ApplyFirst) {
  for (const char* kind : {"status", "html", "drop", "latency"}) {
    const Fault f = Parsed(json{{"kind", kind}, {"apply_first", true}});
    EXPECT_TRUE(f.apply_first) << kind;
    EXPECT_STREQ(FaultKindName(f.kind), kind);
  }
  EXPECT_FALSE(Parsed(json{{"apply_first", nullptr}}).apply_first);
  EXPECT_FALSE(ParseFault(json{{"apply_first", "true"}}).ok());
  EXPECT_FALSE(ParseFault(json{{"kind", "truncate"}, {"apply_first", true}}).ok());
  EXPECT_TRUE(ParseFault(json{{"kind", "truncate"}, {"apply_first", false}}).ok());
  EXPECT_EQ(FaultToJson(Parsed(json{{"apply_first", true}}))["apply_first"], true);
}

TEST(ParseFault, Rejects) {
  for (const json& body : std::vector<json>{json::array(),
                                            {{"kind", "explode"}},
                                            {{"count", 0}},
                                            {{"count", -2}},
                                            {{"status", 99}},
                                            {{"status", "503"}},
                                            {{"retry_after", "1\r\nX-Evil: 1"}},
                                            {{"retry_after", 1.5}},
                                            {{"latency_ms", -1}},
                                            {{"kind", "truncate"}, {"mode", "sideways"}}}) {
    EXPECT_FALSE(ParseFault(body).ok()) << body.dump();
  }
}

TEST(FaultInjector, QueuedFaultsMatchInOrderAndRunOut) {
  FaultInjector faults(0, 0, 1);
  Fault groups = Parsed(json{{"path_prefix", "/v1/groups"}, {"method", "GET"}, {"count", 2}});
  Fault any = Parsed(json{{"kind", "drop"}, {"count", -1}});
  ASSERT_TRUE(faults.Add(groups).ok());
  ASSERT_TRUE(faults.Add(any).ok());
  ASSERT_EQ(faults.Queued().size(), 2u);
  EXPECT_EQ(faults.Take("POST", "/v1/groups")->kind, FaultKind::kDrop);  // method differs
  EXPECT_EQ(faults.Take("GET", "/v1/groups")->kind, FaultKind::kStatus);
  EXPECT_EQ(faults.Take("GET", "/v1/groups/x")->kind, FaultKind::kStatus);
  EXPECT_EQ(faults.Take("GET", "/v1/groups")->kind, FaultKind::kDrop);  // first ran out
  EXPECT_EQ(faults.Queued().size(), 1u);
  EXPECT_FALSE(faults.Take("GET", "/_other").has_value());
  faults.Clear();
  EXPECT_FALSE(faults.Take("GET", "/v1/groups").has_value());
}

TEST(FaultInjector, IdsAndBound) {
  FaultInjector faults(0, 0, 1);
  absl::StatusOr<Fault> first = faults.Add(Fault());
  absl::StatusOr<Fault> second = faults.Add(Fault());
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(second->id, first->id + 1);
  for (size_t i = 2; i < FaultInjector::kMaxQueued; ++i) ASSERT_TRUE(faults.Add(Fault()).ok());
  EXPECT_FALSE(faults.Add(Fault()).ok());
}

TEST(FaultInjector, RandomFaultsOnlyUnderV1) {
  FaultInjector drops(0, 1, 1);
  EXPECT_EQ(drops.Take("GET", "/v1/users")->kind, FaultKind::kDrop);
  EXPECT_FALSE(drops.Take("GET", "/health").has_value());
  FaultInjector errors(1, 0, 1);
  const std::optional<Fault> f = errors.Take("POST", "/v1/connections");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->status, 503);
  EXPECT_EQ(f->retry_after, "1");
  EXPECT_EQ(f->id, 0);
  // A queued fault comes first.
  ASSERT_TRUE(errors.Add(Parsed(json{{"kind", "latency"}, {"latency_ms", 0}})).ok());
  EXPECT_EQ(errors.Take("GET", "/v1/users")->kind, FaultKind::kLatency);
}

}  // namespace
}  // namespace fivetran_emulator
