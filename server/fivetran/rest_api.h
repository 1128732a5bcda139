// RestFivetranApi: FivetranApi over Fivetran's REST API v1. The only code
// that knows Fivetran's paths, query parameters, envelopes and response
// shapes; FivetranClient below it adds auth, headers, retries and the HTTP
// error mapping.
#ifndef FIVETRAN_GATEWAY_SERVER_FIVETRAN_REST_API_H_
#define FIVETRAN_GATEWAY_SERVER_FIVETRAN_REST_API_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "server/fivetran/client.h"
#include "server/fivetran/fivetran_api.h"

namespace fivetran_gateway::fivetran {

// Reads are always sent (ReadOptions are ignored: nothing is kept here).
class RestFivetranApi final : public FivetranApi {
 public:
  // `client` must outlive this object and its calls.
  explicit RestFivetranApi(FivetranClient* client) : client_(client) {}

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
  FivetranClient* const client_;
};

// Percent-encodes everything but RFC 3986 unreserved characters, for a path
// segment or a query value.
std::string UrlEncode(absl::string_view text);

}  // namespace fivetran_gateway::fivetran

#endif  // FIVETRAN_GATEWAY_SERVER_FIVETRAN_REST_API_H_
