// FakeFivetranApi (testonly): a FivetranApi whose answers a test sets per
// operation, recording every call. Answers are delivered inside the call,
// unless held (set_hold), then when the test releases them, so tests can
// cancel or time out a call in flight. A listing's next-cursor hint
// (PageRequest::on_next_cursor) is called just before its answer.
#ifndef FIVETRAN_GATEWAY_SERVER_FIVETRAN_FAKE_API_H_
#define FIVETRAN_GATEWAY_SERVER_FIVETRAN_FAKE_API_H_

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "server/fivetran/fivetran_api.h"

namespace fivetran_gateway::fivetran {

class FakeFivetranApi final : public FivetranApi {
 public:
  // One call as the API saw it.
  struct Call {
    std::string operation;  // "GetConnection", "GetSerializedConnection", "CreateConnection",
                            // "TriggerSync", "ListGroups", "ListGroupConnections",
                            // "ListUsers".
    std::string target;     // Connection or group id; "" for the others.
    // Operation details: "force=true"; "limit=100 cursor=c schema=s"; "active=false";
    // the JSON body of a create.
    std::string detail;
    absl::Time deadline;
    bool fresh = false;  // A read asked for with ReadOptions::fresh.
  };

  // The answers. An unset one answers UNIMPLEMENTED.
  std::function<absl::StatusOr<v1::Connection>(const std::string& connection_id)> get_connection;
  // GetSerializedConnection's answer, as given (operation
  // "GetSerializedConnection"); unset: get_connection's, serialized (and the
  // call is recorded as "GetConnection").
  std::function<absl::StatusOr<SerializedConnection>(const std::string& connection_id)>
      get_serialized_connection;
  std::function<absl::StatusOr<v1::Connection>(const nlohmann::json& body)> create_connection;
  std::function<absl::StatusOr<SyncTriggered>(const std::string& connection_id, bool force)>
      trigger_sync;
  std::function<absl::StatusOr<Page<v1::Group>>(const PageRequest& page)> list_groups;
  // Answers as messages; the fake serializes them (SerializedConnection).
  std::function<absl::StatusOr<Page<v1::Connection>>(
      const std::string& group_id, const std::string& schema, const PageRequest& page)>
      list_group_connections;
  std::function<absl::StatusOr<Page<v1::User>>(std::optional<bool> active, const PageRequest& page)>
      list_users;
  // What every answer reports about the upstream exchange.
  UpstreamInfo upstream{200, "1.1", 1};
  // Called with the operation's name after an answer delivered inside the
  // call (not held), before the call returns: lets a test act in between,
  // e.g. let the RPC that the answer ended finish first.
  std::function<void(const std::string& operation)> after_inline_answer;

  // While held, answers wait for Release(); a cancelled call is answered
  // CANCELLED at once.
  void set_hold(bool hold);
  // Delivers every held answer; returns how many.
  int Release();
  int held() const;
  std::vector<Call> calls() const;
  int cancelled() const;

  std::shared_ptr<Cancellable> GetConnection(const std::string& connection_id, ReadOptions read,
                                             absl::Time deadline,
                                             ApiCallback<v1::Connection> done) override;
  std::shared_ptr<Cancellable> GetSerializedConnection(
      const std::string& connection_id, ReadOptions read, absl::Time deadline,
      ApiCallback<SerializedConnection> done) override;
  std::shared_ptr<Cancellable> CreateConnection(const NewConnection& connection,
                                                absl::Time deadline,
                                                ApiCallback<v1::Connection> done) override;
  std::shared_ptr<Cancellable> TriggerSync(const std::string& connection_id, bool force,
                                           absl::Time deadline,
                                           ApiCallback<SyncTriggered> done) override;
  std::shared_ptr<Cancellable> ListGroups(const PageRequest& page, ReadOptions read,
                                          absl::Time deadline,
                                          ApiCallback<Page<v1::Group>> done) override;
  std::shared_ptr<Cancellable> ListGroupConnections(
      const std::string& group_id, const std::string& schema, const PageRequest& page,
      ReadOptions read, absl::Time deadline, ApiCallback<Page<SerializedConnection>> done) override;
  std::shared_ptr<Cancellable> ListUsers(std::optional<bool> active, const PageRequest& page,
                                         ReadOptions read, absl::Time deadline,
                                         ApiCallback<Page<v1::User>> done) override;

 private:
  class Pending;
  // Records `call`; `answer` computes and delivers the result.
  std::shared_ptr<Cancellable> Start(Call call, std::function<void(const UpstreamInfo&)> answer,
                                     std::function<void(const UpstreamInfo&)> cancelled);

  mutable absl::Mutex mu_;
  bool hold_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<std::shared_ptr<Pending>> held_ ABSL_GUARDED_BY(mu_);
  std::vector<Call> calls_ ABSL_GUARDED_BY(mu_);
  int cancelled_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace fivetran_gateway::fivetran

#endif  // FIVETRAN_GATEWAY_SERVER_FIVETRAN_FAKE_API_H_
