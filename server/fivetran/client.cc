#include "server/fivetran/client.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <random>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "server/common/gateway_metrics.h"
#include "server/common/trace_context.h"
#include "server/fivetran/errors.h"
#include "server/fivetran/mapping.h"
#include "spdlog/spdlog.h"

namespace fivetran_gateway::fivetran {

// The metrics of one credential set (GatewayMetrics), shared by the client
// and its calls. Its series are exposed while the client or a call lives;
// the rate-limit gauges only once an answer has carried the header.
struct FivetranClient::SetMetrics {
  explicit SetMetrics(const std::string& label)
      : label(label),
        rate_limited(GatewayMetrics::Get().rate_limited->Track({label})),
        rejections(GatewayMetrics::Get().rate_limit_rejections->Track({label})) {}

  void ObserveBudget(int limit_value, int remaining_value) {
    absl::MutexLock lock(&mu);
    if (limit_value >= 0) {
      if (limit == nullptr) limit = GatewayMetrics::Get().rate_limit_limit->Track({label});
      limit->Set(limit_value);
    }
    if (remaining_value >= 0) {
      if (remaining == nullptr) {
        remaining = GatewayMetrics::Get().rate_limit_remaining->Track({label});
      }
      remaining->Set(remaining_value);
    }
  }

  const std::string label;
  const std::shared_ptr<metrics::Counter> rate_limited;
  const std::shared_ptr<metrics::Counter> rejections;
  absl::Mutex mu;
  std::shared_ptr<metrics::Gauge> limit ABSL_GUARDED_BY(mu);
  std::shared_ptr<metrics::Gauge> remaining ABSL_GUARDED_BY(mu);
};

FivetranClient::FivetranClient(ClientOptions options, HttpTransport* transport, Timers* timers)
    : options_(std::move(options)), transport_(transport), timers_(timers) {
  absl::string_view base = options_.base_url;
  while (absl::ConsumeSuffix(&base, "/")) {
  }
  absl::ConsumeSuffix(&base, "/v1");
  options_.base_url = std::string(base);
  if (!options_.credential_set.empty()) {
    set_metrics_ = std::make_shared<SetMetrics>(options_.credential_set);
  }
}

std::shared_ptr<HttpCall> FivetranClient::Get(std::string path, absl::Time deadline,
                                              EnvelopeCallback done, const char* route) {
  return Send("GET", std::move(path), route, "", deadline, std::move(done));
}

std::shared_ptr<HttpCall> FivetranClient::Get(std::string path, absl::Time deadline,
                                              BodyReader read, EnvelopeCallback done,
                                              const char* route) {
  return Send("GET", std::move(path), route, "", deadline, std::move(done), {}, std::move(read));
}

std::shared_ptr<HttpCall> FivetranClient::Post(std::string path, const nlohmann::json& body,
                                               absl::Time deadline, EnvelopeCallback done,
                                               const char* route) {
  return Send("POST", std::move(path), route, body.dump(), deadline, std::move(done),
              SecretValues(body));
}

namespace {

// One attempt's result -> what the caller gets: the envelope of a 2xx, or
// the error. Fills `info` from the response.
absl::StatusOr<nlohmann::json> Interpret(const HttpResult& result, const UpstreamOp& op,
                                         absl::Span<const std::string> secrets,
                                         UpstreamInfo* info) {
  if (!result.ok) return StatusFromTransportError(result.error, op);
  const HttpResponse& response = result.response;
  info->http_status = response.status;
  info->http_version = response.http_version;
  if (response.status < 200 || response.status > 299) {
    return StatusFromHttpError(response, op, absl::Now(), secrets);
  }
  absl::StatusOr<nlohmann::json> envelope =
      ParseJsonBody(response.body, response.status, response.content_type);
  if (!envelope.ok()) {
    absl::Status status =
        MakeError(absl::StatusCode::kInternal, Scrub(envelope.status().message(), secrets),
                  "FIVETRAN_BAD_RESPONSE",
                  {{"http_status", absl::StrCat(response.status)},
                   {"upstream_method", op.method},
                   {"upstream_path", op.path}});
    if (op.mutating()) {
      // The request was applied, only the answer is unreadable.
      AddErrorMetadata(status, "outcome", "applied");
    }
    return status;
  }
  // Fivetran masks secrets; make sure of it, so that neither the caller nor
  // a mapping error message can see one. In place, in one pass (no copy of
  // a possibly large page); ParseJsonBody bounds the nesting depth.
  ScrubEnvelope(*envelope, secrets);
  return envelope;
}

// `status` with another message, its code and details kept.
absl::Status WithMessage(const absl::Status& status, absl::string_view message) {
  absl::Status out(status.code(), message);
  status.ForEachPayload(
      [&out](absl::string_view url, const absl::Cord& payload) { out.SetPayload(url, payload); });
  return out;
}

double UniformRandom() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

// The `reason` label of a retry.
const char* RetryReason(RetryableFailure f) {
  switch (f) {
    case RetryableFailure::kNotSent:
      return "not_sent";
    case RetryableFailure::kMaybeSent:
      return "connection_failed";
    case RetryableFailure::kRateLimited:
      return "rate_limited";
    case RetryableFailure::kServerError:
      return "server_error";
    case RetryableFailure::kUnavailable:
      return "unavailable";
    default:
      return "other";
  }
}

// The `status` label of an attempt: its HTTP status, or `error`.
std::string StatusLabel(const HttpResult& result) {
  return result.ok ? absl::StrCat(result.response.status) : "error";
}

const char* FailureName(RetryableFailure f) {
  switch (f) {
    case RetryableFailure::kNotSent:
      return "not sent";
    case RetryableFailure::kMaybeSent:
      return "connection failed";
    case RetryableFailure::kRateLimited:
      return "rate limited";
    case RetryableFailure::kServerError:
      return "server error";
    case RetryableFailure::kUnavailable:
      return "unavailable";
    default:
      return "final";
  }
}

}  // namespace

// One upstream call: its attempts and the waits between them. Every state
// change happens under `mu_`; the transport and the timer queue call back
// into it, and Cancel() may come from any thread. `done_` runs exactly once.
class FivetranClient::Call final : public HttpCall, public std::enable_shared_from_this<Call> {
 public:
  // `gateway_bound`: --max_request_time when it, not the caller's deadline,
  // set the call's deadline.
  Call(HttpTransport* transport, Timers* timers, RetryPolicy policy,
       std::shared_ptr<RateBudget> budget, HttpRequest request, UpstreamOp op, const char* route,
       std::vector<std::string> secrets, BodyReader read, EnvelopeCallback done,
       std::optional<absl::Duration> gateway_bound, std::shared_ptr<SetMetrics> set_metrics)
      : transport_(transport),
        timers_(timers),
        policy_(policy),
        budget_(std::move(budget)),
        request_(std::move(request)),
        op_(std::move(op)),
        route_(route != nullptr ? route : "other"),
        secrets_(std::move(secrets)),
        gateway_bound_(gateway_bound),
        set_metrics_(std::move(set_metrics)),
        trace_(CurrentTrace()),
        read_(std::move(read)),
        done_(std::move(done)) {}

