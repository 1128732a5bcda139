#include "emulator/server.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "emulator/api_error.h"
#include "emulator/clock.h"
#include "emulator/pagination.h"
#include "httplib.h"

namespace fivetran_emulator {
namespace {

using nlohmann::json;

constexpr char kJson[] = "application/json";
constexpr int kMaxJsonDepth = 64;
constexpr size_t kMaxEchoedPath = 200;

std::string Cut(absl::string_view s, size_t n) {
  return s.size() <= n ? std::string(s) : absl::StrCat(s.substr(0, n), "...");
}

void WriteJson(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), kJson);
}

void WriteError(httplib::Response& res, int status, absl::string_view code,
                absl::string_view message) {
  WriteJson(res, status, json{{"code", code}, {"message", message}});
}

void WriteStatus(httplib::Response& res, const absl::Status& status) {
  WriteError(res, HttpStatusOf(status), FivetranCodeOf(status), status.message());
}

void WriteSuccess(httplib::Response& res, int status, absl::string_view message,
                  std::optional<json> data) {
  json body{{"code", "Success"}, {"message", message}};
  if (data.has_value()) body["data"] = std::move(*data);
  WriteJson(res, status, body);
}

// Percent-decodes one path segment; malformed escapes stay literal.
std::string DecodeSegment(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    int hi = 0;
    int lo = 0;
    auto hex = [](char c, int* v) {
      if (c >= '0' && c <= '9') return *v = c - '0', true;
      if (c >= 'a' && c <= 'f') return *v = c - 'a' + 10, true;
      if (c >= 'A' && c <= 'F') return *v = c - 'A' + 10, true;
      return false;
    };
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1], &hi) && hex(s[i + 2], &lo)) {
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// Nesting depth of a JSON text, ignoring brackets inside strings. Checked
// before parsing so hostile bodies cannot exhaust the stack later.
int JsonDepth(absl::string_view text) {
  int depth = 0;
  int max_depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      max_depth = std::max(max_depth, ++depth);
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return max_depth;
}

// Parses a request body. Empty -> null json.
absl::StatusOr<json> ParseBody(const std::string& body) {
  if (absl::StripAsciiWhitespace(body).empty()) return json();
  if (JsonDepth(body) > kMaxJsonDepth) {
    return InvalidInput(absl::StrCat("Request body is nested deeper than ", kMaxJsonDepth));
  }
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return InvalidInput("Request body is not valid JSON");
  return parsed;
}

// Media type (lower case, no parameters) and its parameters.
struct MediaRange {
  std::string type;
  std::vector<std::pair<std::string, std::string>> params;
};

MediaRange ParseMediaRange(absl::string_view text) {
  MediaRange out;
  std::vector<absl::string_view> parts = absl::StrSplit(text, ';');
  out.type = absl::AsciiStrToLower(absl::StripAsciiWhitespace(parts[0]));
  for (size_t i = 1; i < parts.size(); ++i) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(parts[i], absl::MaxSplits('=', 1));
    out.params.emplace_back(absl::AsciiStrToLower(absl::StripAsciiWhitespace(kv.first)),
                            std::string(absl::StripAsciiWhitespace(kv.second)));
  }
  return out;
}

// Missing, */*, application/*, application/json (optionally ;version=1|2,
// ;charset=..., ;q=...) are acceptable; the header may list several ranges.
bool AcceptOk(const httplib::Request& req) {
  if (!req.has_header("Accept")) return true;
  const std::string accept = req.get_header_value("Accept");
  if (absl::StripAsciiWhitespace(accept).empty()) return true;
  for (absl::string_view range : absl::StrSplit(accept, ',')) {
    MediaRange m = ParseMediaRange(range);
    if (m.type != "*/*" && m.type != "application/*" && m.type != kJson) continue;
    bool ok = true;
    for (const auto& [name, value] : m.params) {
      if (name == "version") {
        ok = ok && (value == "1" || value == "2");
      } else if (name != "charset" && name != "q") {
        ok = false;
      }
    }
    if (ok) return true;
  }
  return false;
}

bool ContentTypeOk(const httplib::Request& req) {
  if (!req.has_header("Content-Type")) return false;
  return ParseMediaRange(req.get_header_value("Content-Type")).type == kJson;
}

enum class RouteKind {
  kNone,
  kConnections,       // /v1/connections
  kConnection,        // /v1/connections/{id}
  kSync,              // /v1/connections/{id}/sync
  kForce,             // /v1/connections/{id}/force
  kGroups,            // /v1/groups
  kGroupConnections,  // /v1/groups/{id}/connections
  kUsers,             // /v1/users
};

struct Route {
  RouteKind kind = RouteKind::kNone;
  std::string id;
};

