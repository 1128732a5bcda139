#include "emulator/faults.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "emulator/api_error.h"
#include "emulator/http_util.h"
#include "httplib.h"

namespace fivetran_emulator {
namespace {

using nlohmann::json;

constexpr int64_t kMaxLatencyMs = 600000;

absl::StatusOr<FaultKind> ParseKind(const std::string& name) {
  for (FaultKind kind : {FaultKind::kStatus, FaultKind::kHtml, FaultKind::kDrop,
                         FaultKind::kLatency, FaultKind::kTruncate}) {
    if (name == FaultKindName(kind)) return kind;
  }
  return InvalidInput("Field 'kind' must be one of status, html, drop, latency, truncate");
}

// `retry_after`: a string (sent as is) or an integer, without line breaks.
absl::Status ParseRetryAfter(const json& body, Fault* f) {
  auto retry = body.find("retry_after");
  if (retry == body.end() || retry->is_null()) return absl::OkStatus();
  if (retry->is_string()) {
    f->retry_after = retry->get<std::string>();
  } else if (retry->is_number_integer() || retry->is_number_unsigned()) {
    f->retry_after = retry->dump();
  } else {
    return InvalidInput("Field 'retry_after' must be a string or an integer");
  }
  if (absl::StrContains(f->retry_after, "\r") || absl::StrContains(f->retry_after, "\n")) {
    return InvalidInput("Field 'retry_after' must not contain line breaks");
  }
  return absl::OkStatus();
}

// Which requests the fault applies to: path_prefix, method, count.
absl::Status ParseMatch(const json& body, Fault* f) {
  absl::StatusOr<std::optional<std::string>> prefix = OptString(body, "path_prefix");
  if (!prefix.ok()) return prefix.status();
  f->path_prefix = prefix->value_or("/v1");
  absl::StatusOr<std::optional<std::string>> method = OptString(body, "method");
  if (!method.ok()) return method.status();
  f->method = absl::AsciiStrToUpper(method->value_or(""));
  absl::StatusOr<std::optional<int64_t>> count = OptInt(body, "count");
  if (!count.ok()) return count.status();
  f->remaining = count->value_or(1);
  if (f->remaining == 0 || f->remaining < -1) {
    return InvalidInput("Field 'count' must be a positive integer or -1");
  }
  return absl::OkStatus();
}

// What the fault answers: status, retry_after, latency_ms, code, message, mode.
absl::Status ParseAnswer(const json& body, Fault* f) {
  absl::StatusOr<std::optional<int64_t>> status = OptInt(body, "status");
  if (!status.ok()) return status.status();
  f->status = static_cast<int>(status->value_or(f->kind == FaultKind::kHtml ? 502 : 503));
  if (status->has_value() && (**status < 200 || **status > 599)) {
    return InvalidInput("Field 'status' must be between 200 and 599");
  }
  if (absl::Status s = ParseRetryAfter(body, f); !s.ok()) return s;
  absl::StatusOr<std::optional<int64_t>> latency = OptInt(body, "latency_ms");
  if (!latency.ok()) return latency.status();
  f->latency_ms = latency->value_or(1000);
  if (f->latency_ms < 0 || f->latency_ms > kMaxLatencyMs) {
    return InvalidInput("Field 'latency_ms' must be between 0 and 600000");
  }
  for (auto [key, dst] : {std::pair<const char*, std::string*>{"code", &f->code},
                          {"message", &f->message},
                          {"mode", &f->mode}}) {
    absl::StatusOr<std::optional<std::string>> s = OptString(body, key);
    if (!s.ok()) return s.status();
    *dst = s->value_or("");
  }
  if (f->kind == FaultKind::kTruncate && f->mode.empty()) f->mode = "short_body";
  if (f->kind == FaultKind::kTruncate && f->mode != "short_body" && f->mode != "cut_json") {
    return InvalidInput("Field 'mode' must be short_body or cut_json");
  }
  return absl::OkStatus();
}

// `apply_first`: a boolean; truncate always serves the request first.
absl::Status ParseApplyFirst(const json& body, Fault* f) {
  auto it = body.find("apply_first");
  if (it == body.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_boolean()) return InvalidInput("Field 'apply_first' must be a boolean");
  f->apply_first = it->get<bool>();
  if (f->apply_first && f->kind == FaultKind::kTruncate) {
    return InvalidInput(
        "Field 'apply_first' is for kinds status, html, drop and latency (truncate always "
        "serves the request first)");
  }
  return absl::OkStatus();
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

std::string HtmlErrorPage(int status) {
  const std::string title = absl::StrCat(status, " ", ReasonPhrase(status));
  return absl::StrCat("<html>\r\n<head><title>", title, "</title></head>\r\n<body>\r\n<center><h1>",
                      title, "</h1></center>\r\n<hr><center>emulated-proxy</center>\r\n</body>\r\n",
                      "</html>\r\n");
}

}  // namespace

const char* FaultKindName(FaultKind kind) {
  switch (kind) {
    case FaultKind::kStatus:
      return "status";
    case FaultKind::kHtml:
      return "html";
    case FaultKind::kDrop:
      return "drop";
    case FaultKind::kLatency:
      return "latency";
    case FaultKind::kTruncate:
      return "truncate";
  }
  return "status";
}

absl::StatusOr<Fault> ParseFault(const json& body) {
  if (!body.is_object()) return InvalidInput("Request body must be a JSON object");
  Fault f;
  absl::StatusOr<std::optional<std::string>> kind = OptString(body, "kind");
  if (!kind.ok()) return kind.status();
  absl::StatusOr<FaultKind> parsed_kind = ParseKind(kind->value_or("status"));
  if (!parsed_kind.ok()) return parsed_kind.status();
  f.kind = *parsed_kind;
  if (absl::Status s = ParseMatch(body, &f); !s.ok()) return s;
  if (absl::Status s = ParseAnswer(body, &f); !s.ok()) return s;
  if (absl::Status s = ParseApplyFirst(body, &f); !s.ok()) return s;
  return f;
}

json FaultToJson(const Fault& f) {
  return json{{"id", f.id},
              {"kind", FaultKindName(f.kind)},
              {"path_prefix", f.path_prefix},
              {"method", f.method},
              {"count", f.remaining},
              {"status", f.status},
              {"retry_after", f.retry_after},
              {"latency_ms", f.latency_ms},
              {"code", f.code},
              {"message", f.message},
              {"mode", f.mode},
              {"apply_first", f.apply_first}};
}

json FaultSummaryToJson(const Fault& f) {
  return json{{"id", f.id},
              {"kind", FaultKindName(f.kind)},
              {"path_prefix", f.path_prefix},
              {"method", f.method},
              {"count", f.remaining},
              {"status", f.status},
              {"apply_first", f.apply_first}};
}

absl::StatusOr<Fault> FaultInjector::Add(Fault f) {
  absl::MutexLock lock(&mu_);
  if (queued_.size() >= kMaxQueued) return InvalidInput("Too many queued faults (max 1000)");
  f.id = next_id_++;
  queued_.push_back(f);
  return f;
}

std::vector<Fault> FaultInjector::Queued() const {
  absl::MutexLock lock(&mu_);
  return std::vector<Fault>(queued_.begin(), queued_.end());
}

void FaultInjector::Clear() {
  absl::MutexLock lock(&mu_);
  queued_.clear();
}

std::optional<Fault> FaultInjector::Take(const std::string& method, const std::string& raw_path) {
  absl::MutexLock lock(&mu_);
  for (auto it = queued_.begin(); it != queued_.end(); ++it) {
    if (!it->method.empty() && it->method != method) continue;
    if (!absl::StartsWith(raw_path, it->path_prefix)) continue;
    Fault f = *it;
    if (it->remaining > 0 && --it->remaining == 0) queued_.erase(it);
    return f;
  }
  if ((rate_503_ <= 0 && rate_drop_ <= 0) || !absl::StartsWith(raw_path, "/v1")) {
    return std::nullopt;
  }
  std::uniform_real_distribution<double> dist(0.0, 1.0);
  const double draw = dist(rng_);
  if (draw < rate_drop_) {
    Fault f;
    f.kind = FaultKind::kDrop;
    return f;
  }
  if (draw < rate_drop_ + rate_503_) {
    Fault f;
    f.kind = FaultKind::kStatus;
    f.status = 503;
    f.retry_after = "1";
    f.message = "Emulated random 503 (--fault_rate_503)";
    return f;
  }
  return std::nullopt;
}

void ClearAnswer(httplib::Response& res) {
  res.status = -1;
  res.headers.clear();
  res.body.clear();
}

void WriteFaultAnswer(const Fault& f, httplib::Response& res) {
  if (f.kind == FaultKind::kStatus) {
    WriteError(res, f.status, f.code.empty() ? DefaultCodeForHttpStatus(f.status) : f.code,
               f.message.empty() ? absl::StrCat("Emulated fault: HTTP ", f.status) : f.message);
  } else {
    res.status = f.status;
    res.set_content(HtmlErrorPage(f.status), "text/html");
  }
  if (!f.retry_after.empty()) res.set_header("Retry-After", f.retry_after);
}

void DropConnection(const httplib::Request& req, httplib::Response& res) {
  if (ShutdownRequestSocket(req)) return;
  // Fallback: promise a body and never send it.
  res.status = 200;
  res.set_content_provider(1024, kJsonMediaType,
                           [](size_t, size_t, httplib::DataSink&) { return false; });
}

void TruncateAnswer(const Fault& f, httplib::Response& res) {
  const std::string full = std::move(res.body);
  res.body.clear();
  const std::string content_type = res.get_header_value("Content-Type");
  if (f.mode == "cut_json") {
    res.set_content(full.substr(0, full.size() / 2),
                    content_type.empty() ? kJsonMediaType : content_type);
    return;
  }
  // Content-Length announces the whole body, half of it is sent, then the
  // connection is closed.
  std::string partial = full.substr(0, full.size() / 2);
  res.headers.erase("Content-Type");
  res.set_content_provider(full.size() + 1, content_type.empty() ? kJsonMediaType : content_type,
                           [partial](size_t offset, size_t, httplib::DataSink& sink) {
                             if (offset == 0 && !partial.empty()) {
                               sink.write(partial.data(), partial.size());
                             }
                             return false;
                           });
}

}  // namespace fivetran_emulator