  void SendAttempt() {
    if (budget_ != nullptr && budget_->fleet() != nullptr) {
      // What other replicas learned first (a 429 of theirs stops this too).
      return budget_->fleet()->Refresh([self = shared_from_this()] { self->SendChecked(); });
    }
    SendChecked();
  }

  void SendChecked() {
    if (budget_ != nullptr) {
      // An earlier 429 asked everyone to wait: do not spend a request on
      // learning it again.
      if (std::optional<absl::Duration> wait = budget_->BlockedFor(absl::Now())) {
        return FinishRateLimited(*wait);
      }
    }
    {
      absl::MutexLock lock(&mu_);
      attempt_start_ = absl::Now();
    }
    std::shared_ptr<Call> self = shared_from_this();
    // Not under mu_: the transport may call back at once (when stopping).
    std::shared_ptr<HttpCall> call = transport_->Send(
        request_, [self](HttpResult result) { self->OnAttempt(std::move(result)); });
    bool cancel_now = false;
    {
      absl::MutexLock lock(&mu_);
      if (!finished_) current_ = call;
      cancel_now = cancelled_;
    }
    if (cancel_now) call->Cancel();
  }

  void Cancel() override {
    uint64_t timer = 0;
    std::shared_ptr<HttpCall> current;
    {
      absl::MutexLock lock(&mu_);
      if (cancelled_ || finished_) return;
      cancelled_ = true;
      timer = timer_;
      timer_ = 0;
      current = current_;
    }
    if (timer != 0) {
      // Removed before it ran: nothing else will finish the call. Otherwise
      // OnTimer is running and sees `cancelled_`.
      if (timers_->Cancel(timer)) FinishCancelled();
      return;
    }
    if (current) current->Cancel();  // Its callback (kCancelled) finishes the call.
  }

