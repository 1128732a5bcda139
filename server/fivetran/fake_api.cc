#include "server/fivetran/fake_api.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/status.h"

namespace fivetran_gateway::fivetran {

// A call whose answer is delivered once: by Deliver() or, first, Cancel().
class FakeFivetranApi::Pending final : public Cancellable {
 public:
  Pending(FakeFivetranApi* api, std::function<void(const UpstreamInfo&)> answer,
          std::function<void(const UpstreamInfo&)> cancelled, UpstreamInfo upstream)
      : api_(api),
        answer_(std::move(answer)),
        cancelled_(std::move(cancelled)),
        upstream_(std::move(upstream)) {}

  void Deliver() {
    if (Take()) answer_(upstream_);
  }
  void Cancel() override {
    if (!Take()) return;
    {
      absl::MutexLock lock(&api_->mu_);
      ++api_->cancelled_;
    }
    UpstreamInfo none;
    none.attempts = upstream_.attempts;
    cancelled_(none);
  }

 private:
  bool Take() {
    absl::MutexLock lock(&mu_);
    if (done_) return false;
    done_ = true;
    return true;
  }
  FakeFivetranApi* const api_;
  const std::function<void(const UpstreamInfo&)> answer_;
  const std::function<void(const UpstreamInfo&)> cancelled_;
  const UpstreamInfo upstream_;
  absl::Mutex mu_;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
};

namespace {

absl::Status Unanswered(const std::string& operation) {
  return absl::UnimplementedError(absl::StrCat("FakeFivetranApi: no answer set for ", operation));
}

absl::Status CancelledByCaller() {
  return MakeError(absl::StatusCode::kCancelled, "cancelled by the caller", "CANCELLED");
}

std::string PageDetail(const PageRequest& page) {
  return absl::StrCat("limit=", page.limit, " cursor=", page.cursor);
}

// The pair of delivery functions of one call: the answer computed by `fn`
// (or UNIMPLEMENTED without one), or CANCELLED.
template <typename T, typename Fn>
std::pair<std::function<void(const UpstreamInfo&)>, std::function<void(const UpstreamInfo&)>>
Answers(const std::string& operation, Fn fn, ApiCallback<T> done) {
  auto shared = std::make_shared<ApiCallback<T>>(std::move(done));
  auto answer = [operation, fn = std::move(fn), shared](const UpstreamInfo& info) {
    absl::StatusOr<T> result = fn ? fn() : absl::StatusOr<T>(Unanswered(operation));
    (*shared)(std::move(result), info);
  };
  auto cancelled = [shared](const UpstreamInfo& info) { (*shared)(CancelledByCaller(), info); };
  return {answer, cancelled};
}

// `read`, then the page's hint (PageRequest::on_next_cursor) with its
// next_cursor before the answer is delivered, as RestFivetranApi does.
template <typename Read>
auto Hinting(const PageRequest& page, Read read) {
  return [hint = page.on_next_cursor, read = std::move(read)] {
    auto result = read();
    if (hint && result.ok() && !result->next_cursor.empty()) hint(result->next_cursor);
    return result;
  };
}

}  // namespace

void FakeFivetranApi::set_hold(bool hold) {
  absl::MutexLock lock(&mu_);
  hold_ = hold;
}

int FakeFivetranApi::Release() {
  std::deque<std::shared_ptr<Pending>> held;
  {
    absl::MutexLock lock(&mu_);
    held.swap(held_);
  }
  for (const auto& p : held) p->Deliver();
  return static_cast<int>(held.size());
}

int FakeFivetranApi::held() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(held_.size());
}

std::vector<FakeFivetranApi::Call> FakeFivetranApi::calls() const {
  absl::MutexLock lock(&mu_);
  return calls_;
}

int FakeFivetranApi::cancelled() const {
  absl::MutexLock lock(&mu_);
  return cancelled_;
}

std::shared_ptr<Cancellable> FakeFivetranApi::Start(
    Call call, std::function<void(const UpstreamInfo&)> answer,
    std::function<void(const UpstreamInfo&)> cancelled) {
  bool hold = false;
  std::shared_ptr<Pending> pending;
  const std::string operation = call.operation;
  {
    absl::MutexLock lock(&mu_);
    calls_.push_back(std::move(call));
    pending = std::make_shared<Pending>(this, std::move(answer), std::move(cancelled), upstream);
    hold = hold_;
    if (hold) held_.push_back(pending);
  }
  if (!hold) {
    pending->Deliver();
    if (after_inline_answer) after_inline_answer(operation);
  }
  return pending;
}

std::shared_ptr<Cancellable> FakeFivetranApi::GetConnection(const std::string& connection_id,
                                                            ReadOptions read, absl::Time deadline,
                                                            ApiCallback<v1::Connection> done) {
  std::function<absl::StatusOr<v1::Connection>()> fn;
  if (get_connection) fn = [f = get_connection, connection_id] { return f(connection_id); };
  auto [answer, cancelled] = Answers<v1::Connection>("GetConnection", fn, std::move(done));
  return Start({"GetConnection", connection_id, "", deadline, read.fresh}, answer, cancelled);
}

