#include "emulator/server.h"

#include <signal.h>
#include <sys/socket.h>

#include <algorithm>
#include <exception>
#include <iostream>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "emulator/api_error.h"
#include "emulator/http_util.h"
#include "emulator/thread_pool.h"
#include "httplib.h"

namespace fivetran_emulator {
namespace {

// Every request reaches `handler`: all methods, any path ([\s\S] also
// matches decoded newlines), and bodiless POSTs before httplib waits for one.
void RouteEverything(httplib::Server& server, const httplib::Server::Handler& handler) {
  const std::string any = R"([\s\S]*)";
  server.Get(any, handler);
  server.Post(any, handler);
  server.Put(any, handler);
  server.Patch(any, handler);
  server.Delete(any, handler);
  server.Options(any, handler);
  // httplib waits for EOF when a POST has neither Content-Length nor
  // Transfer-Encoding (e.g. `curl -X POST` without data). Such a request has
  // no body: answer it before httplib tries to read one.
  server.set_pre_routing_handler([handler](const httplib::Request& req, httplib::Response& res) {
    const bool has_body_method =
        req.method == "POST" || req.method == "PUT" || req.method == "PATCH";
    if (has_body_method && !req.has_header("Content-Length") &&
        !req.has_header("Transfer-Encoding")) {
      handler(req, res);
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
}

// Errors httplib produces itself (bad request line, 413, ...) and exceptions
// get the JSON envelope too.
void SetErrorHandlers(httplib::Server& server) {
  server.set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty() || res.content_provider_) {
          return httplib::Server::HandlerResponse::Unhandled;
        }
        WriteError(res, res.status, DefaultCodeForHttpStatus(res.status), ReasonPhrase(res.status));
        return httplib::Server::HandlerResponse::Handled;
      }));
  server.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        WriteError(res, 500, "InternalError", "Unexpected error in the emulator");
      });
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
      faults_(options_.fault_rate_503, options_.fault_rate_drop, options_.fault_seed),
      requests_(options_.request_log_capacity, options_.max_logged_body),
      rate_limiter_(options_.rate_limit_per_hour),
      api_(*account_),
      admin_(*account_, faults_, requests_, rate_limiter_, options_.rate_limit_per_hour) {}

Emulator::~Emulator() { Stop(); }

absl::Status Emulator::Start() {
  if (server_ != nullptr) return absl::FailedPreconditionError("already started");
  signal(SIGPIPE, SIG_IGN);
  if (absl::Status s = CreateServer(); !s.ok()) return s;
  if (absl::Status s = Bind(); !s.ok()) return s;
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!server_->is_running()) {
    if (absl::Now() > deadline) return absl::DeadlineExceededError("server did not start");
    absl::SleepFor(absl::Milliseconds(1));
  }
  return absl::OkStatus();
}

absl::Status Emulator::CreateServer() {
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
  // One worker per open connection, started on demand: idle keep-alive
  // connections (the gateway keeps up to 32) must not delay a new one.
  const size_t threads = static_cast<size_t>(std::max(options_.threads, 2));
  server_->new_task_queue = [threads] { return new ElasticThreadPool(threads); };
  server_->set_keep_alive_max_count(1000);
  // Headers and body go out in separate writes; without TCP_NODELAY a reused
  // connection pays the Nagle/delayed-ACK penalty (~40 ms) per response.
  server_->set_tcp_nodelay(true);
  server_->set_keep_alive_timeout(std::max(options_.keep_alive_timeout_sec, 1));
  server_->set_read_timeout(10, 0);
  server_->set_write_timeout(10, 0);
  server_->set_payload_max_length(options_.max_body_bytes);
  RouteEverything(
      *server_, [this](const httplib::Request& req, httplib::Response& res) { Handle(req, res); });
  SetErrorHandlers(*server_);
  if (options_.log_requests) {
    server_->set_logger([](const httplib::Request& req, const httplib::Response& res) {
      std::cerr << "fivetran_emulator: " << req.method << " " << Cut(req.target, 300) << " -> "
                << res.status << "\n";
    });
  }
  return absl::OkStatus();
}