 private:
  void OnAttempt(HttpResult result) {
    if (budget_ != nullptr && result.ok) RecordBudget(result.response);
    int attempts = 0;
    bool cancelled = false;
    absl::Time attempt_start;
    {
      absl::MutexLock lock(&mu_);
      attempts = ++attempts_;
      cancelled = cancelled_;
      attempt_start = attempt_start_;
    }
    RecordAttempt(result, absl::Now() - attempt_start);
    RetryDecision decision = DecideRetry(policy_, op_.method, result, attempts, absl::Now(),
                                         request_.deadline, UniformRandom());
    // Set when a retry was due but the timers have stopped (the gateway is
    // exiting): the call ends now with this attempt's error.
    bool timers_stopped = false;
    if (decision.action == RetryDecision::Action::kRetry && !cancelled && timers_ != nullptr) {
      absl::MutexLock lock(&mu_);
      if (!cancelled_) {
        std::shared_ptr<Call> self = shared_from_this();
        const uint64_t id =
            timers_->Schedule(absl::Now() + decision.delay, [self] { self->OnTimer(); });
        if (id != 0) {
          GatewayMetrics::Get()
              .upstream_retries->With({RetryReason(ClassifyAttempt(op_.method, result))})
              ->Increment();
          spdlog::debug("upstream {} {}: attempt {} failed ({}), retrying in {}", op_.method,
                        op_.path, attempts, FailureName(ClassifyAttempt(op_.method, result)),
                        absl::FormatDuration(decision.delay));
          timer_ = id;
          return;
        }
        timers_stopped = true;
      }
    }
    if (read_ != nullptr && result.ok && result.response.status >= 200 &&
        result.response.status <= 299) {
      return FinishRead(result, attempts);
    }
    UpstreamInfo info;
    info.attempts = attempts;
    absl::StatusOr<nlohmann::json> out = Interpret(result, op_, secrets_, &info);
    if (!out.ok()) {
      absl::Status status = out.status();
      if (decision.action == RetryDecision::Action::kStopRetryAfterTooLong &&
          !status.GetPayload(kRetryInfoUrl).has_value()) {
        AddRetryInfo(status, std::max(*decision.retry_after, absl::Seconds(1)));
      }
      if (attempts > 1) AddErrorMetadata(status, "attempts", absl::StrCat(attempts));
      if (timers_stopped) {
        status = WithMessage(status, absl::StrCat("the gateway is shutting down and sends no "
                                                  "more attempts; the last one failed: ",
                                                  status.message()));
        AddErrorMetadata(status, "shutting_down", "true");
      }
      if (status.code() == absl::StatusCode::kDeadlineExceeded && gateway_bound_.has_value()) {
        status = WithMessage(
            status, absl::StrCat("the gateway's own bound on an upstream call "
                                 "(--max_request_time=",
                                 absl::FormatDuration(*gateway_bound_),
                                 ") ran out, not the caller's deadline: ", status.message()));
        AddErrorMetadata(status, "bound", "max_request_time");
      }
      out = std::move(status);
    }
    Finish(std::move(out), info);
  }

  void OnTimer() {
    bool cancelled = false;
    {
      absl::MutexLock lock(&mu_);
      timer_ = 0;
      cancelled = cancelled_;
    }
    if (cancelled) return FinishCancelled();
    SendAttempt();
  }

  // One attempt in the upstream metrics.
  void RecordAttempt(const HttpResult& result, absl::Duration elapsed) {
    // Its deadline passed while it waited for an upstream connection: never
    // sent, so not an upstream request (the caller sees outcome=not_sent).
    if (!result.ok && result.error.failure == TransportFailure::kDeadlineExceededNotSent) return;
    const GatewayMetrics& m = GatewayMetrics::Get();
    m.upstream_requests->With({op_.method, route_, StatusLabel(result)})->Increment();
    m.upstream_request_seconds->With({op_.method, route_})->Observe(absl::ToDoubleSeconds(elapsed));
    if (set_metrics_ == nullptr || !result.ok) return;
    if (result.response.status == 429) set_metrics_->rate_limited->Increment();
    set_metrics_->ObserveBudget(result.response.rate_limit, result.response.rate_limit_remaining);
  }

  void RecordBudget(const HttpResponse& response) {
    const absl::Time now = absl::Now();
    budget_->Observe(response.rate_limit, response.rate_limit_remaining, now);
    bool blocked = false;
    if (response.status == 429) {
      if (std::optional<absl::Duration> wait = ParseRetryAfter(response.retry_after, now)) {
        budget_->BlockUntil(now + *wait);
        blocked = true;
      }
    }
    if (budget_->fleet() != nullptr) budget_->fleet()->Publish(budget_->View(), blocked);
  }

  // Ends the call without sending: RESOURCE_EXHAUSTED, nothing was sent.
  void FinishRateLimited(absl::Duration wait) {
    if (set_metrics_ != nullptr) set_metrics_->rejections->Increment();
    UpstreamInfo info;
    {
      absl::MutexLock lock(&mu_);
      info.attempts = attempts_;
    }
    absl::Status status = MakeError(
        absl::StatusCode::kResourceExhausted,
        absl::StrCat("Fivetran rate limit reached: nothing is sent for these credentials for ",
                     absl::FormatDuration(absl::Ceil(wait, absl::Seconds(1))),
                     " (Retry-After of an earlier answer)"),
        "FIVETRAN_RATE_LIMITED",
        {{"upstream_method", op_.method}, {"upstream_path", op_.path}, {"outcome", "not_sent"}});
    AddRetryInfo(status, std::max(wait, absl::Seconds(1)));
    Finish(std::move(status), info);
  }

