// ReadAheadFivetranApi over CoalescingFivetranApi over a fake API, on a
// manual clock: a paging caller's next page is read ahead, taken once or
// joined in flight, never by a fresh read, dropped by changes, by time and
// under a low budget, and bounded.
#include "server/fivetran/read_ahead_api.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/common/manual_timers.h"
#include "server/common/status.h"
#include "server/common/trace_context.h"
#include "server/fivetran/cached_api.h"
#include "server/fivetran/coalescing_api.h"
#include "server/fivetran/fake_api.h"

namespace fivetran_gateway::fivetran {
namespace {

struct Outcome {
  std::optional<absl::StatusOr<Page<SerializedConnection>>> result;
  UpstreamInfo info;
  ApiCallback<Page<SerializedConnection>> Into() {
    return [this](absl::StatusOr<Page<SerializedConnection>> r, const UpstreamInfo& i) {
      result = std::move(r);
      info = i;
    };
  }
  // The ids of the page's connections, or the error's message.
  std::string Ids() const {
    if (!result.has_value()) return "(no answer)";
    if (!result->ok()) return std::string(result->status().message());
    std::string ids;
    for (const auto& c : (*result)->items) {
      absl::StrAppend(&ids, ids.empty() ? "" : ",", c.Parse().id());
    }
    return ids;
  }
  std::string Next() const {
    return result.has_value() && result->ok() ? (*result)->next_cursor : "";
  }
};

// Passes every call on to `inner`; a listing's answer reaches the caller
// only after `before_answer` has run. In the gateway the layer below answers
// on a transport thread: it has finished a request (so an identical read
// sent now is a new one) a moment before this decorator hears of it.
class AnswerLater final : public FivetranApi {
 public:
  explicit AnswerLater(FivetranApi* inner) : inner_(inner) {}
  std::function<void(const PageRequest&)> before_answer;
  // Called as a listing's request is sent, on the sending thread.
  std::function<void(const PageRequest&)> on_call;

  std::shared_ptr<Cancellable> GetConnection(const std::string& id, ReadOptions read,
                                             absl::Time deadline,
                                             ApiCallback<v1::Connection> done) override {
    return inner_->GetConnection(id, read, deadline, std::move(done));
  }
  std::shared_ptr<Cancellable> CreateConnection(const NewConnection& connection,
                                                absl::Time deadline,
                                                ApiCallback<v1::Connection> done) override {
    return inner_->CreateConnection(connection, deadline, std::move(done));
  }
  std::shared_ptr<Cancellable> TriggerSync(const std::string& id, bool force, absl::Time deadline,
                                           ApiCallback<SyncTriggered> done) override {
    return inner_->TriggerSync(id, force, deadline, std::move(done));
  }
  std::shared_ptr<Cancellable> ListGroups(const PageRequest& page, ReadOptions read,
                                          absl::Time deadline,
                                          ApiCallback<Page<v1::Group>> done) override {
    return inner_->ListGroups(page, read, deadline, std::move(done));
  }
  std::shared_ptr<Cancellable> ListGroupConnections(
      const std::string& group_id, const std::string& schema, const PageRequest& page,
      ReadOptions read, absl::Time deadline,
      ApiCallback<Page<SerializedConnection>> done) override {
    if (on_call) on_call(page);
    return inner_->ListGroupConnections(
        group_id, schema, page, read, deadline,
        [this, page = PageRequest{page.limit, page.cursor}, done = std::move(done)](
            absl::StatusOr<Page<SerializedConnection>> result, const UpstreamInfo& info) {
          if (before_answer) before_answer(page);
          done(std::move(result), info);
        });
  }
  std::shared_ptr<Cancellable> ListUsers(std::optional<bool> active, const PageRequest& page,
                                         ReadOptions read, absl::Time deadline,
                                         ApiCallback<Page<v1::User>> done) override {
    return inner_->ListUsers(active, page, read, deadline, std::move(done));
  }

 private:
  FivetranApi* const inner_;
};

// A ReadAheadFivetranApi over AnswerLater over `below`, read as a caller
// with a 30 s deadline: for the moment between the layer below finishing a
// request and its answer reaching the read-ahead.
struct AnswerLaterStack {
  AnswerLaterStack(FivetranApi* below, ManualTimers* timers, ReadAheadOptions options = {})
      : later(below), api(&later, timers, std::move(options)), timers(timers) {}
  std::shared_ptr<Cancellable> Read(Outcome& out, const std::string& cursor) {
    return api.ListGroupConnections("g", "", PageRequest{2, cursor}, kCachedReadOk,
                                    timers->Now() + absl::Seconds(30), out.Into());
  }
  AnswerLater later;
  ReadAheadFivetranApi api;
  ManualTimers* const timers;
};

// A group "g" of `pages` pages of two connections; page N's cursor is "cN"
// (page 1 has none), and each read of a page is numbered in the ids
// ("p3.r1" = page 3, first read), so that a test sees which read answered.
class ReadAheadTest : public ::testing::Test {
 protected:
  ReadAheadTest() { Build(ReadAheadOptions{}); }