Route MatchRoute(const std::string& raw_path) {
  Route route;
  absl::string_view p = raw_path;
  if (!absl::ConsumePrefix(&p, "/")) return route;
  if (p.size() > 1 && absl::EndsWith(p, "/")) p.remove_suffix(1);
  std::vector<std::string> segs;
  for (absl::string_view s : absl::StrSplit(p, '/')) {
    if (s.empty()) return route;
    segs.push_back(DecodeSegment(s));
  }
  if (segs.size() < 2 || segs[0] != "v1") return route;
  const bool conn = segs[1] == "connections" || segs[1] == "connectors";
  if (conn && segs.size() == 2) {
    route.kind = RouteKind::kConnections;
  } else if (conn && segs.size() == 3) {
    route.kind = RouteKind::kConnection;
    route.id = segs[2];
  } else if (conn && segs.size() == 4 && (segs[3] == "sync" || segs[3] == "force")) {
    route.kind = segs[3] == "sync" ? RouteKind::kSync : RouteKind::kForce;
    route.id = segs[2];
  } else if (segs[1] == "groups" && segs.size() == 2) {
    route.kind = RouteKind::kGroups;
  } else if (segs[1] == "groups" && segs.size() == 4 &&
             (segs[3] == "connections" || segs[3] == "connectors")) {
    route.kind = RouteKind::kGroupConnections;
    route.id = segs[2];
  } else if (segs[1] == "users" && segs.size() == 2) {
    route.kind = RouteKind::kUsers;
  }
  return route;
}

std::vector<std::string> AllowedMethods(RouteKind kind) {
  switch (kind) {
    case RouteKind::kConnections:
      return {"GET", "POST"};
    case RouteKind::kSync:
    case RouteKind::kForce:
      return {"POST"};
    case RouteKind::kNone:
      return {};
    default:
      return {"GET"};
  }
}

std::optional<std::string> Param(const httplib::Request& req, const char* name) {
  if (!req.has_param(name)) return std::nullopt;
  return req.get_param_value(name);
}

absl::StatusOr<PageRequest> PageFrom(const httplib::Request& req) {
  PageRequest page;
  absl::StatusOr<int> limit = ParseLimit(Param(req, "limit"));
  if (!limit.ok()) return limit.status();
  page.limit = *limit;
  page.cursor = Param(req, "cursor").value_or("");
  return page;
}

int PortOf(const sockaddr_storage& a) {
  if (a.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(a).sin_port);
  if (a.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(a).sin6_port);
  return -1;
}

// Finds the server-side socket of `req` and shuts it down, so the client sees
// the connection closed without any response bytes. httplib does not expose
// the socket, so it is looked up by its (local port, peer port) pair.
bool ShutdownRequestSocket(const httplib::Request& req) {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return false;
  bool done = false;
  while (dirent* entry = readdir(dir)) {
    int fd = -1;
    if (!absl::SimpleAtoi(entry->d_name, &fd) || fd < 0) continue;
    sockaddr_storage local{};
    socklen_t local_len = sizeof(local);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0) continue;
    if (PortOf(local) != req.local_port) continue;
    sockaddr_storage peer{};
    socklen_t peer_len = sizeof(peer);
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) continue;
    if (PortOf(peer) != req.remote_port) continue;
    shutdown(fd, SHUT_RDWR);
    done = true;
    break;
  }
  closedir(dir);
  return done;
}

void ApplyRateHeaders(httplib::Response& res, int limit, int remaining) {
  res.set_header("X-Rate-Limit", std::to_string(limit));
  res.set_header("X-Rate-Limit-Remaining", std::to_string(std::max(remaining, 0)));
}

std::string HtmlErrorPage(int status) {
  const std::string title = absl::StrCat(status, " ", ReasonPhrase(status));
  return absl::StrCat("<html>\r\n<head><title>", title, "</title></head>\r\n<body>\r\n<center><h1>",
                      title, "</h1></center>\r\n<hr><center>emulated-proxy</center>\r\n</body>\r\n",
                      "</html>\r\n");
}

absl::StatusOr<std::optional<int64_t>> OptInt(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::optional<int64_t>();
  if (it->is_number_integer()) return std::optional<int64_t>(it->get<int64_t>());
  if (it->is_number_unsigned() && it->get<uint64_t>() < (uint64_t{1} << 62)) {
    return std::optional<int64_t>(static_cast<int64_t>(it->get<uint64_t>()));
  }
  return InvalidInput(absl::StrCat("Field '", key, "' must be an integer"));
}

absl::StatusOr<std::optional<std::string>> OptString(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::optional<std::string>();
  if (it->is_string()) return std::optional<std::string>(it->get<std::string>());
  return InvalidInput(absl::StrCat("Field '", key, "' must be a string"));
}

}  // namespace