  void FinishCancelled() {
    UpstreamInfo info;
    {
      absl::MutexLock lock(&mu_);
      info.attempts = attempts_;
    }
    Finish(StatusFromTransportError({TransportFailure::kCancelled, "cancelled by the caller"}, op_),
           info);
  }

  // Marks the call finished and hands over its callback; null when it had
  // already finished.
  EnvelopeCallback TakeDone() {
    absl::MutexLock lock(&mu_);
    if (finished_) return nullptr;
    finished_ = true;
    current_ = nullptr;
    return std::move(done_);
  }

  void Finish(absl::StatusOr<nlohmann::json> out, const UpstreamInfo& info) {
    EnvelopeCallback done = TakeDone();
    if (done == nullptr) return;
    // Follow-up requests made by the callback belong to the same call.
    ScopedTrace trace(trace_);
    done(std::move(out), info);
  }

  // A final 2xx answer, offered to read_ first; done_ gets the envelope
  // when read_ declines it.
  void FinishRead(const HttpResult& result, int attempts) {
    EnvelopeCallback done = TakeDone();
    if (done == nullptr) return;
    ScopedTrace trace(trace_);
    UpstreamInfo info;
    info.attempts = attempts;
    info.http_status = result.response.status;
    info.http_version = result.response.http_version;
    if (read_(result.response.body, secrets_, info)) return;
    absl::StatusOr<nlohmann::json> out = Interpret(result, op_, secrets_, &info);
    done(std::move(out), info);
  }

  HttpTransport* const transport_;
  Timers* const timers_;
  const RetryPolicy policy_;
  const std::shared_ptr<RateBudget> budget_;
  const HttpRequest request_;
  const UpstreamOp op_;
  const char* const route_;
  // Everything no message, detail or response may carry.
  const std::vector<std::string> secrets_;
  const std::optional<absl::Duration> gateway_bound_;
  const std::shared_ptr<SetMetrics> set_metrics_;
  const std::shared_ptr<const TraceContext> trace_;
  const BodyReader read_;  // May be null.
  absl::Mutex mu_;
  EnvelopeCallback done_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<HttpCall> current_ ABSL_GUARDED_BY(mu_);
  uint64_t timer_ ABSL_GUARDED_BY(mu_) = 0;
  int attempts_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time attempt_start_ ABSL_GUARDED_BY(mu_);
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

std::shared_ptr<HttpCall> FivetranClient::Send(std::string method, std::string path,
                                               const char* route, std::string body,
                                               absl::Time deadline, EnvelopeCallback done,
                                               std::vector<std::string> secrets, BodyReader read) {
  HttpRequest request;
  request.method = method;
  request.url = absl::StrCat(options_.base_url, path);
  request.headers = {"Accept: application/json;version=2",
                     absl::StrCat("User-Agent: ", options_.user_agent)};
  if (method == "POST") request.headers.push_back("Content-Type: application/json");
  // The caller's trace (trace_context.h); every value is plain ASCII
  // without line breaks: hex ids, a checked tracestate and request id.
  if (std::shared_ptr<const TraceContext> trace = CurrentTrace()) {
    request.headers.push_back(absl::StrCat("traceparent: ", trace->TraceparentHeader()));
    if (!trace->tracestate.empty()) {
      request.headers.push_back(absl::StrCat("tracestate: ", trace->tracestate));
    }
    if (!trace->request_id.empty()) {
      request.headers.push_back(absl::StrCat("X-Request-Id: ", trace->request_id));
    }
  }
  request.body = std::move(body);
  request.username = options_.api_key;
  request.password = options_.api_secret;
  // The budget of the whole call, retries included.
  const absl::Time bound = absl::Now() + options_.max_request_time;
  request.deadline = std::min(deadline, bound);
  std::optional<absl::Duration> gateway_bound;
  if (bound < deadline) gateway_bound = options_.max_request_time;

  UpstreamOp op{method, std::string(path.substr(0, path.find('?')))};
  // Everything no message, detail or response may carry: the credentials
  // and the secret values of the request. Copied, so the call does not
  // depend on this client's lifetime.
  for (std::string& s : CredentialSecrets(options_.api_key, options_.api_secret)) {
    secrets.push_back(std::move(s));
  }
  auto call = std::make_shared<Call>(transport_, timers_, options_.retry, options_.budget,
                                     std::move(request), std::move(op), route, std::move(secrets),
                                     std::move(read), std::move(done), gateway_bound, set_metrics_);
  call->SendAttempt();
  return call;
}

}  // namespace fivetran_gateway::fivetran