  void Build(ReadAheadOptions options) {
    api_.reset();
    coalescing_ = std::make_unique<CoalescingFivetranApi>(&fake_, &timers_);
    options.budget_low = [this] { return budget_low_fn_ ? budget_low_fn_() : budget_low_; };
    api_ = std::make_unique<ReadAheadFivetranApi>(coalescing_.get(), &timers_, options);
    fake_.list_group_connections =
        [this](const std::string& group, const std::string& schema,
               const PageRequest& page) -> absl::StatusOr<Page<v1::Connection>> {
      if (on_read_) on_read_(page);
      if (fail_next_) {
        fail_next_ = false;
        return MakeError(fail_code_, "upstream down", "UPSTREAM_UNAVAILABLE");
      }
      const int n = page.cursor.empty() ? 1 : std::stoi(page.cursor.substr(1));
      const int read = ++reads_[absl::StrCat(group, "/", schema, "/", n)];
      Page<v1::Connection> out;
      for (int i = 0; i < 2; ++i) {
        out.items.emplace_back().set_id(absl::StrCat(schema, "p", n, ".r", read, ".", i));
      }
      if (n < pages_) out.next_cursor = absl::StrCat("c", n + 1);
      return out;
    };
  }

  // Reads page `cursor` of group "g" as a caller with a 30 s deadline.
  std::shared_ptr<Cancellable> Read(Outcome& out, const std::string& cursor,
                                    ReadOptions read = kCachedReadOk,
                                    const std::string& schema = "") {
    return api_->ListGroupConnections("g", schema, PageRequest{2, cursor}, read,
                                      timers_.Now() + absl::Seconds(30), out.Into());
  }
  // A valid create body: a postgres connection in group "g".
  static absl::StatusOr<NewConnection> NewPostgresConnection() {
    v1::CreateConnectionRequest create;
    create.set_group_id("g");
    create.set_service("postgres");
    (*create.mutable_config()->mutable_fields())["schema"].set_string_value("new_schema");
    return NewConnection::From(create);
  }
  using ReadFn = std::function<void(Outcome& out, const std::string& cursor)>;
  // A paging caller reads pages 1 and 2 with `read` (by default Read);
  // page 2 is answered and page 3's read-ahead is left held.
  void HoldPageThreeReadAhead(const ReadFn& read) {
    Outcome p1, p2;
    read(p1, "");
    fake_.set_hold(true);
    read(p2, "c2");
    EXPECT_EQ(fake_.Release(), 1);
    EXPECT_EQ(p2.Ids(), "p2.r1.0,p2.r1.1");
    EXPECT_EQ(fake_.held(), 1) << "page 3's read-ahead";
  }
  void HoldPageThreeReadAhead() {
    HoldPageThreeReadAhead([this](Outcome& out, const std::string& cursor) { Read(out, cursor); });
  }
  int Calls() const {
    int n = 0;
    for (const auto& c : fake_.calls()) n += c.operation == "ListGroupConnections";
    return n;
  }
  std::string LastDetail() const { return fake_.calls().back().detail; }