absl::Status ParseListenAddress(const std::string& listen, std::string* host, int* port) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError("--listen must be HOST:PORT, got '" + listen + "'");
  }
  std::string h = listen.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  int p = -1;
  if (h.empty() || !absl::SimpleAtoi(listen.substr(colon + 1), &p) || p < 0 || p > 65535) {
    return absl::InvalidArgumentError("--listen must be HOST:PORT, got '" + listen + "'");
  }
  *host = h;
  *port = p;
  return absl::OkStatus();
}

Emulator::Emulator(ServerOptions options, std::unique_ptr<Account> account)
    : options_(std::move(options)),
      account_(std::move(account)),
      rate_limit_(options_.rate_limit_per_hour),
      rng_(options_.fault_seed) {}

Emulator::~Emulator() { Stop(); }

absl::Status Emulator::Start() {
  if (server_ != nullptr) return absl::FailedPreconditionError("already started");
  signal(SIGPIPE, SIG_IGN);
  if (options_.tls_cert_file.empty() != options_.tls_key_file.empty()) {
    return absl::InvalidArgumentError("--tls_cert and --tls_key go together");
  }
  if (!options_.tls_cert_file.empty()) {
    auto tls = std::make_unique<httplib::SSLServer>(options_.tls_cert_file.c_str(),
                                                    options_.tls_key_file.c_str());
    if (!tls->is_valid()) {
      return absl::InvalidArgumentError("cannot load the TLS certificate " +
                                        options_.tls_cert_file + " and key " +
                                        options_.tls_key_file);
    }
    server_ = std::move(tls);
  } else {
    server_ = std::make_unique<httplib::Server>();
  }
  const int threads = std::max(options_.threads, 2);
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server_->set_keep_alive_max_count(1000);
  // Headers and body go out in separate writes; without TCP_NODELAY a reused
  // connection pays the Nagle/delayed-ACK penalty (~40 ms) per response.
  server_->set_tcp_nodelay(true);
  server_->set_keep_alive_timeout(std::max(options_.keep_alive_timeout_sec, 1));
  server_->set_read_timeout(10, 0);
  server_->set_write_timeout(10, 0);
  server_->set_payload_max_length(options_.max_body_bytes);
  auto handler = [this](const httplib::Request& req, httplib::Response& res) { Handle(req, res); };
  // [\s\S] also matches decoded newlines, so every request reaches Handle.
  const std::string any = R"([\s\S]*)";
  server_->Get(any, handler);
  server_->Post(any, handler);
  server_->Put(any, handler);
  server_->Patch(any, handler);
  server_->Delete(any, handler);
  server_->Options(any, handler);
  // httplib waits for EOF when a POST has neither Content-Length nor
  // Transfer-Encoding (e.g. `curl -X POST` without data). Such a request has
  // no body: answer it before httplib tries to read one.
  server_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    const bool has_body_method =
        req.method == "POST" || req.method == "PUT" || req.method == "PATCH";
    if (has_body_method && !req.has_header("Content-Length") &&
        !req.has_header("Transfer-Encoding")) {
      Handle(req, res);
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // Errors httplib produces itself (bad request line, 413, ...) get the JSON
  // envelope too.
  server_->set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty() || res.content_provider_) {
          return httplib::Server::HandlerResponse::Unhandled;
        }
        WriteError(res, res.status, DefaultCodeForHttpStatus(res.status), ReasonPhrase(res.status));
        return httplib::Server::HandlerResponse::Handled;
      }));
  server_->set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        WriteError(res, 500, "InternalError", "Unexpected error in the emulator");
      });
  if (options_.log_requests) {
    server_->set_logger([](const httplib::Request& req, const httplib::Response& res) {
      std::cerr << "fivetran_emulator: " << req.method << " " << Cut(req.target, 300) << " -> "
                << res.status << "\n";
    });
  }

  if (options_.port == 0) {
    port_ = server_->bind_to_any_port(options_.host);
    if (port_ <= 0) {
      return absl::UnavailableError("cannot bind " + options_.host + ":0");
    }
  } else {
    if (!server_->bind_to_port(options_.host, options_.port)) {
      return absl::UnavailableError(
          absl::StrCat("cannot bind ", options_.host, ":", options_.port));
    }
    port_ = options_.port;
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!server_->is_running()) {
    if (absl::Now() > deadline) return absl::DeadlineExceededError("server did not start");
    absl::SleepFor(absl::Milliseconds(1));
  }
  return absl::OkStatus();
}

