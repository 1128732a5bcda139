#include "server/fivetran/rest_api.h"

#include <atomic>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "server/common/status.h"
#include "server/fivetran/connection_page_reader.h"
#include "server/fivetran/mapping.h"

namespace fivetran_gateway::fivetran {

std::string UrlEncode(absl::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

namespace {

// A 2xx answer whose JSON is not the documented shape: INTERNAL with reason
// FIVETRAN_BAD_RESPONSE, carrying the mapping error's (sanitised) message.
absl::Status BadResponse(const absl::Status& mapping_error, int http_status) {
  return MakeError(absl::StatusCode::kInternal,
                   absl::StrCat("Fivetran's response does not have the documented shape: ",
                                mapping_error.message()),
                   "FIVETRAN_BAD_RESPONSE", {{"http_status", absl::StrCat(http_status)}});
}

// The connection in a `GET/POST /v1/connections...` envelope, or why not.
absl::StatusOr<v1::Connection> ConnectionFromEnvelope(absl::StatusOr<nlohmann::json> envelope,
                                                      int http_status) {
  if (!envelope.ok()) return envelope.status();
  absl::StatusOr<nlohmann::json> data = DataObject(*std::move(envelope));
  if (!data.ok()) return BadResponse(data.status(), http_status);
  absl::StatusOr<v1::Connection> connection = ConnectionFromJson(*data);
  if (!connection.ok()) return BadResponse(connection.status(), http_status);
  return connection;
}

// ConnectionFromJson, serialized: the general path's connection of a page.
absl::StatusOr<SerializedConnection> SerializedConnectionFromJson(const nlohmann::json& item) {
  absl::StatusOr<v1::Connection> connection = ConnectionFromJson(item);
  if (!connection.ok()) return connection.status();
  return SerializedConnection::Of(*connection);
}

// Route templates of the paths, for metrics (never a raw id).
constexpr char kConnectionRoute[] = "/v1/connections/{connection_id}";
constexpr char kConnectionsRoute[] = "/v1/connections";
constexpr char kSyncRoute[] = "/v1/connections/{connection_id}/sync";
constexpr char kGroupsRoute[] = "/v1/groups";
constexpr char kGroupConnectionsRoute[] = "/v1/groups/{group_id}/connections";
constexpr char kUsersRoute[] = "/v1/users";

// A page read either way, to its caller: refused when following its cursor
// would loop forever (field report B1).
template <typename T>
void FinishPage(Page<T> page, const std::string& request_cursor, const UpstreamInfo& info,
                const ApiCallback<Page<T>>& done) {
  if (!page.next_cursor.empty() && page.next_cursor == request_cursor) {
    return done(MakeError(absl::StatusCode::kInternal,
                          "Fivetran returned the same cursor again; paging stopped",
                          "FIVETRAN_BAD_RESPONSE"),
                info);
  }
  done(std::move(page), info);
}

// A reader of a whole page straight from the body's text (e.g.
// connection_page_reader.h); nullopt declines it.
template <typename T>
using FastPageReader = std::optional<Page<T>> (*)(absl::string_view body,
                                                  absl::Span<const std::string> secrets,
                                                  const NextCursorHint* on_next_cursor);

// `hint` made safe to offer from both ways of reading one answer: it runs
// once at most. Empty stays empty.
NextCursorHint Once(NextCursorHint hint) {
  if (!hint) return hint;
  return [hint = std::move(hint),
          called = std::make_shared<std::atomic<bool>>(false)](const std::string& next_cursor) {
    if (!called->exchange(true)) hint(next_cursor);
  };
}

// GET path?limit=N[&cursor=C]`extra_query`, each item mapped by `map`; with
// `fast`, a 2xx body is offered to it first.
template <typename T>
std::shared_ptr<Cancellable> GetPage(FivetranClient* client, const char* route,
                                     const std::string& path, const std::string& extra_query,
                                     const PageRequest& page, absl::Time deadline,
                                     absl::StatusOr<T> (*map)(const nlohmann::json&),
                                     ApiCallback<Page<T>> done, FastPageReader<T> fast = nullptr) {
  std::string url = absl::StrCat(path, "?limit=", page.limit);
  if (!page.cursor.empty()) absl::StrAppend(&url, "&cursor=", UrlEncode(page.cursor));
  absl::StrAppend(&url, extra_query);
  auto shared_done = std::make_shared<ApiCallback<Page<T>>>(std::move(done));
  NextCursorHint hint = Once(page.on_next_cursor);
  EnvelopeCallback general = [request_cursor = page.cursor, map, done = shared_done, hint](
                                 absl::StatusOr<nlohmann::json> envelope,
                                 const UpstreamInfo& info) {
    if (!envelope.ok()) return (*done)(envelope.status(), info);
    absl::StatusOr<RawPage> raw = ParsePage(*std::move(envelope));
    if (!raw.ok()) return (*done)(BadResponse(raw.status(), info.http_status), info);
    if (hint && !raw->next_cursor.empty()) hint(raw->next_cursor);
    Page<T> out;
    out.items.reserve(raw->items.size());
    for (const nlohmann::json& item : raw->items) {
      absl::StatusOr<T> mapped = map(item);
      if (!mapped.ok()) return (*done)(BadResponse(mapped.status(), info.http_status), info);
      out.items.push_back(*std::move(mapped));
    }
    out.next_cursor = std::move(raw->next_cursor);
    FinishPage(std::move(out), request_cursor, info, *done);
  };
  if (fast == nullptr) return client->Get(url, deadline, std::move(general), route);
  BodyReader read = [request_cursor = page.cursor, fast, done = shared_done, hint](
                        absl::string_view body, absl::Span<const std::string> secrets,
                        const UpstreamInfo& info) {
    std::optional<Page<T>> out = fast(body, secrets, &hint);
    if (!out.has_value()) return false;
    FinishPage(*std::move(out), request_cursor, info, *done);
    return true;
  };
  return client->Get(url, deadline, std::move(read), std::move(general), route);
}

std::string ConnectionPath(const std::string& connection_id) {
  return absl::StrCat("/v1/connections/", UrlEncode(connection_id));
}

}  // namespace

// The message is the wire form parsed: one way of reading the answer.
std::shared_ptr<Cancellable> RestFivetranApi::GetConnection(const std::string& connection_id,
                                                            ReadOptions read, absl::Time deadline,
                                                            ApiCallback<v1::Connection> done) {
  return GetSerializedConnection(connection_id, read, deadline, ParsedInto(std::move(done)));
}

std::shared_ptr<Cancellable> RestFivetranApi::GetSerializedConnection(
    const std::string& connection_id, ReadOptions /*read: every call reaches Fivetran*/,
    absl::Time deadline, ApiCallback<SerializedConnection> done) {
  auto shared_done = std::make_shared<ApiCallback<SerializedConnection>>(std::move(done));
  BodyReader read = [done = shared_done](absl::string_view body,
                                         absl::Span<const std::string> secrets,
                                         const UpstreamInfo& info) {
    std::optional<SerializedConnection> connection = ReadConnectionBytes(body, secrets);
    if (!connection.has_value()) return false;
    (*done)(*std::move(connection), info);
    return true;
  };
  return client_->Get(
      ConnectionPath(connection_id), deadline, std::move(read),
      [done = shared_done](absl::StatusOr<nlohmann::json> envelope, const UpstreamInfo& info) {
        absl::StatusOr<v1::Connection> connection =
            ConnectionFromEnvelope(std::move(envelope), info.http_status);
        if (!connection.ok()) return (*done)(connection.status(), info);
        (*done)(SerializedConnection::Of(*connection), info);
      },
      kConnectionRoute);
}

std::shared_ptr<Cancellable> RestFivetranApi::CreateConnection(const NewConnection& connection,
                                                               absl::Time deadline,
                                                               ApiCallback<v1::Connection> done) {
  return client_->Post(
      "/v1/connections", connection.body(), deadline,
      [done = std::move(done)](absl::StatusOr<nlohmann::json> envelope, const UpstreamInfo& info) {
        if (!envelope.ok()) return done(envelope.status(), info);
        absl::StatusOr<nlohmann::json> data = DataObject(*std::move(envelope));
        absl::StatusOr<v1::Connection> connection =
            data.ok() ? ConnectionFromJson(*data) : absl::StatusOr<v1::Connection>(data.status());
        if (connection.ok()) return done(std::move(connection), info);
        // The connection was created; only its description is unreadable.
        absl::Status status = BadResponse(connection.status(), info.http_status);
        AddErrorMetadata(status, "outcome", "applied");
        if (data.ok() && data->contains("id") && (*data)["id"].is_string()) {
          AddErrorMetadata(status, "connection_id", (*data)["id"].get<std::string>());
        }
        done(std::move(status), info);
      },
      kConnectionsRoute);
}

std::shared_ptr<Cancellable> RestFivetranApi::TriggerSync(const std::string& connection_id,
                                                          bool force, absl::Time deadline,
                                                          ApiCallback<SyncTriggered> done) {
  return client_->Post(
      absl::StrCat(ConnectionPath(connection_id), "/sync"), nlohmann::json{{"force", force}},
      deadline,
      [done = std::move(done)](absl::StatusOr<nlohmann::json> envelope, const UpstreamInfo& info) {
        if (!envelope.ok()) return done(envelope.status(), info);
        SyncTriggered out;
        if (auto it = envelope->find("message"); it != envelope->end() && it->is_string()) {
          out.message = it->get<std::string>();
        }
        done(std::move(out), info);
      },
      kSyncRoute);
}

std::shared_ptr<Cancellable> RestFivetranApi::ListGroups(
    const PageRequest& page, ReadOptions /*read: every call reaches Fivetran*/, absl::Time deadline,
    ApiCallback<Page<v1::Group>> done) {
  return GetPage<v1::Group>(client_, kGroupsRoute, "/v1/groups", "", page, deadline, &GroupFromJson,
                            std::move(done));
}

std::shared_ptr<Cancellable> RestFivetranApi::ListGroupConnections(
    const std::string& group_id, const std::string& schema, const PageRequest& page,
    ReadOptions /*read: every call reaches Fivetran*/, absl::Time deadline,
    ApiCallback<Page<SerializedConnection>> done) {
  std::string extra;
  if (!schema.empty()) extra = absl::StrCat("&schema=", UrlEncode(schema));
  return GetPage<SerializedConnection>(
      client_, kGroupConnectionsRoute,
      absl::StrCat("/v1/groups/", UrlEncode(group_id), "/connections"), extra, page, deadline,
      &SerializedConnectionFromJson, std::move(done), &ReadConnectionPage);
}

std::shared_ptr<Cancellable> RestFivetranApi::ListUsers(
    std::optional<bool> active, const PageRequest& page,
    ReadOptions /*read: every call reaches Fivetran*/, absl::Time deadline,
    ApiCallback<Page<v1::User>> done) {
  std::string extra;
  if (active.has_value()) extra = *active ? "&active=true" : "&active=false";
  return GetPage<v1::User>(client_, kUsersRoute, "/v1/users", extra, page, deadline, &UserFromJson,
                           std::move(done));
}

}  // namespace fivetran_gateway::fivetran
