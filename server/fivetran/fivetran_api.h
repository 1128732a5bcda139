// FivetranApi: the Fivetran REST operations the gateway uses, typed.
//
// One method per REST operation. Arguments are typed (ids, filters, a
// validated create body); results are the mapped protos or small structs,
// delivered once through a callback together with what is known of the
// upstream exchange. Implementations never block the calling thread.
//
//   the gRPC services (server/services.cc, server/sync_watch.cc)
//         |  FivetranApi
//   [decorators: coalescing, cache, rate-limit budget ... wrap the interface]
//         |
//   RestFivetranApi (rest_api.h): paths, query parameters, envelopes
//         |  FivetranClient (client.h): auth, headers, retries, error mapping
//   HttpTransport (http_transport.h): libcurl multi event loop
//
// Only RestFivetranApi knows Fivetran's paths and response shapes. Errors
// are absl::Status built with server/common/status.h (ErrorInfo with
// fivetran_code, http_status, upstream_method, upstream_path, outcome ...;
// README "Errors" has the HTTP -> gRPC code table).
#ifndef FIVETRAN_GATEWAY_SERVER_FIVETRAN_FIVETRAN_API_H_
#define FIVETRAN_GATEWAY_SERVER_FIVETRAN_FIVETRAN_API_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "fivetran/gateway/v1/connection.pb.h"
#include "fivetran/gateway/v1/connection_service.pb.h"
#include "fivetran/gateway/v1/group.pb.h"
#include "fivetran/gateway/v1/user.pb.h"
#include "google/protobuf/io/coded_stream.h"
#include "nlohmann/json.hpp"
#include "server/common/cancel.h"
#include "server/fivetran/upstream_info.h"

namespace fivetran_gateway::fivetran {

namespace v1 = ::fivetran::gateway::v1;

// A result and what is known of the upstream exchange that produced it.
// Runs exactly once, on a transport or timer thread (or, for a fake or a
// decorator that answers at once, inside the call). Must not block.
template <typename T>
using ApiCallback = std::function<void(absl::StatusOr<T> result, const UpstreamInfo& upstream)>;

// Called with the next_cursor of a listing's answer as soon as it is seen.
using NextCursorHint = std::function<void(const std::string& next_cursor)>;

// Which page of a listing: `limit` items (1..1000) after `cursor` ("" = the
// first page).
struct PageRequest {
  int limit = 100;
  std::string cursor;
  // Optional, for the read-ahead (read_ahead_api.h): called at most once, on
  // the transport thread, with the answer's next_cursor once the body is
  // parsed and before its items are mapped; never for a last page or an
  // error. A hint only: the page's own next_cursor is the truth (the body
  // may still turn out bad). Not part of which page is read: decorators
  // pass it on, and a read that joins another's request gets no call.
  NextCursorHint on_next_cursor;
};

// One page of a listing, mapped. `next_cursor` is "" on the last page; never
// equal to the request's cursor (such a page is FIVETRAN_BAD_RESPONSE).
template <typename T>
struct Page {
  std::vector<T> items;
  std::string next_cursor;
};

// A v1::Connection in protobuf wire form: its serialization. Listings carry
// connections this way: the connection page reader writes them from
// Fivetran's JSON (connection_page_reader.h) and the ListGroupConnections RPC
// copies the bytes into its response, so no v1::Connection object is built
// and freed for a listed connection.
struct SerializedConnection {
  std::string bytes;

  static SerializedConnection Of(const v1::Connection& connection) {
    SerializedConnection out;
    connection.SerializeToString(&out.bytes);
    return out;
  }
  // Parses wire bytes into `*out`; false when they are not a whole
  // v1::Connection. The gateway's own bytes stay under protobuf's default
  // nesting limit of 100 (wire::kMaxReturnedValueDepth); this reader allows
  // 400, so that bytes from elsewhere (a test's) are judged by their
  // content, not their depth.
  static bool ParseInto(absl::string_view bytes, v1::Connection* out) {
    google::protobuf::io::CodedInputStream input(reinterpret_cast<const uint8_t*>(bytes.data()),
                                                 static_cast<int>(bytes.size()));
    input.SetRecursionLimit(kMaxParseDepth);
    return out->ParseFromCodedStream(&input) && input.ConsumedEntireMessage();
  }
  static constexpr int kMaxParseDepth = 400;
  // The message, for a reader of the bytes that needs its fields (tests, the
  // rare caller). Bytes this layer wrote always parse.
  v1::Connection Parse() const {
    v1::Connection out;
    ParseInto(bytes, &out);
    return out;
  }
  // The serialized size, as the read cache counts a page's bytes.
  size_t ByteSizeLong() const { return bytes.size(); }
};

// A GetConnection callback for a read answered in wire form
// (FivetranApi::GetSerializedConnection): `done` gets the answer parsed into
// the message, and errors as they came. Bytes that do not parse (not
// expected: every layer writes whole messages) are FIVETRAN_BAD_RESPONSE.
ApiCallback<SerializedConnection> ParsedInto(ApiCallback<v1::Connection> done);

// The body of POST /v1/connections, validated: built only from a create
// request, so a NewConnection in hand is one Fivetran can be sent.
class NewConnection {
 public:
  // INVALID_ARGUMENT with a BadRequest naming the field (reason
  // MISSING_FIELD or INVALID_FIELD) when the request is not valid;
  // request_bodies.h lists the rules.
  static absl::StatusOr<NewConnection> From(const v1::CreateConnectionRequest& request);
  static absl::StatusOr<NewConnection> From(const v1::CreateFtpConnectionRequest& request);