void Emulator::Stop() {
  if (server_ == nullptr) return;
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

void Emulator::Handle(const httplib::Request& req, httplib::Response& res) {
  const std::string& target = req.target.empty() ? req.path : req.target;
  const size_t q = target.find('?');
  const std::string raw_path = target.substr(0, q);
  const std::string raw_query = q == std::string::npos ? "" : target.substr(q + 1);
  if (raw_path == "/_emulator" || absl::StartsWith(raw_path, "/_emulator/")) {
    HandleAdmin(req, raw_path, res);
    return;
  }
  HandleApi(req, raw_path, raw_query, res);
}

void Emulator::HandleApi(const httplib::Request& req, const std::string& raw_path,
                         const std::string& raw_query, httplib::Response& res) {
  const int64_t seq = RecordRequest(req, raw_path, raw_query);
  if (options_.latency > absl::ZeroDuration()) absl::SleepFor(options_.latency);
  std::optional<Fault> fault = TakeFault(req.method, raw_path);
  if (fault.has_value() && fault->kind == "latency") {
    absl::SleepFor(absl::Milliseconds(fault->latency_ms));
    fault.reset();
  }
  if (fault.has_value() && (fault->kind == "status" || fault->kind == "html")) {
    if (fault->kind == "status") {
      WriteError(res, fault->status,
                 fault->code.empty() ? DefaultCodeForHttpStatus(fault->status) : fault->code,
                 fault->message.empty() ? absl::StrCat("Emulated fault: HTTP ", fault->status)
                                        : fault->message);
    } else {
      res.status = fault->status;
      res.set_content(HtmlErrorPage(fault->status), "text/html");
    }
    if (!fault->retry_after.empty()) res.set_header("Retry-After", fault->retry_after);
    RateDecision rate = TakeRate(/*count=*/false);
    ApplyRateHeaders(res, rate.limit, fault->status == 429 ? 0 : rate.remaining);
    RecordStatus(seq, res.status);
    return;
  }
  if (fault.has_value() && fault->kind == "drop") {
    if (!ShutdownRequestSocket(req)) {
      // Fallback: promise a body and never send it.
      res.status = 200;
      res.set_content_provider(1024, kJson,
                               [](size_t, size_t, httplib::DataSink&) { return false; });
    }
    RecordStatus(seq, 0);
    return;
  }

  ServeApi(req, raw_path, res);

  if (fault.has_value() && fault->kind == "truncate") {
    const std::string full = std::move(res.body);
    res.body.clear();
    const std::string content_type = res.get_header_value("Content-Type");
    if (fault->mode == "cut_json") {
      res.set_content(full.substr(0, full.size() / 2), content_type.empty() ? kJson : content_type);
    } else {
      // Content-Length announces the whole body, half of it is sent, then the
      // connection is closed.
      std::string partial = full.substr(0, full.size() / 2);
      res.headers.erase("Content-Type");
      res.set_content_provider(full.size() + 1, content_type.empty() ? kJson : content_type,
                               [partial](size_t offset, size_t, httplib::DataSink& sink) {
                                 if (offset == 0 && !partial.empty())
                                   sink.write(partial.data(), partial.size());
                                 return false;
                               });
    }
  }
  RecordStatus(seq, res.status);
}

void Emulator::ServeApi(const httplib::Request& req, const std::string& raw_path,
                        httplib::Response& res) {
  if (!Authorized(req)) {
    WriteError(res, 401, "AuthFailed", "Invalid credentials");
    RateDecision rate = TakeRate(/*count=*/false);
    ApplyRateHeaders(res, rate.limit, rate.remaining);
    return;
  }
  const RateDecision rate = TakeRate(/*count=*/true);
  ApplyRateHeaders(res, rate.limit, rate.remaining);
  if (!rate.allowed) {
    WriteError(
        res, 429, "TooManyRequests",
        absl::StrCat("Max ", rate.limit, " api calls allowed in one-hour rolling time period"));
    res.set_header("Retry-After", std::to_string(rate.retry_after_seconds));
    return;
  }
  if (!AcceptOk(req)) {
    WriteError(res, 406, "NotAcceptable",
               "Unsupported Accept header; use application/json or "
               "application/json;version=2");
    return;
  }
  const Route route = MatchRoute(raw_path);
  if (route.kind == RouteKind::kNone) {
    WriteError(res, 404, "NotFound",
               absl::StrCat("No such endpoint: ", Cut(raw_path, kMaxEchoedPath)));
    return;
  }
  const std::string method = req.method == "HEAD" ? "GET" : req.method;
  const std::vector<std::string> allowed = AllowedMethods(route.kind);
  if (std::find(allowed.begin(), allowed.end(), method) == allowed.end()) {
    res.set_header("Allow", absl::StrJoin(allowed, ", "));
    WriteError(res, 405, "MethodNotAllowed",
               absl::StrCat("Method ", Cut(req.method, 20), " is not allowed for ",
                            Cut(raw_path, kMaxEchoedPath)));
    return;
  }
  json body;
  if (method == "POST") {
    if (!ContentTypeOk(req)) {
      WriteError(res, 415, "UnsupportedMediaType", "Content-Type must be application/json");
      return;
    }
    absl::StatusOr<json> parsed = ParseBody(req.body);
    if (!parsed.ok()) {
      WriteStatus(res, parsed.status());
      return;
    }
    body = std::move(*parsed);
  }

  switch (route.kind) {
    case RouteKind::kConnection: {
      absl::StatusOr<json> c = account_->GetConnection(route.id);
      if (!c.ok()) return WriteStatus(res, c.status());
      return WriteSuccess(res, 200, "Connection details retrieved successfully", std::move(*c));
    }
    case RouteKind::kConnections: {
      if (method == "POST") {
        absl::StatusOr<json> c = account_->CreateConnection(body);
        if (!c.ok()) return WriteStatus(res, c.status());
        return WriteSuccess(res, 201, "Connection has been created", std::move(*c));
      }
      absl::StatusOr<PageRequest> page = PageFrom(req);
      if (!page.ok()) return WriteStatus(res, page.status());
      std::optional<std::string> group = Param(req, "group_id");
      if (group.has_value() && group->empty()) group.reset();
      absl::StatusOr<json> data = account_->ListConnections(group, Param(req, "schema"), *page);
      if (!data.ok()) return WriteStatus(res, data.status());
      return WriteSuccess(res, 200, "Connections retrieved successfully", std::move(*data));
    }
    case RouteKind::kSync:
    case RouteKind::kForce: {
      bool force = route.kind == RouteKind::kForce;
      if (!body.is_null() && !body.is_object()) {
        return WriteStatus(res, InvalidInput("Request body must be a JSON object"));
      }
      if (route.kind == RouteKind::kSync && body.is_object()) {
        auto f = body.find("force");
        if (f != body.end() && !f->is_null()) {
          if (f->is_boolean()) {
            force = f->get<bool>();
          } else if (f->is_string() &&
                     (f->get<std::string>() == "true" || f->get<std::string>() == "false")) {
            force = f->get<std::string>() == "true";
          } else {
            return WriteStatus(res, InvalidInput("Field 'force' must be a boolean"));
          }
        }
      }
      absl::Status s = account_->TriggerSync(route.id, force);
      if (!s.ok()) return WriteStatus(res, s);
      return WriteSuccess(
          res, 200,
          absl::StrCat("Sync has been successfully triggered for connection with id '",
                       Cut(route.id, kMaxEchoedPath), "'"),
          std::nullopt);
    }
    case RouteKind::kGroups: {
      absl::StatusOr<PageRequest> page = PageFrom(req);
      if (!page.ok()) return WriteStatus(res, page.status());
      absl::StatusOr<json> data = account_->ListGroups(*page);
      if (!data.ok()) return WriteStatus(res, data.status());
      return WriteSuccess(res, 200, "Groups retrieved successfully", std::move(*data));
    }
    case RouteKind::kGroupConnections: {
      absl::StatusOr<PageRequest> page = PageFrom(req);
      if (!page.ok()) return WriteStatus(res, page.status());
      absl::StatusOr<json> data = account_->ListConnections(route.id, Param(req, "schema"), *page);
      if (!data.ok()) return WriteStatus(res, data.status());
      return WriteSuccess(res, 200, "Group connections retrieved successfully", std::move(*data));
    }
    case RouteKind::kUsers: {
      absl::StatusOr<PageRequest> page = PageFrom(req);
      if (!page.ok()) return WriteStatus(res, page.status());
      std::optional<bool> active;
      if (std::optional<std::string> a = Param(req, "active"); a.has_value()) {
        const std::string v = absl::AsciiStrToLower(*a);
        if (v != "true" && v != "false") {
          return WriteStatus(
              res, InvalidInput("Invalid value for query parameter 'active': use true or false"));
        }
        active = v == "true";
      }
      absl::StatusOr<json> data = account_->ListUsers(active, *page);
      if (!data.ok()) return WriteStatus(res, data.status());
      return WriteSuccess(res, 200, "Users list retrieved successfully", std::move(*data));
    }
    case RouteKind::kNone:
      break;
  }
  WriteError(res, 404, "NotFound", "No such endpoint");
}

bool Emulator::Authorized(const httplib::Request& req) const {
  if (!req.has_header("Authorization")) return false;
  const std::string header = req.get_header_value("Authorization");
  absl::string_view value = absl::StripAsciiWhitespace(header);
  if (value.size() < 6 || !absl::EqualsIgnoreCase(value.substr(0, 6), "basic ")) return false;
  std::string decoded;
  if (!absl::Base64Unescape(absl::StripAsciiWhitespace(value.substr(6)), &decoded)) return false;
  const size_t colon = decoded.find(':');
  if (colon == std::string::npos) return false;
  // Compare everything (no early exit on the first differing byte).
  const std::string expected = options_.api_key + ":" + options_.api_secret;
  unsigned diff = decoded.size() == expected.size() ? 0 : 1;
  for (size_t i = 0; i < decoded.size() && i < expected.size(); ++i) {
    diff |= static_cast<unsigned char>(decoded[i]) ^ static_cast<unsigned char>(expected[i]);
  }
  return diff == 0;
}

Emulator::RateDecision Emulator::TakeRate(bool count) {
  absl::MutexLock lock(&mu_);
  const absl::Time now = absl::Now();
  while (!window_.empty() && window_.front() <= now - absl::Hours(1)) window_.pop_front();
  RateDecision d;
  d.limit = rate_limit_;
  if (!count) {
    d.remaining = rate_limit_ - static_cast<int>(window_.size());
    return d;
  }
  if (static_cast<int>(window_.size()) >= rate_limit_) {
    d.allowed = false;
    d.remaining = 0;
    const absl::Duration wait =
        window_.empty() ? absl::Hours(1) : window_.front() + absl::Hours(1) - now;
    d.retry_after_seconds =
        std::max<int64_t>(1, absl::ToInt64Seconds(absl::Ceil(wait, absl::Seconds(1))));
    return d;
  }
  window_.push_back(now);
  d.remaining = rate_limit_ - static_cast<int>(window_.size());
  return d;
}

std::optional<Emulator::Fault> Emulator::TakeFault(const std::string& method,
                                                   const std::string& raw_path) {
  absl::MutexLock lock(&mu_);
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (!it->method.empty() && it->method != method) continue;
    if (!absl::StartsWith(raw_path, it->path_prefix)) continue;
    Fault f = *it;
    if (it->remaining > 0 && --it->remaining == 0) faults_.erase(it);
    return f;
  }
  if ((options_.fault_rate_503 > 0 || options_.fault_rate_drop > 0) &&
      absl::StartsWith(raw_path, "/v1")) {
    std::uniform_real_distribution<double> dist(0.0, 1.0);
    double draw = dist(rng_);
    if (draw < options_.fault_rate_drop) {
      Fault f;
      f.kind = "drop";
      return f;
    }
    if (draw < options_.fault_rate_drop + options_.fault_rate_503) {
      Fault f;
      f.kind = "status";
      f.status = 503;
      f.retry_after = "1";
      f.message = "Emulated random 503 (--fault_rate_503)";
      return f;
    }
  }
  return std::nullopt;
}

