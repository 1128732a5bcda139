#include "server/auth.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <sys/socket.h>

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "server/common/status.h"

namespace fivetran_gateway {
namespace {

bool ParseHexDigest(absl::string_view hex, Sha256Digest* out) {
  if (hex.size() != 64) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < 32; ++i) {
    int hi = nibble(hex[2 * i]);
    int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    (*out)[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return true;
}

// True when `value` reads like a digest written some other way than the
// documented `sha256:HEX`: `SHA256:`, `sha-256:`, `sha256=`, `sha512:`,
// `md5:` ... Such a line is a mistake, never a literal token: taken
// literally, the real token would be refused and the digest text accepted.
bool LooksLikeADigest(absl::string_view value) {
  std::string lower = absl::AsciiStrToLower(value.substr(0, 16));
  absl::string_view rest = lower;
  if (!absl::ConsumePrefix(&rest, "sha") && !absl::ConsumePrefix(&rest, "md")) return false;
  absl::ConsumePrefix(&rest, "-");
  absl::ConsumePrefix(&rest, "_");
  size_t digits = 0;
  while (digits < rest.size() && absl::ascii_isdigit(rest[digits])) ++digits;
  if (digits == 0 || digits == rest.size()) return false;
  return rest[digits] == ':' || rest[digits] == '=';
}

// What an HTTP/2 metadata value can carry: printable ASCII.
bool IsPrintableAscii(absl::string_view s) {
  for (char c : s) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

constexpr absl::string_view kUtf8Bom = "\xef\xbb\xbf";
constexpr size_t kMinTokenLength = 16;

}  // namespace

const char* ScopeName(Scope scope) { return scope == Scope::kWrite ? "write" : "read"; }

Sha256Digest Sha256(absl::string_view data) {
  Sha256Digest digest;
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data());
  return digest;
}

std::string Sha256Hex(absl::string_view data) {
  static constexpr char kHex[] = "0123456789abcdef";
  Sha256Digest d = Sha256(data);
  std::string out;
  for (uint8_t b : d) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

absl::StatusOr<TokenStore> TokenStore::Parse(absl::string_view text) {
  TokenStore store;
  // A UTF-8 byte order mark (some Windows editors write one) at the very
  // start is skipped; anywhere else it is part of a line, and refused.
  absl::ConsumePrefix(&text, kUtf8Bom);
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    auto refuse = [line_no](absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat("tokens file line ", line_no, ": ", why));
    };
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (fields.size() != 2) return refuse("expected `SCOPE TOKEN`");
    Entry entry;
    if (fields[0] == "read") {
      entry.scope = Scope::kRead;
    } else if (fields[0] == "write") {
      entry.scope = Scope::kWrite;
    } else {
      return refuse("the scope must be read or write");
    }
    absl::string_view token = fields[1];
    if (absl::ConsumePrefix(&token, "sha256:")) {
      if (!ParseHexDigest(token, &entry.digest)) {
        return refuse("sha256: must be followed by exactly 64 hex digits");
      }
    } else if (LooksLikeADigest(token)) {
      return refuse(
          "this looks like a digest but is not `sha256:` followed by 64 hex digits (lowercase "
          "`sha256:`, e.g. from `echo -n TOKEN | sha256sum`)");
    } else if (token.size() < kMinTokenLength) {
      return refuse(absl::StrCat("a token must be at least ", kMinTokenLength, " characters long"));
    } else if (!IsPrintableAscii(token)) {
      return refuse(
          "a token must be printable ASCII (gRPC metadata cannot carry anything else, so this "
          "one could never be presented)");
    } else {
      entry.digest = Sha256(token);
    }
    for (const Entry& e : store.entries_) {
      if (e.digest == entry.digest) return refuse("the same token is listed twice");
    }
    store.entries_.push_back(entry);
  }
  return store;
}

absl::StatusOr<TokenStore> TokenStore::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read the tokens file ", path));
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<TokenStore> store = Parse(text.str());
  if (!store.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", store.status().message()));
  }
  if (store->size() == 0) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": no tokens"));
  }
  return store;
}

std::optional<Scope> TokenStore::Find(absl::string_view token) const {
  const Sha256Digest digest = Sha256(token);
  // Every entry is compared, with a constant-time comparison, whatever
  // matches.
  int best = 0;
  for (const Entry& e : entries_) {
    int equal = CRYPTO_memcmp(e.digest.data(), digest.data(), digest.size()) == 0;
    int scope = static_cast<int>(e.scope);
    best |= equal * scope;
  }
  if (best == 0) return std::nullopt;
  return (best & static_cast<int>(Scope::kWrite)) != 0 ? Scope::kWrite : Scope::kRead;
}

