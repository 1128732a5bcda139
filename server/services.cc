#include "server/services.h"

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/unknown_field_set.h"
#include "google/protobuf/util/time_util.h"
#include "server/common/status.h"
#include "server/rpc_reactor.h"
#include "server/validation.h"

namespace fivetran_gateway {
namespace {

using fivetran::UpstreamInfo;

// Pages of at least this many items are finished from a gRPC thread
// (RpcReactor::CompleteOnGrpcThread): serialising 100 connections takes
// about 0.3 ms of the upstream thread, 1,000 about 3 ms.
constexpr size_t kHandOffItems = 100;

// One page of a listing: checks paging (AIP-158), asks `list` for the page
// after the token's cursor, and hands its items to `fill`. `scope`
// fingerprints the method and its filters, so a token only works with them.
template <typename T>
using ListFn = std::function<std::shared_ptr<Cancellable>(
    const fivetran::PageRequest&, fivetran::ApiCallback<fivetran::Page<T>>)>;
template <typename T>
RpcReactor* StartList(RpcReactor* r, const std::string& key, const std::string& scope,
                      int page_size, const std::string& page_token, std::string* next_page_token,
                      ListFn<T> list, std::function<void(std::vector<T>)> fill) {
  absl::StatusOr<int> limit = EffectivePageSize(page_size);
  if (!limit.ok()) return r->FinishNow(limit.status());
  absl::StatusOr<std::string> cursor = DecodePageToken(page_token, scope, key);
  if (!cursor.ok()) return r->FinishNow(cursor.status());
  return r->Attach(list(fivetran::PageRequest{*limit, *cursor},
                        [r, key, scope, next_page_token, fill = std::move(fill)](
                            absl::StatusOr<fivetran::Page<T>> page, const UpstreamInfo& info) {
                          if (!page.ok()) return r->Complete(page.status(), info);
                          const size_t items = page->items.size();
                          fill(std::move(page->items));
                          *next_page_token = EncodePageToken(page->next_cursor, scope, key);
                          // Large pages are serialised off the upstream thread.
                          if (items >= kHandOffItems) {
                            return r->CompleteOnGrpcThread(absl::OkStatus(), info);
                          }
                          r->Complete(absl::OkStatus(), info);
                        }));
}

// Puts a serialized connection into a response, among its unknown fields
// `fields`, as its field `field_number` (a Connection or repeated Connection
// field) without building it as a message: protobuf writes an unknown field
// out as it stands. On the wire the response is the same as with the message
// set or added; a client parses it as that field. (In-process, the field
// stays empty.)
void AddSerializedConnection(int field_number, fivetran::SerializedConnection connection,
                             google::protobuf::UnknownFieldSet* fields) {
  fields->AddLengthDelimited(field_number)->swap(connection.bytes);
}

google::protobuf::UnknownFieldSet* UnknownFieldsOf(google::protobuf::Message* message) {
  return message->GetReflection()->MutableUnknownFields(message);
}

// ListGroupConnections' page: its connections as `connections` (field 1).
void AddSerializedConnections(std::vector<fivetran::SerializedConnection> connections,
                              v1::ListGroupConnectionsResponse* response) {
  google::protobuf::UnknownFieldSet* fields = UnknownFieldsOf(response);
  for (fivetran::SerializedConnection& c : connections) {
    AddSerializedConnection(v1::ListGroupConnectionsResponse::kConnectionsFieldNumber, std::move(c),
                            fields);
  }
}

// A created connection -> the response of either create RPC.
template <typename Response>
absl::Status CreateResponse(absl::StatusOr<v1::Connection> connection, Response* response) {
  if (!connection.ok()) return connection.status();
  response->set_ready(connection->status().setup_state() == v1::SETUP_STATE_CONNECTED);
  *response->mutable_connection() = *std::move(connection);
  return absl::OkStatus();
}

// One caller of an idempotent create, waiting in the IdempotencyCache for
// the result of the create with its request_id. Cancelling the RPC (the
// reactor calls Cancel()) or reaching its deadline ends only this caller's
// wait: the upstream POST goes on and its result stays available to a retry
// with the same request_id.
class CreateWaiter final : public Cancellable, public std::enable_shared_from_this<CreateWaiter> {
 public:
  using Deliver = std::function<void(const IdempotencyCache::Result&)>;
  CreateWaiter(std::shared_ptr<IdempotencyCache> cache, IdempotencyCache::Key key, Timers* timers,
               Deliver deliver)
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
      self->Abandon(MakeError(
          absl::StatusCode::kDeadlineExceeded,
          absl::StrCat("the create with this request_id is still in progress at Fivetran; "
                       "retry with the same request_id to get its result"),
          "DEADLINE_EXCEEDED", {{"outcome", "unknown"}, {"request_id", self->key_.request_id}}));
    });
  }

  void Cancel() override {
    Abandon(MakeError(absl::StatusCode::kCancelled, "cancelled by the caller", "CANCELLED",
                      {{"outcome", "unknown"}}));
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
  Timers* const timers_;
  const Deliver deliver_;
  absl::Mutex mu_;
  uint64_t waiter_id_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t timer_ ABSL_GUARDED_BY(mu_) = 0;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
};