int64_t Emulator::RecordRequest(const httplib::Request& req, const std::string& raw_path,
                                const std::string& raw_query) {
  json headers = json::object();
  bool has_auth = false;
  for (const auto& [name, value] : req.headers) {
    const std::string lower = absl::AsciiStrToLower(name);
    if (lower == "authorization") {
      has_auth = true;
      continue;
    }
    if (lower == "proxy-authorization" || lower == "cookie") continue;
    // Headers httplib adds to the request object itself.
    if (lower == "remote_addr" || lower == "remote_port" || lower == "local_addr" ||
        lower == "local_port") {
      continue;
    }
    headers[lower] = Cut(value, 1024);
  }
  headers["has_authorization"] = has_auth;
  json entry{{"method", req.method},
             {"path", raw_path},
             {"query", raw_query},
             {"headers", std::move(headers)},
             {"body", req.body.size() > options_.max_logged_body
                          ? req.body.substr(0, options_.max_logged_body)
                          : req.body},
             {"time", FormatTimestamp(absl::Now())},
             {"status", 0}};
  absl::MutexLock lock(&mu_);
  const int64_t seq = next_seq_++;
  entry["seq"] = seq;
  log_.push_back(LoggedRequest{seq, std::move(entry)});
  while (log_.size() > options_.request_log_capacity) log_.pop_front();
  return seq;
}

