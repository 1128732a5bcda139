#include "server/services.h"

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/util/time_util.h"
#include "server/fivetran/errors.h"
#include "server/fivetran/mapping.h"
#include "server/rpc_reactor.h"
#include "server/validation.h"

namespace fivetran_gateway {
namespace {

using fivetran::UpstreamInfo;
using fivetran::UrlEncode;
using nlohmann::json;

absl::Status FieldViolationStatus(const absl::Status& status,
                                  const fivetran::FieldViolation& violation) {
  if (violation.field.empty()) return status;
  return fivetran::MakeFieldError(
      absl::StatusCode::kInvalidArgument, violation.field, status.message(),
      absl::StrContains(status.message(), "required") ? "MISSING_FIELD" : "INVALID_FIELD");
}

// One page of a Fivetran listing: validates paging, sends
// GET path?limit=N[&cursor=C][extra query], and hands the items to `fill`.
// `scope` fingerprints the method and its filters for the page token.
using FillPage = std::function<absl::Status(const std::vector<json>& items)>;
RpcReactor* StartList(fivetran::FivetranClient* client, RpcReactor* r, const std::string& path,
                      const std::string& extra_query, const std::string& scope, int page_size,
                      const std::string& page_token, std::string* next_page_token, FillPage fill) {
  absl::StatusOr<int> limit = EffectivePageSize(page_size);
  if (!limit.ok()) return r->FinishNow(limit.status());
  absl::StatusOr<std::string> cursor = DecodePageToken(page_token, scope);
  if (!cursor.ok()) return r->FinishNow(cursor.status());
  std::string url = absl::StrCat(path, "?limit=", *limit);
  if (!cursor->empty()) absl::StrAppend(&url, "&cursor=", UrlEncode(*cursor));
  absl::StrAppend(&url, extra_query);
  return r->Attach(client->Get(
      url, r->deadline(),
      [r, scope, request_cursor = *cursor, next_page_token, fill = std::move(fill)](
          absl::StatusOr<json> envelope, const UpstreamInfo& info) {
        if (!envelope.ok()) return r->Complete(envelope.status(), info);
        absl::StatusOr<fivetran::Page> page = fivetran::ParsePage(*envelope);
        if (!page.ok())
          return r->Complete(fivetran::BadResponse(page.status(), info.http_status), info);
        if (!page->next_cursor.empty() && page->next_cursor == request_cursor) {
          // Following it would loop forever (field report B1).
          return r->Complete(
              fivetran::MakeError(absl::StatusCode::kInternal,
                                  "Fivetran returned the same cursor again; paging stopped",
                                  "FIVETRAN_BAD_RESPONSE"),
              info);
        }
        absl::Status filled = fill(page->items);
        if (!filled.ok()) return r->Complete(fivetran::BadResponse(filled, info.http_status), info);
        *next_page_token = EncodePageToken(page->next_cursor, scope);
        r->Complete(absl::OkStatus(), info);
      }));
}

// The answer of POST /v1/connections -> `response`, or the error.
template <typename Response>
absl::Status CreateResponse(const absl::StatusOr<json>& envelope, const UpstreamInfo& info,
                            Response* response) {
  if (!envelope.ok()) return envelope.status();
  absl::StatusOr<json> data = fivetran::DataObject(*envelope);
  absl::StatusOr<v1::Connection> connection = data.ok()
                                                  ? fivetran::ConnectionFromJson(*data)
                                                  : absl::StatusOr<v1::Connection>(data.status());
  if (!connection.ok()) {
    // The connection was created; only its description is unreadable.
    absl::Status status = fivetran::BadResponse(connection.status(), info.http_status);
    fivetran::AddErrorMetadata(status, "outcome", "applied");
    if (data.ok() && data->contains("id") && (*data)["id"].is_string()) {
      fivetran::AddErrorMetadata(status, "connection_id",
                                 (*data)["id"].template get<std::string>());
    }
    return status;
  }
  response->set_ready(connection->status().setup_state() == v1::SETUP_STATE_CONNECTED);
  *response->mutable_connection() = *std::move(connection);
  return absl::OkStatus();
}

// One caller of an idempotent create, waiting in the IdempotencyCache for
// the result of the create with its request_id. Cancelling the RPC (the
// reactor calls Cancel()) or reaching its deadline ends only this caller's
// wait: the upstream POST goes on and its result stays available to a retry
// with the same request_id.
class CreateWaiter final : public fivetran::HttpCall,
                           public std::enable_shared_from_this<CreateWaiter> {
 public:
  using Deliver = std::function<void(const IdempotencyCache::Result&)>;
  CreateWaiter(std::shared_ptr<IdempotencyCache> cache, IdempotencyCache::Key key,
               TimerQueue* timers, Deliver deliver)
      : cache_(std::move(cache)),
        key_(std::move(key)),
        timers_(timers),
        deliver_(std::move(deliver)) {}

  IdempotencyCache::Waiter AsWaiter() {
    return [self = shared_from_this()](const IdempotencyCache::Result& r) { self->Done(r); };
  }

  // After Join(): remembers the waiter id and ends the wait at `deadline`.
  void Joined(uint64_t waiter_id, absl::Time deadline) {
    absl::MutexLock lock(&mu_);
    waiter_id_ = waiter_id;
    if (done_ || deadline == absl::InfiniteFuture() || timers_ == nullptr) return;
    timer_ = timers_->Schedule(deadline, [self = shared_from_this()] {
      self->Abandon(fivetran::MakeError(
          absl::StatusCode::kDeadlineExceeded,
          absl::StrCat("the create with this request_id is still in progress at Fivetran; "
                       "retry with the same request_id to get its result"),
          "DEADLINE_EXCEEDED", {{"outcome", "unknown"}, {"request_id", self->key_.request_id}}));
    });
  }

  void Cancel() override {
    Abandon(fivetran::MakeError(absl::StatusCode::kCancelled, "cancelled by the caller",
                                "CANCELLED", {{"outcome", "unknown"}}));
  }

 private:
  void Abandon(absl::Status status) {
    uint64_t id = 0;
    {
      absl::MutexLock lock(&mu_);
      if (done_) return;
      id = waiter_id_;
    }
    if (id != 0 && cache_->Leave(key_, id)) {
      IdempotencyCache::Result result;
      result.status = std::move(status);
      Done(result);
    }
  }

  void Done(const IdempotencyCache::Result& result) {
    uint64_t timer = 0;
    {
      absl::MutexLock lock(&mu_);
      if (done_) return;
      done_ = true;
      timer = timer_;
      timer_ = 0;
    }
    if (timer != 0) timers_->Cancel(timer);
    deliver_(result);
  }

  const std::shared_ptr<IdempotencyCache> cache_;
  const IdempotencyCache::Key key_;
  TimerQueue* const timers_;
  const Deliver deliver_;
  absl::Mutex mu_;
  uint64_t waiter_id_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t timer_ ABSL_GUARDED_BY(mu_) = 0;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
};

// Shared by both create RPCs: POST /v1/connections and map the answer. With
// a request_id the POST belongs to the IdempotencyCache entry rather than
// to this RPC: it runs until Fivetran answers (bounded by
// --max_request_time), and every caller with that request_id gets its
// result.
template <typename Request, typename Response>
RpcReactor* StartCreate(fivetran::FivetranClient* client,
                        const std::shared_ptr<IdempotencyCache>& cache, TimerQueue* timers,
                        RpcReactor* r, const char* method, const Request& request,
                        absl::StatusOr<json> (*build_body)(const Request&,
                                                           fivetran::FieldViolation*),
                        Response* response) {
  if (!request.group_id().empty()) {
    if (absl::Status s = ValidateId("group_id", request.group_id()); !s.ok()) {
      return r->FinishNow(s);
    }
  }
  if (request.request_id().size() > kMaxRequestIdLength) {
    return r->FinishNow(fivetran::MakeFieldError(
        absl::StatusCode::kInvalidArgument, "request_id",
        absl::StrCat("request_id is longer than ", kMaxRequestIdLength, " bytes"),
        "INVALID_FIELD"));
  }
  fivetran::FieldViolation violation;
  absl::StatusOr<json> body = build_body(request, &violation);
  if (!body.ok()) return r->FinishNow(FieldViolationStatus(body.status(), violation));

  if (request.request_id().empty()) {
    return r->Attach(
        client->Post("/v1/connections", *body, r->deadline(),
                     [r, response](absl::StatusOr<json> envelope, const UpstreamInfo& info) {
                       r->Complete(CreateResponse(envelope, info, response), info);
                     }));
  }

  Request unkeyed = request;
  unkeyed.clear_request_id();
  IdempotencyCache::Key key{method, request.request_id()};
  auto waiter = std::make_shared<CreateWaiter>(
      cache, key, timers, [r, response](const IdempotencyCache::Result& result) {
        absl::Status status = result.status;
        if (status.ok() && !response->ParseFromString(result.response)) {
          status = absl::InternalError("cannot read the stored create response");
        }
        r->Complete(status, result.upstream);
      });
  IdempotencyCache::Ticket ticket =
      cache->Join(key, RequestFingerprint(unkeyed), waiter->AsWaiter());
  switch (ticket.verdict) {
    case IdempotencyCache::Verdict::kMismatch:
      return r->FinishNow(fivetran::MakeFieldError(
          absl::StatusCode::kInvalidArgument, "request_id",
          "request_id was already used for a different request; use a new request_id",
          "INVALID_FIELD"));
    case IdempotencyCache::Verdict::kReplay: {
      // The first request's result; nothing is sent.
      absl::Status status = ticket.replay.status;
      if (status.ok() && !response->ParseFromString(ticket.replay.response)) {
        status = absl::InternalError("cannot read the stored create response");
      }
      UpstreamInfo replayed = ticket.replay.upstream;
      replayed.attempts = 0;
      r->Complete(status, replayed);
      return r->Release();
    }
    case IdempotencyCache::Verdict::kStart:
      client->Post("/v1/connections", *body, absl::InfiniteFuture(),
                   [cache, key](absl::StatusOr<json> envelope, const UpstreamInfo& info) {
                     Response created;
                     IdempotencyCache::Result result;
                     result.status = CreateResponse(envelope, info, &created);
                     if (result.status.ok()) result.response = created.SerializeAsString();
                     result.upstream = info;
                     cache->Finish(key, std::move(result));
                   });
      break;
    case IdempotencyCache::Verdict::kWait:
      break;
  }
  waiter->Joined(ticket.waiter_id, r->deadline());
  return r->Attach(waiter);
}

}  // namespace

grpc::ServerUnaryReactor* ConnectionServiceImpl::GetConnection(
    grpc::CallbackServerContext* context, const v1::GetConnectionRequest* request,
    v1::GetConnectionResponse* response) {
  auto* r = new RpcReactor(context, "GetConnection");
  if (absl::Status s = ValidateId("connection_id", request->connection_id()); !s.ok()) {
    return r->FinishNow(s);
  }
  return r->Attach(client_->Get(
      absl::StrCat("/v1/connections/", UrlEncode(request->connection_id())), r->deadline(),
      [r, response](absl::StatusOr<json> envelope, const UpstreamInfo& info) {
        absl::StatusOr<v1::Connection> connection =
            fivetran::ConnectionFromEnvelope(envelope, info.http_status);
        if (!connection.ok()) return r->Complete(connection.status(), info);
        *response->mutable_connection() = *std::move(connection);
        r->Complete(absl::OkStatus(), info);
      }));
}

grpc::ServerUnaryReactor* ConnectionServiceImpl::CreateConnection(
    grpc::CallbackServerContext* context, const v1::CreateConnectionRequest* request,
    v1::CreateConnectionResponse* response) {
  return StartCreate(client_, creates_, timers_, new RpcReactor(context, "CreateConnection"),
                     "CreateConnection", *request, &fivetran::CreateConnectionBody, response);
}

grpc::ServerUnaryReactor* ConnectionServiceImpl::CreateFtpConnection(
    grpc::CallbackServerContext* context, const v1::CreateFtpConnectionRequest* request,
    v1::CreateFtpConnectionResponse* response) {
  return StartCreate(client_, creates_, timers_, new RpcReactor(context, "CreateFtpConnection"),
                     "CreateFtpConnection", *request, &fivetran::CreateFtpConnectionBody, response);
}

grpc::ServerUnaryReactor* ConnectionServiceImpl::SyncConnection(
    grpc::CallbackServerContext* context, const v1::SyncConnectionRequest* request,
    v1::SyncConnectionResponse* response) {
  auto* r = new RpcReactor(context, "SyncConnection");
  if (absl::Status s = ValidateId("connection_id", request->connection_id()); !s.ok()) {
    return r->FinishNow(s);
  }
  TriggerSync(
      client_, request->connection_id(), request->force(), r->deadline(),
      [r](std::shared_ptr<fivetran::HttpCall> call) { r->Chain(std::move(call)); },
      [r, response](absl::StatusOr<TriggerResult> result) {
        if (!result.ok()) return r->Complete(result.status(), UpstreamInfo{});
        response->set_message(result->message);
        *response->mutable_triggered_at() =
            google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
                absl::ToUnixNanos(result->triggered_at));
        if (result->baseline) {
          *response->mutable_baseline() = google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
              absl::ToUnixNanos(*result->baseline));
        }
        r->Complete(absl::OkStatus(), result->upstream);
      });
  return r->Release();
}