// Shared by both create RPCs. With a request_id the create belongs to the
// IdempotencyCache entry rather than to this RPC: it runs until Fivetran
// answers (bounded by --max_request_time), and every caller with that
// request_id gets its result.
template <typename Request, typename Response>
RpcReactor* StartCreate(fivetran::FivetranApi* api, const std::shared_ptr<IdempotencyCache>& cache,
                        const std::shared_ptr<SharedCreates>& shared, Timers* timers, RpcReactor* r,
                        const char* method, const Request& request, Response* response) {
  if (!request.group_id().empty()) {
    if (absl::Status s = ValidateId("group_id", request.group_id()); !s.ok()) {
      return r->FinishNow(s);
    }
  }
  if (request.request_id().size() > kMaxRequestIdLength) {
    return r->FinishNow(
        MakeFieldError(absl::StatusCode::kInvalidArgument, "request_id",
                       absl::StrCat("request_id is longer than ", kMaxRequestIdLength, " bytes"),
                       "INVALID_FIELD"));
  }
  absl::StatusOr<fivetran::NewConnection> connection = fivetran::NewConnection::From(request);
  if (!connection.ok()) return r->FinishNow(connection.status());

  if (request.request_id().empty()) {
    return r->Attach(api->CreateConnection(
        *connection, r->deadline(),
        [r, response](absl::StatusOr<v1::Connection> created, const UpstreamInfo& info) {
          r->Complete(CreateResponse(std::move(created), response), info);
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
  const std::string fingerprint = RequestFingerprint(unkeyed);
  IdempotencyCache::Ticket ticket = cache->Join(key, fingerprint, waiter->AsWaiter());
  switch (ticket.verdict) {
    case IdempotencyCache::Verdict::kMismatch:
      return r->FinishNow(MakeFieldError(
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
      r->NoteReplay();
      r->Complete(status, replayed);
      return r->Release();
    }
    case IdempotencyCache::Verdict::kStart: {
      SharedCreates::Send send =
          [api, created_from = *connection](std::function<void(IdempotencyCache::Result)> finish) {
            api->CreateConnection(
                created_from, absl::InfiniteFuture(),
                [finish](absl::StatusOr<v1::Connection> created, const UpstreamInfo& info) {
                  Response out;
                  IdempotencyCache::Result result;
                  result.status = CreateResponse(std::move(created), &out);
                  if (result.status.ok()) result.response = out.SerializeAsString();
                  result.upstream = info;
                  finish(std::move(result));
                });
          };
      if (shared == nullptr) {
        send([cache, key](IdempotencyCache::Result result) {
          cache->Finish(key, std::move(result));
        });
      } else {
        // The fleet decides whether this replica sends (shared_creates.h).
        shared->Run(
            key, fingerprint, std::move(send), [cache, key] { return cache->HasWaiters(key); },
            [cache, key](IdempotencyCache::Result result, bool keep) {
              cache->Finish(key, std::move(result), keep);
            });
      }
      break;
    }
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
  // In wire form: the connection is sent on as read, never built as a
  // message here (AddSerializedConnection).
  return r->Attach(api_->GetSerializedConnection(
      request->connection_id(), r->read_options(), r->deadline(),
      [r, response](absl::StatusOr<fivetran::SerializedConnection> connection,
                    const UpstreamInfo& info) {
        if (!connection.ok()) return r->Complete(connection.status(), info);
        AddSerializedConnection(v1::GetConnectionResponse::kConnectionFieldNumber,
                                *std::move(connection), UnknownFieldsOf(response));
        r->Complete(absl::OkStatus(), info);
      }));
}

grpc::ServerUnaryReactor* ConnectionServiceImpl::CreateConnection(
    grpc::CallbackServerContext* context, const v1::CreateConnectionRequest* request,
    v1::CreateConnectionResponse* response) {
  return StartCreate(api_, creates_, shared_, timers_, new RpcReactor(context, "CreateConnection"),
                     "CreateConnection", *request, response);
}

grpc::ServerUnaryReactor* ConnectionServiceImpl::CreateFtpConnection(
    grpc::CallbackServerContext* context, const v1::CreateFtpConnectionRequest* request,
    v1::CreateFtpConnectionResponse* response) {
  return StartCreate(api_, creates_, shared_, timers_,
                     new RpcReactor(context, "CreateFtpConnection"), "CreateFtpConnection",
                     *request, response);
}

grpc::ServerUnaryReactor* ConnectionServiceImpl::SyncConnection(
    grpc::CallbackServerContext* context, const v1::SyncConnectionRequest* request,
    v1::SyncConnectionResponse* response) {
  auto* r = new RpcReactor(context, "SyncConnection");
  if (absl::Status s = ValidateId("connection_id", request->connection_id()); !s.ok()) {
    return r->FinishNow(s);
  }
  TriggerSync(api_, timers_, request->connection_id(), request->force(), r->deadline(), r->chain(),
              [r, response](absl::StatusOr<TriggerResult> result) {
                if (!result.ok()) return r->Complete(result.status(), UpstreamInfo{});
                response->set_message(result->message);
                response->set_setup_state_at_trigger(result->setup_state_at_trigger);
                response->set_already_syncing(result->already_syncing);
                *response->mutable_triggered_at() = TimestampOf(result->triggered_at);
                if (result->baseline) {
                  *response->mutable_baseline() = TimestampOf(*result->baseline);
                }
                r->Complete(absl::OkStatus(), result->upstream);
              });
  return r->Release();
}

grpc::ServerWriteReactor<v1::WatchConnectionSyncResponse>*
ConnectionServiceImpl::WatchConnectionSync(grpc::CallbackServerContext* context,
                                           const v1::WatchConnectionSyncRequest* request) {
  return StartSyncWatch(context, request, api_, pollers_, timers_);
}

grpc::ServerUnaryReactor* GroupServiceImpl::ListGroups(grpc::CallbackServerContext* context,
                                                       const v1::ListGroupsRequest* request,
                                                       v1::ListGroupsResponse* response) {
  auto* r = new RpcReactor(context, "ListGroups");
  return StartList<v1::Group>(
      r, page_token_key_, "groups", request->page_size(), request->page_token(),
      response->mutable_next_page_token(),
      [api = api_, r](const fivetran::PageRequest& page,
                      fivetran::ApiCallback<fivetran::Page<v1::Group>> done) {
        return api->ListGroups(page, r->read_options(), r->deadline(), std::move(done));
      },
      [response](std::vector<v1::Group> groups) {
        for (v1::Group& g : groups) *response->add_groups() = std::move(g);
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
  std::string scope =
      absl::StrCat("group_connections\n", request->group_id(), "\n", request->schema());
  return StartList<fivetran::SerializedConnection>(
      r, page_token_key_, scope, request->page_size(), request->page_token(),
      response->mutable_next_page_token(),
      [api = api_, r, group_id = request->group_id(), schema = request->schema()](
          const fivetran::PageRequest& page,
          fivetran::ApiCallback<fivetran::Page<fivetran::SerializedConnection>> done) {
        return api->ListGroupConnections(group_id, schema, page, r->read_options(), r->deadline(),
                                         std::move(done));
      },
      [response](std::vector<fivetran::SerializedConnection> connections) {
        AddSerializedConnections(std::move(connections), response);
      });
}

grpc::ServerUnaryReactor* UserServiceImpl::ListUsers(grpc::CallbackServerContext* context,
                                                     const v1::ListUsersRequest* request,
                                                     v1::ListUsersResponse* response) {
  auto* r = new RpcReactor(context, "ListUsers");
  std::string scope = "users";
  std::optional<bool> active;
  if (request->has_active()) {
    active = request->active();
    absl::StrAppend(&scope, request->active() ? "&active=true" : "&active=false");
  }
  return StartList<v1::User>(
      r, page_token_key_, scope, request->page_size(), request->page_token(),
      response->mutable_next_page_token(),
      [api = api_, r, active](const fivetran::PageRequest& page,
                              fivetran::ApiCallback<fivetran::Page<v1::User>> done) {
        return api->ListUsers(active, page, r->read_options(), r->deadline(), std::move(done));
      },
      [response](std::vector<v1::User> users) {
        for (v1::User& u : users) *response->add_users() = std::move(u);
      });
}

}  // namespace fivetran_gateway