std::shared_ptr<Cancellable> FakeFivetranApi::GetSerializedConnection(
    const std::string& connection_id, ReadOptions read, absl::Time deadline,
    ApiCallback<SerializedConnection> done) {
  if (!get_serialized_connection) {
    return FivetranApi::GetSerializedConnection(connection_id, read, deadline, std::move(done));
  }
  std::function<absl::StatusOr<SerializedConnection>()> fn =
      [f = get_serialized_connection, connection_id] { return f(connection_id); };
  auto [answer, cancelled] =
      Answers<SerializedConnection>("GetSerializedConnection", fn, std::move(done));
  return Start({"GetSerializedConnection", connection_id, "", deadline, read.fresh}, answer,
               cancelled);
}

std::shared_ptr<Cancellable> FakeFivetranApi::CreateConnection(const NewConnection& connection,
                                                               absl::Time deadline,
                                                               ApiCallback<v1::Connection> done) {
  std::function<absl::StatusOr<v1::Connection>()> fn;
  if (create_connection) {
    fn = [f = create_connection, body = connection.body()] { return f(body); };
  }
  auto [answer, cancelled] = Answers<v1::Connection>("CreateConnection", fn, std::move(done));
  return Start({"CreateConnection", "", connection.body().dump(), deadline}, answer, cancelled);
}

std::shared_ptr<Cancellable> FakeFivetranApi::TriggerSync(const std::string& connection_id,
                                                          bool force, absl::Time deadline,
                                                          ApiCallback<SyncTriggered> done) {
  std::function<absl::StatusOr<SyncTriggered>()> fn;
  if (trigger_sync)
    fn = [f = trigger_sync, connection_id, force] { return f(connection_id, force); };
  auto [answer, cancelled] = Answers<SyncTriggered>("TriggerSync", fn, std::move(done));
  return Start({"TriggerSync", connection_id, force ? "force=true" : "force=false", deadline},
               answer, cancelled);
}

std::shared_ptr<Cancellable> FakeFivetranApi::ListGroups(const PageRequest& page, ReadOptions read,
                                                         absl::Time deadline,
                                                         ApiCallback<Page<v1::Group>> done) {
  std::function<absl::StatusOr<Page<v1::Group>>()> fn;
  if (list_groups) fn = Hinting(page, [f = list_groups, page] { return f(page); });
  auto [answer, cancelled] = Answers<Page<v1::Group>>("ListGroups", fn, std::move(done));
  return Start({"ListGroups", "", PageDetail(page), deadline, read.fresh}, answer, cancelled);
}

std::shared_ptr<Cancellable> FakeFivetranApi::ListGroupConnections(
    const std::string& group_id, const std::string& schema, const PageRequest& page,
    ReadOptions read, absl::Time deadline, ApiCallback<Page<SerializedConnection>> done) {
  std::function<absl::StatusOr<Page<SerializedConnection>>()> fn;
  if (list_group_connections) {
    fn = Hinting(page,
                 [f = list_group_connections, group_id, schema,
                  page]() -> absl::StatusOr<Page<SerializedConnection>> {
                   absl::StatusOr<Page<v1::Connection>> answer = f(group_id, schema, page);
                   if (!answer.ok()) return answer.status();
                   Page<SerializedConnection> out;
                   for (const v1::Connection& c : answer->items) {
                     out.items.push_back(SerializedConnection::Of(c));
                   }
                   out.next_cursor = std::move(answer->next_cursor);
                   return out;
                 });
  }
  auto [answer, cancelled] =
      Answers<Page<SerializedConnection>>("ListGroupConnections", fn, std::move(done));
  return Start({"ListGroupConnections", group_id,
                absl::StrCat(PageDetail(page), " schema=", schema), deadline, read.fresh},
               answer, cancelled);
}

std::shared_ptr<Cancellable> FakeFivetranApi::ListUsers(std::optional<bool> active,
                                                        const PageRequest& page, ReadOptions read,
                                                        absl::Time deadline,
                                                        ApiCallback<Page<v1::User>> done) {
  std::function<absl::StatusOr<Page<v1::User>>()> fn;
  if (list_users) fn = Hinting(page, [f = list_users, active, page] { return f(active, page); });
  auto [answer, cancelled] = Answers<Page<v1::User>>("ListUsers", fn, std::move(done));
  std::string detail = PageDetail(page);
  if (active.has_value()) absl::StrAppend(&detail, " active=", *active ? "true" : "false");
  return Start({"ListUsers", "", detail, deadline, read.fresh}, answer, cancelled);
}

}  // namespace fivetran_gateway::fivetran