  // The JSON body; secret members (password, keys ...) as given.
  const nlohmann::json& body() const { return body_; }

 private:
  explicit NewConnection(nlohmann::json body) : body_(std::move(body)) {}
  nlohmann::json body_;
};

// How a read may be answered. A decorator that keeps results (the read
// cache, cached_api.h) answers a `fresh` read only from Fivetran; the others
// pass it on. The sync watcher's reads are always fresh (they exist to see
// the current state), and a caller asks for one with `cache-control:
// no-cache`.
struct ReadOptions {
  bool fresh = false;
};
inline constexpr ReadOptions kCachedReadOk{false};
inline constexpr ReadOptions kFreshRead{true};

// Fivetran's answer to POST /v1/connections/{id}/sync.
struct SyncTriggered {
  std::string message;  // e.g. "Sync has been successfully triggered for connection with id ..."
};

class FivetranApi {
 public:
  virtual ~FivetranApi() = default;

  // GET /v1/connections/{connection_id}. NOT_FOUND for an unknown id.
  virtual std::shared_ptr<Cancellable> GetConnection(const std::string& connection_id,
                                                     ReadOptions read, absl::Time deadline,
                                                     ApiCallback<v1::Connection> done) = 0;

  // The same read, answered in wire form, for a caller that only sends the
  // connection on (the GetConnection RPC): a layer that reads Fivetran's
  // JSON writes the bytes without building the message, and a layer that
  // shares reads shares them with GetConnection's. Same errors and
  // UpstreamInfo. By default, GetConnection's message, serialized.
  virtual std::shared_ptr<Cancellable> GetSerializedConnection(
      const std::string& connection_id, ReadOptions read, absl::Time deadline,
      ApiCallback<SerializedConnection> done) {
    return GetConnection(connection_id, read, deadline,
                         [done = std::move(done)](absl::StatusOr<v1::Connection> connection,
                                                  const UpstreamInfo& upstream) {
                           if (!connection.ok()) return done(connection.status(), upstream);
                           done(SerializedConnection::Of(*connection), upstream);
                         });
  }

  // POST /v1/connections (runs Fivetran's setup tests unless the request
  // said not to). Sent again only when it provably never reached Fivetran
  // or was refused with 429. A 2xx whose connection cannot be read is
  // FIVETRAN_BAD_RESPONSE with metadata outcome=applied (and connection_id
  // when known).
  virtual std::shared_ptr<Cancellable> CreateConnection(const NewConnection& connection,
                                                        absl::Time deadline,
                                                        ApiCallback<v1::Connection> done) = 0;

  // POST /v1/connections/{connection_id}/sync with {"force": force}.
  virtual std::shared_ptr<Cancellable> TriggerSync(const std::string& connection_id, bool force,
                                                   absl::Time deadline,
                                                   ApiCallback<SyncTriggered> done) = 0;

  // GET /v1/groups?limit=&cursor=
  virtual std::shared_ptr<Cancellable> ListGroups(const PageRequest& page, ReadOptions read,
                                                  absl::Time deadline,
                                                  ApiCallback<Page<v1::Group>> done) = 0;

  // GET /v1/groups/{group_id}/connections?limit=&cursor=[&schema=]; `schema`
  // "" = no filter. The connections come serialized (SerializedConnection).
  virtual std::shared_ptr<Cancellable> ListGroupConnections(
      const std::string& group_id, const std::string& schema, const PageRequest& page,
      ReadOptions read, absl::Time deadline, ApiCallback<Page<SerializedConnection>> done) = 0;

  // GET /v1/users?limit=&cursor=[&active=true|false]; nullopt = no filter.
  virtual std::shared_ptr<Cancellable> ListUsers(std::optional<bool> active,
                                                 const PageRequest& page, ReadOptions read,
                                                 absl::Time deadline,
                                                 ApiCallback<Page<v1::User>> done) = 0;
};

}  // namespace fivetran_gateway::fivetran

#endif  // FIVETRAN_GATEWAY_SERVER_FIVETRAN_FIVETRAN_API_H_
