#include "server/common/trace_context.h"

#include "gtest/gtest.h"

namespace fivetran_gateway {
namespace {

constexpr char kValid[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(TraceContextTest, ParsesAValidTraceparent) {
  std::optional<Traceparent> p = ParseTraceparent(kValid);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(p->parent_id, "00f067aa0ba902b7");
  EXPECT_EQ(p->flags, 1);
}

TEST(TraceContextTest, RefusesInvalidTraceparents) {
  for (const char* bad : {
           "",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",       // no flags
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",    // upper case
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",    // zero trace id
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",    // zero parent id
           "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",    // forbidden version
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",  // 00 with extra
           "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",    // separator
           "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",    // not hex
           "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",   // later version, no '-'
       }) {
    EXPECT_FALSE(ParseTraceparent(bad).has_value()) << bad;
  }
  // A later version may carry more fields after a '-'.
  EXPECT_TRUE(ParseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-later")
                  .has_value());
}

TEST(TraceContextTest, KeepsTheCallersTraceWithANewSpan) {
  TraceContext t = StartTrace(kValid, "vendor=abc", "req-1");
  EXPECT_EQ(t.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(t.span_id.size(), 16u);
  EXPECT_NE(t.span_id, "00f067aa0ba902b7");
  EXPECT_EQ(t.flags, 1);
  EXPECT_EQ(t.tracestate, "vendor=abc");
  EXPECT_EQ(t.request_id, "req-1");
  EXPECT_EQ(t.TraceparentHeader(), "00-4bf92f3577b34da6a3ce929d0e0e4736-" + t.span_id + "-01");
  EXPECT_TRUE(ParseTraceparent(t.TraceparentHeader()).has_value());
}

TEST(TraceContextTest, StartsANewTraceForAMissingOrInvalidOne) {
  for (std::optional<absl::string_view> given :
       {std::optional<absl::string_view>(), std::optional<absl::string_view>("garbage")}) {
    TraceContext t = StartTrace(given, "vendor=abc", "");
    ASSERT_TRUE(ParseTraceparent(t.TraceparentHeader()).has_value()) << t.TraceparentHeader();
    EXPECT_EQ(t.flags, 0);
    EXPECT_EQ(t.tracestate, "");  // Not forwarded without a valid traceparent.
  }
  EXPECT_NE(StartTrace(std::nullopt, std::nullopt, "").trace_id,
            StartTrace(std::nullopt, std::nullopt, "").trace_id);
}

TEST(TraceContextTest, DropsATracestateThatIsNotPlainText) {
  EXPECT_EQ(StartTrace(kValid, "a=b\nc", "").tracestate, "");
  EXPECT_EQ(StartTrace(kValid, std::string(513, 'a'), "").tracestate, "");
}

TEST(TraceContextTest, ScopesNestAndRestore) {
  EXPECT_EQ(CurrentTrace(), nullptr);
  auto a = std::make_shared<const TraceContext>(StartTrace(std::nullopt, std::nullopt, "a"));
  auto b = std::make_shared<const TraceContext>(StartTrace(std::nullopt, std::nullopt, "b"));
  {
    ScopedTrace outer(a);
    EXPECT_EQ(CurrentTrace(), a);
    {
      ScopedTrace inner(b);
      EXPECT_EQ(CurrentTrace(), b);
    }
    EXPECT_EQ(CurrentTrace(), a);
  }
  EXPECT_EQ(CurrentTrace(), nullptr);
}

}  // namespace
}  // namespace fivetran_gateway