std::optional<absl::string_view> BearerToken(absl::string_view authorization) {
  authorization = absl::StripAsciiWhitespace(authorization);
  if (authorization.size() < 7 || !absl::EqualsIgnoreCase(authorization.substr(0, 7), "bearer ")) {
    return std::nullopt;
  }
  absl::string_view token = absl::StripAsciiWhitespace(authorization.substr(7));
  if (token.empty()) return std::nullopt;
  return token;
}

RequiredAccess RequiredScope(const v1::GetConnectionRequest&) {
  return {Scope::kRead, "GetConnection"};
}
RequiredAccess RequiredScope(const v1::CreateConnectionRequest&) {
  return {Scope::kWrite, "CreateConnection"};
}
RequiredAccess RequiredScope(const v1::CreateFtpConnectionRequest&) {
  return {Scope::kWrite, "CreateFtpConnection"};
}
RequiredAccess RequiredScope(const v1::SyncConnectionRequest&) {
  return {Scope::kWrite, "SyncConnection"};
}
RequiredAccess RequiredScope(const v1::WatchConnectionSyncRequest& request) {
  // `trigger` sends POST /v1/connections/{id}/sync, as SyncConnection does.
  // `force` asks for a running sync to be restarted: refused to a read
  // token too, rather than ignored.
  if (request.trigger()) return {Scope::kWrite, "WatchConnectionSync with trigger"};
  if (request.force()) return {Scope::kWrite, "WatchConnectionSync with force"};
  return {Scope::kRead, "WatchConnectionSync"};
}
RequiredAccess RequiredScope(const v1::ListGroupsRequest&) { return {Scope::kRead, "ListGroups"}; }
RequiredAccess RequiredScope(const v1::ListGroupConnectionsRequest&) {
  return {Scope::kRead, "ListGroupConnections"};
}
RequiredAccess RequiredScope(const v1::ListUsersRequest&) { return {Scope::kRead, "ListUsers"}; }

absl::Status Authorize(const TokenStore& tokens, std::optional<absl::string_view> authorization,
                       const RequiredAccess& needed) {
  if (!authorization.has_value()) {
    return MakeError(absl::StatusCode::kUnauthenticated,
                     "missing credentials: send metadata `authorization: Bearer TOKEN`",
                     "UNAUTHENTICATED");
  }
  std::optional<absl::string_view> token = BearerToken(*authorization);
  if (!token.has_value()) {
    return MakeError(absl::StatusCode::kUnauthenticated,
                     "the authorization metadata is not `Bearer TOKEN`", "UNAUTHENTICATED");
  }
  std::optional<Scope> scope = tokens.Find(*token);
  if (!scope.has_value()) {
    return MakeError(absl::StatusCode::kUnauthenticated, "the bearer token is not valid",
                     "UNAUTHENTICATED");
  }
  if (static_cast<int>(*scope) < static_cast<int>(needed.scope)) {
    return MakeError(absl::StatusCode::kPermissionDenied,
                     absl::StrCat("the token's scope `", ScopeName(*scope), "` does not allow ",
                                  needed.action, " (needs `", ScopeName(needed.scope), "`)"),
                     "PERMISSION_DENIED", {{"required_scope", ScopeName(needed.scope)}});
  }
  return absl::OkStatus();
}

namespace {

bool IsLoopbackAddress(const sockaddr* addr) {
  if (addr->sa_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(addr);
    return (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
  }
  if (addr->sa_family == AF_INET6) {
    const in6_addr& v6 = reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr;
    return IN6_IS_ADDR_LOOPBACK(&v6) || (IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127);
  }
  return false;
}

bool ResolvesToLoopbackOnly(const std::string& name) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(name.c_str(), nullptr, &hints, &found) != 0) return false;
  bool all = found != nullptr;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next)
    all = all && IsLoopbackAddress(a->ai_addr);
  freeaddrinfo(found);
  return all;
}

}  // namespace

bool IsLoopbackListenAddress(absl::string_view listen) {
  if (absl::StartsWith(listen, "unix:") || absl::StartsWith(listen, "unix-abstract:")) return true;
  absl::string_view host = listen;
  size_t colon = listen.rfind(':');
  if (colon != absl::string_view::npos) host = listen.substr(0, colon);
  if (absl::ConsumePrefix(&host, "[")) absl::ConsumeSuffix(&host, "]");
  std::string h = absl::AsciiStrToLower(host);
  // `localhost` itself, resolved here: every address must be loopback.
  // Other names (`*.localhost` included) are not trusted: the resolver
  // decides where they point.
  if (h == "localhost") return ResolvesToLoopbackOnly(h);
  in_addr v4;
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    // ::ffff:127.x.x.x
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;  // Empty host (all interfaces), 0.0.0.0, [::], other names.
}

}  // namespace fivetran_gateway