void Emulator::RecordStatus(int64_t seq, int status) {
  absl::MutexLock lock(&mu_);
  if (log_.empty() || seq < log_.front().seq) return;
  const size_t index = static_cast<size_t>(seq - log_.front().seq);
  if (index < log_.size() && log_[index].seq == seq) log_[index].entry["status"] = status;
}

absl::StatusOr<json> Emulator::AddFault(const json& body) {
  if (!body.is_object()) return InvalidInput("Request body must be a JSON object");
  Fault f;
  absl::StatusOr<std::optional<std::string>> kind = OptString(body, "kind");
  if (!kind.ok()) return kind.status();
  f.kind = kind->value_or("status");
  if (f.kind != "status" && f.kind != "html" && f.kind != "drop" && f.kind != "latency" &&
      f.kind != "truncate") {
    return InvalidInput("Field 'kind' must be one of status, html, drop, latency, truncate");
  }
  absl::StatusOr<std::optional<std::string>> prefix = OptString(body, "path_prefix");
  if (!prefix.ok()) return prefix.status();
  f.path_prefix = prefix->value_or("/v1");
  absl::StatusOr<std::optional<std::string>> method = OptString(body, "method");
  if (!method.ok()) return method.status();
  f.method = absl::AsciiStrToUpper(method->value_or(""));
  absl::StatusOr<std::optional<int64_t>> count = OptInt(body, "count");
  if (!count.ok()) return count.status();
  f.remaining = count->value_or(1);
  if (f.remaining == 0 || f.remaining < -1) {
    return InvalidInput("Field 'count' must be a positive integer or -1");
  }
  absl::StatusOr<std::optional<int64_t>> status = OptInt(body, "status");
  if (!status.ok()) return status.status();
  f.status = static_cast<int>(status->value_or(f.kind == "html" ? 502 : 503));
  if (status->has_value() && (**status < 200 || **status > 599)) {
    return InvalidInput("Field 'status' must be between 200 and 599");
  }
  auto retry = body.find("retry_after");
  if (retry != body.end() && !retry->is_null()) {
    if (retry->is_string()) {
      f.retry_after = retry->get<std::string>();
    } else if (retry->is_number_integer() || retry->is_number_unsigned()) {
      f.retry_after = retry->dump();
    } else {
      return InvalidInput("Field 'retry_after' must be a string or an integer");
    }
    if (absl::StrContains(f.retry_after, "\r") || absl::StrContains(f.retry_after, "\n")) {
      return InvalidInput("Field 'retry_after' must not contain line breaks");
    }
  }
  absl::StatusOr<std::optional<int64_t>> latency = OptInt(body, "latency_ms");
  if (!latency.ok()) return latency.status();
  f.latency_ms = latency->value_or(1000);
  if (f.latency_ms < 0 || f.latency_ms > 600000) {
    return InvalidInput("Field 'latency_ms' must be between 0 and 600000");
  }
  for (auto [key, dst] : {std::pair<const char*, std::string*>{"code", &f.code},
                          {"message", &f.message},
                          {"mode", &f.mode}}) {
    absl::StatusOr<std::optional<std::string>> s = OptString(body, key);
    if (!s.ok()) return s.status();
    *dst = s->value_or("");
  }
  if (f.kind == "truncate" && f.mode.empty()) f.mode = "short_body";
  if (f.kind == "truncate" && f.mode != "short_body" && f.mode != "cut_json") {
    return InvalidInput("Field 'mode' must be short_body or cut_json");
  }
  absl::MutexLock lock(&mu_);
  if (faults_.size() >= 1000) return InvalidInput("Too many queued faults (max 1000)");
  f.id = next_fault_id_++;
  faults_.push_back(f);
  return json{{"id", f.id},
              {"kind", f.kind},
              {"path_prefix", f.path_prefix},
              {"method", f.method},
              {"count", f.remaining},
              {"status", f.status},
              {"retry_after", f.retry_after},
              {"latency_ms", f.latency_ms},
              {"code", f.code},
              {"message", f.message},
              {"mode", f.mode}};
}