  FakeFivetranApi fake_;
  ManualTimers timers_;
  std::unique_ptr<CoalescingFivetranApi> coalescing_;
  std::unique_ptr<ReadAheadFivetranApi> api_;
  std::map<std::string, int> reads_;
  int pages_ = 5;
  bool budget_low_ = false;
  std::function<bool()> budget_low_fn_;  // When set, instead of budget_low_.
  bool fail_next_ = false;
  absl::StatusCode fail_code_ = absl::StatusCode::kUnavailable;
  // Runs as a page is read, before its answer.
  std::function<void(const PageRequest&)> on_read_;
};

TEST_F(ReadAheadTest, APagingCallerGetsEachNextPageReadAhead) {
  Outcome p1;
  Read(p1, "");
  EXPECT_EQ(p1.Ids(), "p1.r1.0,p1.r1.1");
  EXPECT_EQ(Calls(), 1) << "a first page starts no read-ahead";

  Outcome p2;
  Read(p2, p1.Next());
  EXPECT_EQ(p2.Ids(), "p2.r1.0,p2.r1.1");
  ASSERT_EQ(Calls(), 3) << "page 2 came with a next_cursor: page 3 is read ahead";
  EXPECT_EQ(LastDetail(), "limit=2 cursor=c3 schema=");

  timers_.Advance(absl::Milliseconds(1500));
  Outcome p3;
  auto handle = Read(p3, p2.Next());
  EXPECT_EQ(p3.Ids(), "p3.r1.0,p3.r1.1") << "the read-ahead's answer, not a second read";
  EXPECT_EQ(p3.info.cache, UpstreamInfo::Cache::kReadAhead);
  EXPECT_EQ(p3.info.cache_age, absl::Milliseconds(1500));
  EXPECT_EQ(p3.info.http_status, 200);
  ASSERT_NE(handle, nullptr);
  handle->Cancel();  // Already answered: nothing happens.
  ASSERT_EQ(Calls(), 4) << "taking page 3 read page 4 ahead";
  EXPECT_EQ(LastDetail(), "limit=2 cursor=c4 schema=");

  Outcome p4, p5;
  Read(p4, p3.Next());
  Read(p5, p4.Next());
  EXPECT_EQ(p5.Ids(), "p5.r1.0,p5.r1.1");
  EXPECT_EQ(p5.Next(), "");
  EXPECT_EQ(Calls(), 5) << "one upstream read per page, and none after the last";
  EXPECT_EQ(api_->stats().started, 3);
  EXPECT_EQ(api_->stats().used, 3);
  EXPECT_EQ(api_->stats().unused, 0);

  // Taken once: reading page 3 again reads it again.
  Outcome again;
  Read(again, "c3");
  EXPECT_EQ(again.Ids(), "p3.r2.0,p3.r2.1");
  EXPECT_EQ(again.info.cache, UpstreamInfo::Cache::kNone);
}

TEST_F(ReadAheadTest, ACallerWhoseNextPageIsStillInFlightJoinsIt) {
  HoldPageThreeReadAhead();
  ASSERT_EQ(Calls(), 3);

  Outcome p3;
  Read(p3, "c3");
  EXPECT_EQ(Calls(), 3) << "joined the read-ahead in flight";
  EXPECT_FALSE(p3.result.has_value());
  EXPECT_EQ(fake_.Release(), 1);
  EXPECT_EQ(p3.Ids(), "p3.r1.0,p3.r1.1");
  EXPECT_EQ(p3.info.cache, UpstreamInfo::Cache::kNone) << "read from Fivetran, just now";
  EXPECT_EQ(fake_.cancelled(), 0) << "the read-ahead's own wait ended without cancelling it";
  EXPECT_EQ(api_->stats().used, 1);
  // The joined answer came with a cursor: page 4 is read ahead (held), and
  // page 3 was not kept as well.
  EXPECT_EQ(LastDetail(), "limit=2 cursor=c4 schema=");
  Outcome p3_again;
  Read(p3_again, "c3");
  EXPECT_EQ(fake_.Release(), 2);
  EXPECT_EQ(p3_again.Ids(), "p3.r2.0,p3.r2.1");
}

// The caller asks for page 3 after the layer below has finished the
// read-ahead of page 3 but before its answer reached the read-ahead: the
// caller waits for that answer; no second upstream read. (Under ASan, where
// that moment is longer, `fivetranctl --all` over 3 pages read 4.)
TEST_F(ReadAheadTest, ACallerAskingAsTheReadAheadIsAnsweredGetsThatAnswer) {
  AnswerLaterStack stack(coalescing_.get(), &timers_);
  Outcome p3;
  HoldPageThreeReadAhead([&](Outcome& out, const std::string& cursor) { stack.Read(out, cursor); });
  ASSERT_EQ(Calls(), 3);
  int calls_by_the_read = -1;
  stack.later.before_answer = [&](const PageRequest& page) {
    if (page.cursor != "c3" || calls_by_the_read >= 0) return;
    const int before = Calls();
    stack.Read(p3, "c3");
    calls_by_the_read = Calls() - before;
    EXPECT_FALSE(p3.result.has_value()) << p3.Ids();
  };
  EXPECT_EQ(fake_.Release(), 1);
  EXPECT_EQ(calls_by_the_read, 1) << "only page 4's read-ahead, not page 3 again";
  EXPECT_EQ(LastDetail(), "limit=2 cursor=c4 schema=");
  EXPECT_EQ(p3.Ids(), "p3.r1.0,p3.r1.1");
  EXPECT_EQ(p3.info.cache, UpstreamInfo::Cache::kNone) << "read from Fivetran, just now";
  EXPECT_EQ(stack.api.stats().used, 1);
  EXPECT_EQ(stack.api.stats().unused, 0);
  EXPECT_EQ(fake_.cancelled(), 0);
}

// The same for a second caller of the page: it too waits for the
// read-ahead (e.g. two pagers of one listing in step), not only the first.
TEST_F(ReadAheadTest, ASecondCallerAskingAsTheReadAheadIsAnsweredGetsThatAnswerToo) {
  AnswerLaterStack stack(coalescing_.get(), &timers_);
  Outcome first, second;
  HoldPageThreeReadAhead([&](Outcome& out, const std::string& cursor) { stack.Read(out, cursor); });
  stack.Read(first, "c3");
  ASSERT_EQ(Calls(), 3);
  int page3_reads = 0;
  stack.later.on_call = [&](const PageRequest& page) { page3_reads += page.cursor == "c3"; };
  stack.later.before_answer = [&](const PageRequest& page) {
    if (page.cursor == "c3" && !second.result.has_value()) stack.Read(second, "c3");
  };
  EXPECT_EQ(fake_.Release(), 1);
  EXPECT_EQ(page3_reads, 0) << "page 3 read once, by the read-ahead";
  EXPECT_EQ(first.Ids(), "p3.r1.0,p3.r1.1");
  EXPECT_EQ(second.Ids(), "p3.r1.0,p3.r1.1");
  EXPECT_EQ(stack.api.stats().started, 2) << "pages 3 and 4";
  EXPECT_EQ(stack.api.stats().used, 1) << "page 3's read-ahead, used once by two callers";
}

TEST_F(ReadAheadTest, EveryCallerWaitingForAReadAheadGetsItsAnswer) {
  Outcome first, second;
  HoldPageThreeReadAhead();
  Read(first, "c3");
  Read(second, "c3");
  EXPECT_EQ(Calls(), 3) << "both wait for the read-ahead";
  EXPECT_EQ(fake_.Release(), 1);
  EXPECT_EQ(first.Ids(), "p3.r1.0,p3.r1.1");
  EXPECT_EQ(second.Ids(), "p3.r1.0,p3.r1.1");
  EXPECT_EQ(first.Next(), "c4");
  EXPECT_EQ(second.Next(), "c4");
  EXPECT_EQ(Calls(), 4) << "page 4 read ahead, once";
  EXPECT_EQ(fake_.cancelled(), 0);
}

// The read-ahead was sent with no caller's trace context; the caller that
// waits for it is answered in its own, so what it does next is traced as
// that caller's (trace_context.h).
TEST_F(ReadAheadTest, AWaitingCallerIsAnsweredWithItsOwnTraceContext) {
  HoldPageThreeReadAhead();
  auto trace = std::make_shared<const TraceContext>(StartTrace(std::nullopt, std::nullopt, "r"));
  std::shared_ptr<const TraceContext> seen;
  bool answered = false;
  {
    ScopedTrace scope(trace);
    api_->ListGroupConnections(
        "g", "", PageRequest{2, "c3"}, kCachedReadOk, timers_.Now() + absl::Seconds(30),
        [&](absl::StatusOr<Page<SerializedConnection>> page, const UpstreamInfo&) {
          answered = page.ok();
          seen = CurrentTrace();
        });
  }
  ASSERT_EQ(CurrentTrace(), nullptr);
  EXPECT_EQ(fake_.Release(), 1);
  EXPECT_TRUE(answered);
  EXPECT_EQ(seen, trace);
  EXPECT_EQ(CurrentTrace(), nullptr);
}

// A waiter's own read, sent when the read-ahead ran out of time, carries
// the waiter's trace context upstream, not the one current where the
// read-ahead's answer came.
TEST_F(ReadAheadTest, AWaitingCallersOwnReadCarriesItsTraceContext) {
  ReadAheadOptions options;
  options.timeout = absl::Seconds(5);
  AnswerLaterStack stack(coalescing_.get(), &timers_, options);
  Outcome p3;
  HoldPageThreeReadAhead([&](Outcome& out, const std::string& cursor) { stack.Read(out, cursor); });
  auto trace = std::make_shared<const TraceContext>(StartTrace(std::nullopt, std::nullopt, "w"));
  {
    ScopedTrace scope(trace);
    stack.Read(p3, "c3");
  }
  std::vector<std::shared_ptr<const TraceContext>> sent_with;
  stack.later.on_call = [&](const PageRequest& page) {
    if (page.cursor == "c3") sent_with.push_back(CurrentTrace());
  };
  fail_next_ = true;
  fail_code_ = absl::StatusCode::kDeadlineExceeded;
  EXPECT_EQ(fake_.Release(), 1);  // Page 3's read-ahead runs out; the waiter reads it itself.
  ASSERT_EQ(sent_with.size(), 1u);
  EXPECT_EQ(sent_with[0], trace);
  EXPECT_EQ(fake_.Release(), 1);
  EXPECT_EQ(p3.Ids(), "p3.r1.0,p3.r1.1");
}

TEST_F(ReadAheadTest, AWaitingCallerEndsAtItsOwnDeadline) {
  Outcome p3;
  HoldPageThreeReadAhead();
  api_->ListGroupConnections("g", "", PageRequest{2, "c3"}, kCachedReadOk,
                             timers_.Now() + absl::Seconds(2), p3.Into());
  timers_.Advance(absl::Seconds(1));
  EXPECT_FALSE(p3.result.has_value());
  timers_.Advance(absl::Seconds(1));
  ASSERT_TRUE(p3.result.has_value());
  EXPECT_EQ(p3.result->status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(fake_.cancelled(), 1) << "nobody waits for page 3 any more";
}

// The read-ahead's request has `timeout` (here 5 s); a caller waiting for
// it with more time left sends its own read when that runs out, and one
// with less gets the error; other errors reach every waiter.
TEST_F(ReadAheadTest, AWaitingCallerWithTimeLeftReadsAgainWhenTheReadAheadRunsOut) {
  ReadAheadOptions options;
  options.timeout = absl::Seconds(5);
  Build(options);
  Outcome p3;
  HoldPageThreeReadAhead();
  ASSERT_EQ(fake_.calls().back().deadline, timers_.Now() + absl::Seconds(5));
  Read(p3, "c3");  // 30 s to go.
  fail_next_ = true;
  fail_code_ = absl::StatusCode::kDeadlineExceeded;
  EXPECT_EQ(fake_.Release(), 1);  // Page 3's read-ahead runs out.
  EXPECT_FALSE(p3.result.has_value());
  ASSERT_EQ(Calls(), 4);
  EXPECT_EQ(LastDetail(), "limit=2 cursor=c3 schema=") << "sent again";
  EXPECT_EQ(fake_.calls().back().deadline, timers_.Now() + absl::Seconds(30));
  EXPECT_EQ(fake_.Release(), 1);
  EXPECT_EQ(p3.Ids(), "p3.r1.0,p3.r1.1");

  // Page 4 was read ahead when page 3 came; it fails otherwise.
  ASSERT_EQ(Calls(), 5);
  EXPECT_EQ(LastDetail(), "limit=2 cursor=c4 schema=");
  Outcome p4;
  Read(p4, "c4");
  fail_next_ = true;
  fail_code_ = absl::StatusCode::kUnavailable;
  EXPECT_EQ(fake_.Release(), 1);
  ASSERT_TRUE(p4.result.has_value());
  EXPECT_EQ(p4.result->status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Calls(), 5);
}

TEST_F(ReadAheadTest, ReadAheadsNeverChainWithoutACaller) {
  Outcome p1, p2;
  Read(p1, "");
  Read(p2, "c2");
  // Page 3's read-ahead came back with a next_cursor (its hint was called),
  // but no caller waits for page 3: page 4 is not read.
  absl::SleepFor(absl::Milliseconds(1));
  EXPECT_EQ(Calls(), 3);
  EXPECT_EQ(api_->stats().started, 1);
}

TEST_F(ReadAheadTest, ACallerJoiningAfterTheCursorWasSeenHasTheNextPageReadAheadAtOnce) {
  Outcome p3;
  HoldPageThreeReadAhead();
  // While page 3's answer is being read: its next_cursor is seen (the hint),
  // then the caller asks for page 3, then the page is answered.
  int started_by_the_join = -1;
  on_read_ = [&](const PageRequest& page) {
    if (page.cursor == "c3" && started_by_the_join < 0) {
      page.on_next_cursor("c4");
      const int before = Calls();
      Read(p3, "c3");
      started_by_the_join = Calls() - before;
    }
  };
  EXPECT_EQ(fake_.Release(), 1);
  EXPECT_EQ(started_by_the_join, 1) << "page 4 was read ahead when the caller joined";
  EXPECT_EQ(LastDetail(), "limit=2 cursor=c4 schema=");
  EXPECT_EQ(p3.Ids(), "p3.r1.0,p3.r1.1");
  EXPECT_EQ(Calls(), 4) << "and only once";
  EXPECT_EQ(api_->stats().skipped, 0);
}

TEST_F(ReadAheadTest, AJoinedCallerCancellingCancelsTheUpstreamRead) {
  HoldPageThreeReadAhead();
  Outcome p3;
  auto handle = Read(p3, "c3");
  EXPECT_EQ(fake_.held(), 1);
  handle->Cancel();
  ASSERT_TRUE(p3.result.has_value());
  EXPECT_EQ(p3.result->status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(fake_.cancelled(), 1) << "nobody waits for page 3 any more";
}

TEST_F(ReadAheadTest, AnswersAndHintsAfterTheDecoratorIsGoneReachOnlyTheCaller) {
  Outcome p3, p4;
  HoldPageThreeReadAhead();
  Read(p3, "c3");  // Joined to it.
  Read(p4, "c4");  // Its own read, held.
  api_.reset();
  EXPECT_EQ(fake_.Release(), 2) << "nothing read ahead by their answers or hints";
  EXPECT_EQ(p3.Ids(), "p3.r1.0,p3.r1.1");
  EXPECT_EQ(p4.Ids(), "p4.r1.0,p4.r1.1");
  EXPECT_EQ(fake_.held(), 0);
  EXPECT_EQ(Calls(), 4);
}

// The decorator is destroyed while an answer of its is on its way (here:
// from inside the budget check of the read-ahead that answer starts). The
// caller is still answered, and nothing is read ahead for it any more: no
// request that nobody would wait for or cancel. (Under ASan, this read the
// destroyed decorator's options and layer below.)
TEST_F(ReadAheadTest, ADecoratorDestroyedWhileAnsweringStartsNoMoreReadAheads) {
  Outcome p1, p2;
  Read(p1, "");
  fake_.set_hold(true);
  Read(p2, "c2");
  bool destroyed = false;
  budget_low_fn_ = [&] {
    if (!destroyed) {
      destroyed = true;
      api_.reset();
    }
    return false;
  };
  EXPECT_EQ(fake_.Release(), 1);
  EXPECT_TRUE(destroyed);
  EXPECT_EQ(p2.Ids(), "p2.r1.0,p2.r1.1");
  EXPECT_EQ(Calls(), 2) << "page 3 was not read ahead";
  EXPECT_EQ(fake_.held(), 0);
}

TEST_F(ReadAheadTest, AFreshReadNeverTakesAKeptPage) {
  Outcome p1, p2, p3;
  Read(p1, "");
  Read(p2, "c2");
  Read(p3, "c3", kFreshRead);
  EXPECT_EQ(p3.Ids(), "p3.r2.0,p3.r2.1") << "read again from Fivetran";
  EXPECT_EQ(p3.info.cache, UpstreamInfo::Cache::kNone);
  EXPECT_EQ(api_->stats().unused, 1);
  // The page after a fresh read is read ahead fresh.
  EXPECT_EQ(LastDetail(), "limit=2 cursor=c4 schema=");
  EXPECT_TRUE(fake_.calls().back().fresh);
}

TEST_F(ReadAheadTest, AKeptPageNobodyTakesIsDroppedAfterKeep) {
  Outcome p1, p2;
  Read(p1, "");
  Read(p2, "c2");
  timers_.Advance(absl::Seconds(10) - absl::Milliseconds(1));
  Outcome early;
  Read(early, "c3", kCachedReadOk, "");
  EXPECT_EQ(early.info.cache, UpstreamInfo::Cache::kReadAhead);

  // Page 4 was read ahead when page 3 was taken; leave it.
  timers_.Advance(absl::Seconds(10));
  Outcome late;
  Read(late, "c4");
  EXPECT_EQ(late.Ids(), "p4.r2.0,p4.r2.1");
  EXPECT_EQ(api_->stats().unused, 1);
}

TEST_F(ReadAheadTest, CreatesAndSyncsDropWhatWasReadAhead) {
  fake_.trigger_sync = [](const std::string&, bool) -> absl::StatusOr<SyncTriggered> {
    return SyncTriggered{"ok"};
  };
  Outcome p1, p2;
  Read(p1, "");
  Read(p2, "c2");
  api_->TriggerSync("any", false, timers_.Now() + absl::Seconds(5),
                    [](absl::StatusOr<SyncTriggered>, const UpstreamInfo&) {});
  Outcome p3;
  Read(p3, "c3");
  EXPECT_EQ(p3.Ids(), "p3.r2.0,p3.r2.1") << "a sync changes the status the listing shows";

  // Page 4 is now read ahead; a create drops it too, in flight or kept.
  fake_.create_connection = [](const nlohmann::json&) -> absl::StatusOr<v1::Connection> {
    return absl::UnavailableError("down");
  };
  absl::StatusOr<NewConnection> body = NewPostgresConnection();
  ASSERT_TRUE(body.ok()) << body.status();
  api_->CreateConnection(*body, timers_.Now() + absl::Seconds(5),
                         [](absl::StatusOr<v1::Connection>, const UpstreamInfo&) {});
  Outcome p4;
  Read(p4, "c4");
  EXPECT_EQ(p4.Ids(), "p4.r2.0,p4.r2.1");
  EXPECT_EQ(api_->stats().unused, 2);
}

// A page read ahead while a create or sync is still in flight upstream may
// predate the change: it is dropped when the change is answered too.
TEST_F(ReadAheadTest, PagesReadAheadWhileAChangeIsInFlightAreDroppedWhenItIsAnswered) {
  Outcome p1, p2, p3, p4;
  Read(p1, "");
  Read(p2, "c2");  // Page 3 read ahead and kept.
  // While the create is in Fivetran's hands, the caller reads page 3 (the
  // create dropped its kept copy) and page 4 is read ahead, answered before
  // the create is.
  fake_.create_connection = [&](const nlohmann::json&) -> absl::StatusOr<v1::Connection> {
    Read(p3, "c3");
    v1::Connection created;
    created.set_id("new");
    created.set_group_id("g");
    return created;
  };
  absl::StatusOr<NewConnection> body = NewPostgresConnection();
  ASSERT_TRUE(body.ok()) << body.status();
  bool created = false;
  api_->CreateConnection(
      *body, timers_.Now() + absl::Seconds(5),
      [&](absl::StatusOr<v1::Connection> c, const UpstreamInfo&) { created = c.ok(); });
  ASSERT_TRUE(created);
  EXPECT_EQ(p3.Ids(), "p3.r2.0,p3.r2.1");
  Read(p4, "c4");
  EXPECT_EQ(p4.Ids(), "p4.r2.0,p4.r2.1") << "page 4 was read before the create was answered";
  EXPECT_EQ(p4.info.cache, UpstreamInfo::Cache::kNone);

  // The same for a sync (page 5 read ahead while it is in flight).
  Outcome p5;
  fake_.trigger_sync = [&](const std::string&, bool) -> absl::StatusOr<SyncTriggered> {
    Outcome again;
    Read(again, "c4");  // Page 5 read ahead.
    return SyncTriggered{"ok"};
  };
  api_->TriggerSync("any", false, timers_.Now() + absl::Seconds(5),
                    [](absl::StatusOr<SyncTriggered>, const UpstreamInfo&) {});
  Read(p5, "c5");
  EXPECT_EQ(p5.info.cache, UpstreamInfo::Cache::kNone)
      << "page 5 was read before the sync was answered";
}

TEST_F(ReadAheadTest, InFlightReadAheadsAreCancelledWhenDropped) {
  HoldPageThreeReadAhead();
  EXPECT_EQ(fake_.held(), 1);  // Page 3's read-ahead.
  fake_.trigger_sync = [](const std::string&, bool) -> absl::StatusOr<SyncTriggered> {
    return SyncTriggered{"ok"};
  };
  api_->TriggerSync("any", false, timers_.Now() + absl::Seconds(5),
                    [](absl::StatusOr<SyncTriggered>, const UpstreamInfo&) {});
  EXPECT_EQ(fake_.cancelled(), 1);
}

TEST_F(ReadAheadTest, NoReadAheadWhileTheBudgetIsUnderItsReserve) {
  budget_low_ = true;
  Outcome p1, p2, p3;
  Read(p1, "");
  Read(p2, "c2");
  EXPECT_EQ(Calls(), 2);
  EXPECT_EQ(api_->stats().skipped, 1);
  budget_low_ = false;
  Read(p3, "c3");
  EXPECT_EQ(p3.info.cache, UpstreamInfo::Cache::kNone);
  EXPECT_EQ(Calls(), 4) << "page 3 read, page 4 read ahead again";
}

TEST_F(ReadAheadTest, AFailedReadAheadIsNotKept) {
  Outcome p3;
  HoldPageThreeReadAhead();
  fail_next_ = true;
  EXPECT_EQ(fake_.Release(), 1);  // The read-ahead fails.
  fake_.set_hold(false);
  EXPECT_EQ(api_->stats().unused, 1);
  Read(p3, "c3");
  EXPECT_EQ(p3.Ids(), "p3.r1.0,p3.r1.1") << "read by the caller, not the kept error";
}

// With the read cache (--read_cache_ttl, below coalescing as in the
// gateway), a read-ahead may be answered from it: the age a caller sees is
// how long ago Fivetran was read, not how long ago the read-ahead was.
TEST_F(ReadAheadTest, APageReadAheadFromTheReadCacheSaysHowOldItIs) {
  ReadCacheOptions cache_options;
  cache_options.ttl = absl::Minutes(1);
  CachingFivetranApi cache(&fake_, &timers_, cache_options);
  CoalescingFivetranApi coalescing(&cache, &timers_);
  ReadAheadFivetranApi api(&coalescing, &timers_, ReadAheadOptions{});
  auto read = [&](Outcome& out, const std::string& cursor) {
    api.ListGroupConnections("g", "", PageRequest{2, cursor}, kCachedReadOk,
                             timers_.Now() + absl::Seconds(30), out.Into());
  };
  Outcome p2, p3;
  read(p2, "c2");  // Page 3 read ahead, and kept by the read cache too.
  read(p3, "c3");
  EXPECT_EQ(p3.info.cache, UpstreamInfo::Cache::kReadAhead);

  timers_.Advance(absl::Seconds(20));
  Outcome p2_again, p3_again;
  read(p2_again, "c2");  // From the read cache; page 3 read ahead from it as well.
  EXPECT_EQ(p2_again.info.cache, UpstreamInfo::Cache::kHit);
  EXPECT_EQ(p2_again.info.cache_age, absl::Seconds(20));
  timers_.Advance(absl::Seconds(1));
  read(p3_again, "c3");
  EXPECT_EQ(p3_again.Ids(), "p3.r1.0,p3.r1.1") << "the answer read 21 s ago";
  EXPECT_EQ(p3_again.info.cache, UpstreamInfo::Cache::kReadAhead);
  EXPECT_EQ(p3_again.info.cache_age, absl::Seconds(21));
}

TEST_F(ReadAheadTest, ListingsAreKeptApartAndBounded) {
  ReadAheadOptions options;
  options.max_pages = 2;
  Build(options);
  // Three listings (schema filters) paging at once: the third one's
  // read-ahead is skipped.
  for (const std::string schema : {"a", "b", "c"}) {
    Outcome first, second;
    Read(first, "", kCachedReadOk, schema);
    Read(second, "c2", kCachedReadOk, schema);
  }
  EXPECT_EQ(api_->stats().started, 2);
  EXPECT_EQ(api_->stats().skipped, 1);
  Outcome b3, c3;
  Read(b3, "c3", kCachedReadOk, "b");
  EXPECT_EQ(b3.Ids(), "bp3.r1.0,bp3.r1.1");
  EXPECT_EQ(b3.info.cache, UpstreamInfo::Cache::kReadAhead);
  Read(c3, "c3", kCachedReadOk, "c");
  EXPECT_EQ(c3.info.cache, UpstreamInfo::Cache::kNone);
}

// Pagers of the same and of other listings on several threads, fresh reads
// and syncs among them: every read-ahead started is counted once, used or
// unused, and every caller gets the page it asked for.
TEST_F(ReadAheadTest, ConcurrentPagersAndChangesCountEachReadAheadOnce) {
  ReadAheadOptions options;
  options.max_pages = 3;
  Build(options);
  fake_.list_group_connections =
      [](const std::string& group, const std::string& schema,
         const PageRequest& page) -> absl::StatusOr<Page<v1::Connection>> {
    const int n = page.cursor.empty() ? 1 : std::stoi(page.cursor.substr(1));
    Page<v1::Connection> out;
    out.items.emplace_back().set_id(absl::StrCat(group, "/", schema, "/", page.limit, "/", n));
    if (n < 6) out.next_cursor = absl::StrCat("c", n + 1);
    return out;
  };
  fake_.trigger_sync = [](const std::string&, bool) -> absl::StatusOr<SyncTriggered> {
    return SyncTriggered{"ok"};
  };
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 150; ++round) {
        const std::string schema = (round + t) % 3 == 0 ? "a" : "b";
        const int limit = 1 + (round + t) % 2;
        for (int n = 2; n <= 6; ++n) {
          ReadOptions read = (round * 7 + n + t) % 11 == 0 ? kFreshRead : kCachedReadOk;
          // Answered here or, joined to another thread's read, there.
          auto got = std::make_shared<std::promise<std::string>>();
          api_->ListGroupConnections(
              "g", schema, PageRequest{limit, absl::StrCat("c", n)}, read,
              timers_.Now() + absl::Seconds(30),
              [got](absl::StatusOr<Page<SerializedConnection>> page, const UpstreamInfo&) {
                got->set_value(page.ok() ? page->items[0].Parse().id()
                                         : std::string(page.status().message()));
              });
          const std::string id = got->get_future().get();
          if (id != absl::StrCat("g/", schema, "/", limit, "/", n)) {
            ADD_FAILURE() << id;
            ++wrong;
          }
        }
        if (t == 3 && round % 10 == 0) {
          api_->TriggerSync("any", false, timers_.Now() + absl::Seconds(5),
                            [](absl::StatusOr<SyncTriggered>, const UpstreamInfo&) {});
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
  timers_.Advance(absl::Seconds(11));  // Whatever is still kept expires.
  const ReadAheadStats stats = api_->stats();
  EXPECT_GT(stats.started, 0);
  EXPECT_EQ(stats.started, stats.used + stats.unused)
      << "used " << stats.used << " unused " << stats.unused << " skipped " << stats.skipped;
}

TEST_F(ReadAheadTest, OtherListingsAreReadAheadToo) {
  int group_reads = 0;
  fake_.list_groups = [&](const PageRequest& page) -> absl::StatusOr<Page<v1::Group>> {
    ++group_reads;
    Page<v1::Group> out;
    out.items.emplace_back().set_id(page.cursor.empty() ? "g1" : "g_" + page.cursor);
    out.next_cursor = page.cursor.empty() ? "x" : page.cursor + "x";
    return out;
  };
  std::vector<std::string> seen;
  std::string cursor;
  for (int i = 0; i < 4; ++i) {
    api_->ListGroups(PageRequest{1, cursor}, kCachedReadOk, timers_.Now() + absl::Seconds(5),
                     [&](absl::StatusOr<Page<v1::Group>> page, const UpstreamInfo&) {
                       ASSERT_TRUE(page.ok());
                       seen.push_back(page->items[0].id());
                       cursor = page->next_cursor;
                     });
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"g1", "g_x", "g_xx", "g_xxx"}));
  EXPECT_EQ(group_reads, 5) << "four pages and the read-ahead of the fifth";

  int user_reads = 0;
  fake_.list_users = [&](std::optional<bool> active,
                         const PageRequest& page) -> absl::StatusOr<Page<v1::User>> {
    ++user_reads;
    Page<v1::User> out;
    out.items.emplace_back().set_id(absl::StrCat(active.value_or(false) ? "t" : "f", page.cursor));
    out.next_cursor = page.cursor + "x";
    return out;
  };
  for (std::optional<bool> active : {std::optional<bool>(true), std::optional<bool>()}) {
    api_->ListUsers(active, PageRequest{1, "x"}, kCachedReadOk, timers_.Now() + absl::Seconds(5),
                    [](absl::StatusOr<Page<v1::User>>, const UpstreamInfo&) {});
  }
  EXPECT_EQ(user_reads, 4) << "each filter its own listing: two pages, two read-aheads";
  std::string id;
  api_->ListUsers(std::nullopt, PageRequest{1, "xx"}, kCachedReadOk,
                  timers_.Now() + absl::Seconds(5),
                  [&](absl::StatusOr<Page<v1::User>> page, const UpstreamInfo& info) {
                    id = page->items[0].id();
                    EXPECT_EQ(info.cache, UpstreamInfo::Cache::kReadAhead);
                  });
  EXPECT_EQ(id, "fxx");
}

}  // namespace
}  // namespace fivetran_gateway::fivetran
