// Caller authentication: bearer tokens with a scope, read from a file.
//
// Tokens file (--auth_tokens_file), one token per line:
//
//   # comment
//   read  s3cr3t-token-for-dashboards
//   write sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
//
// Only SHA-256 digests of the tokens are kept in memory; a presented token is
// hashed and compared with every digest in constant time. Tokens never appear
// in logs or error messages.
#ifndef FIVETRAN_GATEWAY_SERVER_AUTH_H_
#define FIVETRAN_GATEWAY_SERVER_AUTH_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "fivetran/gateway/v1/connection_service.pb.h"
#include "fivetran/gateway/v1/group_service.pb.h"
#include "fivetran/gateway/v1/user_service.pb.h"

namespace fivetran_gateway {

namespace v1 = ::fivetran::gateway::v1;

// `write` includes `read`.
enum class Scope { kRead = 1, kWrite = 2 };

const char* ScopeName(Scope scope);

using Sha256Digest = std::array<uint8_t, 32>;
Sha256Digest Sha256(absl::string_view data);
std::string Sha256Hex(absl::string_view data);

class TokenStore {
 public:
  // Parses the tokens file text. Errors name the line, never its token.
  static absl::StatusOr<TokenStore> Parse(absl::string_view text);
  static absl::StatusOr<TokenStore> Load(const std::string& path);

  // The scope of `token`, or nullopt when it is not listed. Takes the same
  // time whichever entry (if any) matches.
  std::optional<Scope> Find(absl::string_view token) const;
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    Sha256Digest digest;
    Scope scope;
  };
  std::vector<Entry> entries_;
};

// The token of an `authorization: Bearer TOKEN` metadata value; nullopt
// when the value is not a bearer credential.
std::optional<absl::string_view> BearerToken(absl::string_view authorization);

// What one call needs: a scope, and what the call does, for the refusal
// ("SyncConnection", "WatchConnectionSync with trigger").
struct RequiredAccess {
  Scope scope;
  std::string action;
};

// The scope follows what the call does, not only its method: reads need
// `read`; anything that changes something at Fivetran (creates, sync
// triggers, WatchConnectionSync with `trigger` or `force`) needs `write`.
// One overload per request type: an RPC without one does not compile in
// auth_services.cc.
RequiredAccess RequiredScope(const v1::GetConnectionRequest& request);
RequiredAccess RequiredScope(const v1::CreateConnectionRequest& request);
RequiredAccess RequiredScope(const v1::CreateFtpConnectionRequest& request);
RequiredAccess RequiredScope(const v1::SyncConnectionRequest& request);
RequiredAccess RequiredScope(const v1::WatchConnectionSyncRequest& request);
RequiredAccess RequiredScope(const v1::ListGroupsRequest& request);
RequiredAccess RequiredScope(const v1::ListGroupConnectionsRequest& request);
RequiredAccess RequiredScope(const v1::ListUsersRequest& request);

// Decides one call: OK, UNAUTHENTICATED (missing or unknown token) or
// PERMISSION_DENIED (the token's scope is too small; metadata
// required_scope), each with one ErrorInfo. `authorization` is the metadata
// value (nullopt when absent).
absl::Status Authorize(const TokenStore& tokens, std::optional<absl::string_view> authorization,
                       const RequiredAccess& needed);

// True when the gRPC listen address HOST:PORT binds a loopback interface
// only (127.0.0.0/8, ::1, localhost) or a unix socket.
bool IsLoopbackListenAddress(absl::string_view listen);

}  // namespace fivetran_gateway

#endif  // FIVETRAN_GATEWAY_SERVER_AUTH_H_