void Emulator::HandleAdmin(const httplib::Request& req, const std::string& raw_path,
                           httplib::Response& res) {
  absl::string_view p = raw_path;
  absl::ConsumePrefix(&p, "/_emulator");
  if (p.size() > 1 && absl::EndsWith(p, "/")) p.remove_suffix(1);
  const std::string& m = req.method;
  json body;
  if (m == "POST") {
    absl::StatusOr<json> parsed = ParseBody(req.body);
    if (!parsed.ok()) return WriteStatus(res, parsed.status());
    body = std::move(*parsed);
    if (body.is_null()) body = json::object();
  }
  auto method_not_allowed = [&] {
    WriteError(res, 405, "MethodNotAllowed",
               absl::StrCat("Method ", Cut(m, 20), " is not allowed here"));
  };

  if (p == "/health") {
    if (m != "GET") return method_not_allowed();
    return WriteJson(res, 200, json{{"code", "Success"}, {"status", "ok"}});
  }
  if (p == "/faults") {
    if (m == "POST") {
      absl::StatusOr<json> f = AddFault(body);
      if (!f.ok()) return WriteStatus(res, f.status());
      return WriteSuccess(res, 200, "Fault queued", std::move(*f));
    }
    if (m == "DELETE") {
      absl::MutexLock lock(&mu_);
      faults_.clear();
      return WriteSuccess(res, 200, "Faults cleared", std::nullopt);
    }
    if (m == "GET") {
      json items = json::array();
      absl::MutexLock lock(&mu_);
      for (const Fault& f : faults_) {
        items.push_back(json{{"id", f.id},
                             {"kind", f.kind},
                             {"path_prefix", f.path_prefix},
                             {"method", f.method},
                             {"count", f.remaining},
                             {"status", f.status}});
      }
      return WriteSuccess(res, 200, "Queued faults", json{{"items", items}});
    }
    return method_not_allowed();
  }
  if (p == "/requests") {
    if (m == "DELETE") {
      absl::MutexLock lock(&mu_);
      log_.clear();
      return WriteSuccess(res, 200, "Request log cleared", std::nullopt);
    }
    if (m != "GET") return method_not_allowed();
    const std::string prefix =
        req.has_param("path_prefix") ? req.get_param_value("path_prefix") : "";
    json items = json::array();
    {
      absl::MutexLock lock(&mu_);
      for (const LoggedRequest& r : log_) {
        const json& path = r.entry["path"];
        if (!prefix.empty() && !absl::StartsWith(path.get<std::string>(), prefix)) continue;
        items.push_back(r.entry);
      }
    }
    const size_t n = items.size();
    return WriteJson(res, 200, json{{"count", n}, {"requests", std::move(items)}});
  }
  if (p == "/reset") {
    if (m != "POST") return method_not_allowed();
    account_->Reset();
    absl::MutexLock lock(&mu_);
    faults_.clear();
    log_.clear();
    window_.clear();
    rate_limit_ = options_.rate_limit_per_hour;
    return WriteSuccess(res, 200, "Emulator reset to the seed", std::nullopt);
  }
  if (p == "/rate_limit") {
    if (m != "POST") return method_not_allowed();
    if (!body.is_object())
      return WriteStatus(res, InvalidInput("Request body must be a JSON object"));
    absl::StatusOr<std::optional<int64_t>> limit = OptInt(body, "limit_per_hour");
    if (!limit.ok()) return WriteStatus(res, limit.status());
    if (!limit->has_value() || **limit < 1 || **limit > 10000000) {
      return WriteStatus(res, InvalidInput("Field 'limit_per_hour' must be 1..10000000"));
    }
    absl::MutexLock lock(&mu_);
    rate_limit_ = static_cast<int>(**limit);
    window_.clear();
    return WriteSuccess(res, 200, "Rate limit set", json{{"limit_per_hour", rate_limit_}});
  }
  // /connections/{id}/sync_outcome
  std::vector<std::string> segs = absl::StrSplit(p, '/');
  if (segs.size() == 4 && segs[0].empty() && segs[1] == "connections" &&
      segs[3] == "sync_outcome") {
    if (m != "POST") return method_not_allowed();
    if (!body.is_object())
      return WriteStatus(res, InvalidInput("Request body must be a JSON object"));
    SyncOverride o;
    absl::StatusOr<std::optional<std::string>> outcome = OptString(body, "outcome");
    if (!outcome.ok()) return WriteStatus(res, outcome.status());
    absl::StatusOr<SyncOutcome> parsed = ParseSyncOutcome(outcome->value_or("success"));
    if (!parsed.ok()) return WriteStatus(res, InvalidInput(parsed.status().message()));
    o.outcome = *parsed;
    for (auto [key, dst] :
         {std::pair<const char*, std::optional<absl::Duration>*>{"duration_ms", &o.duration},
          {"reschedule_after_ms", &o.reschedule_delay}}) {
      absl::StatusOr<std::optional<int64_t>> ms = OptInt(body, key);
      if (!ms.ok()) return WriteStatus(res, ms.status());
      if (ms->has_value()) {
        if (**ms < 0 || **ms > 86400000) {
          return WriteStatus(res, InvalidInput(absl::StrCat("Field '", key, "' out of range")));
        }
        *dst = absl::Milliseconds(**ms);
      }
    }
    const std::string id = DecodeSegment(segs[2]);
    absl::Status s = account_->SetSyncOverride(id, o);
    if (!s.ok()) return WriteStatus(res, s);
    return WriteSuccess(res, 200, "Sync outcome set",
                        json{{"id", id}, {"outcome", SyncOutcomeName(o.outcome)}});
  }
  WriteError(res, 404, "NotFound", absl::StrCat("No such admin endpoint: ", Cut(raw_path, 200)));
}

}  // namespace fivetran_emulator