grpc::ServerWriteReactor<v1::WatchConnectionSyncResponse>*
ConnectionServiceImpl::WatchConnectionSync(grpc::CallbackServerContext* context,
                                           const v1::WatchConnectionSyncRequest* request) {
  return StartSyncWatch(context, request, client_, pollers_, timers_);
}

grpc::ServerUnaryReactor* GroupServiceImpl::ListGroups(grpc::CallbackServerContext* context,
                                                       const v1::ListGroupsRequest* request,
                                                       v1::ListGroupsResponse* response) {
  auto* r = new RpcReactor(context, "ListGroups");
  return StartList(client_, r, "/v1/groups", "", "groups", request->page_size(),
                   request->page_token(), response->mutable_next_page_token(),
                   [response](const std::vector<json>& items) {
                     for (const json& item : items) {
                       absl::StatusOr<v1::Group> group = fivetran::GroupFromJson(item);
                       if (!group.ok()) return group.status();
                       *response->add_groups() = *std::move(group);
                     }
                     return absl::OkStatus();
                   });
}

grpc::ServerUnaryReactor* GroupServiceImpl::ListGroupConnections(
    grpc::CallbackServerContext* context, const v1::ListGroupConnectionsRequest* request,
    v1::ListGroupConnectionsResponse* response) {
  auto* r = new RpcReactor(context, "ListGroupConnections");
  if (absl::Status s = ValidateId("group_id", request->group_id()); !s.ok()) {
    return r->FinishNow(s);
  }
  if (absl::Status s = ValidateFilter("schema", request->schema()); !s.ok()) {
    return r->FinishNow(s);
  }
  std::string extra;
  if (!request->schema().empty()) extra = absl::StrCat("&schema=", UrlEncode(request->schema()));
  std::string scope =
      absl::StrCat("group_connections\n", request->group_id(), "\n", request->schema());
  return StartList(client_, r,
                   absl::StrCat("/v1/groups/", UrlEncode(request->group_id()), "/connections"),
                   extra, scope, request->page_size(), request->page_token(),
                   response->mutable_next_page_token(), [response](const std::vector<json>& items) {
                     for (const json& item : items) {
                       absl::StatusOr<v1::Connection> c = fivetran::ConnectionFromJson(item);
                       if (!c.ok()) return c.status();
                       *response->add_connections() = *std::move(c);
                     }
                     return absl::OkStatus();
                   });
}

grpc::ServerUnaryReactor* UserServiceImpl::ListUsers(grpc::CallbackServerContext* context,
                                                     const v1::ListUsersRequest* request,
                                                     v1::ListUsersResponse* response) {
  auto* r = new RpcReactor(context, "ListUsers");
  std::string extra, scope = "users";
  if (request->has_active()) {
    extra = request->active() ? "&active=true" : "&active=false";
    absl::StrAppend(&scope, extra);
  }
  return StartList(client_, r, "/v1/users", extra, scope, request->page_size(),
                   request->page_token(), response->mutable_next_page_token(),
                   [response](const std::vector<json>& items) {
                     for (const json& item : items) {
                       absl::StatusOr<v1::User> user = fivetran::UserFromJson(item);
                       if (!user.ok()) return user.status();
                       *response->add_users() = *std::move(user);
                     }
                     return absl::OkStatus();
                   });
}

}  // namespace fivetran_gateway