absl::Status Emulator::Bind() {
  // httplib creates the listening socket with a backlog of 5: a burst of new
  // connections (the gateway opening its pool) overflows it, and the dropped
  // handshakes are retried by the client after 1 s, 2 s, ... Keep the socket
  // httplib binds (the last one it creates) and listen again with a full
  // backlog, which Linux applies to the listening socket.
  int listen_socket = -1;
  server_->set_socket_options([&listen_socket](socket_t sock) {
    httplib::default_socket_options(sock);
    listen_socket = sock;
  });
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
  server_->set_socket_options(httplib::default_socket_options);  // drop the reference
  if (listen_socket < 0 || ::listen(listen_socket, SOMAXCONN) != 0) {
    return absl::InternalError("cannot set the listen backlog");
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
    admin_.Handle(req, raw_path, res);
    return;
  }
  HandleApi(req, raw_path, raw_query, res);
}

void Emulator::HandleApi(const httplib::Request& req, const std::string& raw_path,
                         const std::string& raw_query, httplib::Response& res) {
  const int64_t seq = requests_.Record(req, raw_path, raw_query);
  if (options_.latency > absl::ZeroDuration()) absl::SleepFor(options_.latency);
  const std::optional<Fault> fault = faults_.Take(req.method, raw_path);
  if (!fault.has_value()) {
    ServeApi(req, raw_path, res);
    requests_.SetOutcome(seq, res.status, nullptr);
    return;
  }
  nlohmann::json fault_log{
      {"id", fault->id}, {"kind", FaultKindName(fault->kind)}, {"apply_first", fault->apply_first}};
  const int status = ServeWithFault(*fault, req, raw_path, res, fault_log);
  requests_.SetOutcome(seq, status, std::move(fault_log));
}

int Emulator::ServeWithFault(const Fault& fault, const httplib::Request& req,
                             const std::string& raw_path, httplib::Response& res,
                             nlohmann::json& fault_log) {
  if (fault.apply_first) {
    ServeApi(req, raw_path, res);
    fault_log["served_status"] = res.status;
    // The client gets the fault's answer instead of this one (latency only
    // delays it).
    if (fault.kind != FaultKind::kLatency) ClearAnswer(res);
  }
  switch (fault.kind) {
    case FaultKind::kLatency:
      absl::SleepFor(absl::Milliseconds(fault.latency_ms));
      if (!fault.apply_first) ServeApi(req, raw_path, res);
      return res.status;
    case FaultKind::kTruncate:
      ServeApi(req, raw_path, res);
      TruncateAnswer(fault, res);
      return res.status;
    case FaultKind::kStatus:
    case FaultKind::kHtml: {
      WriteFaultAnswer(fault, res);
      // Not counted against the rate limit.
      const RateDecision rate = rate_limiter_.Take(/*count=*/false);
      ApplyRateHeaders(res, rate.limit, fault.status == 429 ? 0 : rate.remaining);
      return res.status;
    }
    case FaultKind::kDrop:
      DropConnection(req, res);
      return 0;
  }
  return res.status;
}

void Emulator::ServeApi(const httplib::Request& req, const std::string& raw_path,
                        httplib::Response& res) {
  if (!Authorized(req)) {
    WriteError(res, 401, "AuthFailed", "Invalid credentials");
    const RateDecision rate = rate_limiter_.Take(/*count=*/false);
    ApplyRateHeaders(res, rate.limit, rate.remaining);
    return;
  }
  const RateDecision rate = rate_limiter_.Take(/*count=*/true);
  ApplyRateHeaders(res, rate.limit, rate.remaining);
  if (!rate.allowed) {
    WriteError(
        res, 429, "TooManyRequests",
        absl::StrCat("Max ", rate.limit, " api calls allowed in one-hour rolling time period"));
    res.set_header("Retry-After", std::to_string(rate.retry_after_seconds));
    return;
  }
  api_.Serve(req, raw_path, res);
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

}  // namespace fivetran_emulator
