#include "server/fivetran/http_transport.h"

#include <curl/curl.h>

#include <algorithm>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "server/common/gateway_metrics.h"

namespace fivetran_gateway::fivetran {

struct CurlTransport::Shared {
  CURLM* multi = nullptr;
  absl::Mutex mu;
  std::vector<std::shared_ptr<Transfer>> pending ABSL_GUARDED_BY(mu);
  // Transfers whose caller asked to cancel them. Not owned: one the loop
  // (or pending) no longer holds has ended, and a transfer holds this state,
  // so owning it here would keep both alive once the loop has stopped.
  std::vector<std::weak_ptr<Transfer>> cancelled ABSL_GUARDED_BY(mu);
  bool stopping ABSL_GUARDED_BY(mu) = false;

  ~Shared() {
    if (multi != nullptr) curl_multi_cleanup(multi);
  }
  void Wakeup() { curl_multi_wakeup(multi); }
};

class CurlTransport::Transfer final : public HttpCall,
                                      public std::enable_shared_from_this<Transfer> {
 public:
  Transfer(std::shared_ptr<Shared> shared, HttpRequest request, HttpCallback done, int64_t max_body,
           bool gzip)
      : shared_(std::move(shared)),
        request_(std::move(request)),
        done_(std::move(done)),
        max_body_(max_body),
        gzip_(gzip) {}

  ~Transfer() override {
    if (easy_ != nullptr) curl_easy_cleanup(easy_);
    if (headers_ != nullptr) curl_slist_free_all(headers_);
  }

  void Cancel() override {
    if (cancel_requested_.exchange(true)) return;
    {
      absl::MutexLock lock(&shared_->mu);
      shared_->cancelled.push_back(weak_from_this());
    }
    shared_->Wakeup();
  }

  static size_t OnBody(char* data, size_t size, size_t n, void* self) {
    auto* t = static_cast<Transfer*>(self);
    size_t len = size * n;
    if (static_cast<int64_t>(t->response_.body.size() + len) > t->max_body_) {
      t->too_large_ = true;
      return 0;  // Aborts the transfer with CURLE_WRITE_ERROR.
    }
    t->response_.body.append(data, len);
    return len;
  }

  // A non-negative decimal header value; -1 otherwise.
  static int ParseCount(absl::string_view value) {
    int n = 0;
    if (value.empty() || value.size() > 9 || !absl::SimpleAtoi(value, &n) || n < 0) return -1;
    return n;
  }

  static size_t OnHeader(char* data, size_t size, size_t n, void* self) {
    auto* t = static_cast<Transfer*>(self);
    size_t len = size * n;
    absl::string_view line(data, len);
    if (absl::StartsWith(line, "HTTP/")) {
      // A new response (e.g. after 100 Continue): forget earlier headers.
      t->response_.content_type.clear();
      t->response_.retry_after.clear();
      t->response_.rate_limit = -1;
      t->response_.rate_limit_remaining = -1;
      return len;
    }
    size_t colon = line.find(':');
    if (colon == absl::string_view::npos) return len;
    std::string name = absl::AsciiStrToLower(line.substr(0, colon));
    absl::string_view value = absl::StripAsciiWhitespace(line.substr(colon + 1));
    if (name == "content-type") {
      t->response_.content_type = std::string(value);
    } else if (name == "retry-after") {
      t->response_.retry_after = std::string(value.substr(0, 128));
    } else if (name == "x-rate-limit") {
      t->response_.rate_limit = ParseCount(value);
    } else if (name == "x-rate-limit-remaining") {
      t->response_.rate_limit_remaining = ParseCount(value);
    }
    return len;
  }

  // Builds the easy handle. Returns false (with `error`) when the deadline
  // has already passed or curl refuses an option.
  bool Prepare(const CurlTransportOptions& options, TransportError* error) {
    // Clamped so that a far-away deadline cannot overflow curl's long.
    absl::Duration remaining = std::min(request_.deadline - absl::Now(), absl::Hours(24));
    if (remaining <= absl::ZeroDuration()) {
      *error = {TransportFailure::kDeadlineExceededNotSent,
                "deadline exceeded before the request was sent"};
      return false;
    }
    easy_ = curl_easy_init();
    if (easy_ == nullptr) {
      *error = {TransportFailure::kNotSent, "could not create a curl handle"};
      return false;
    }
    // Round up so that a sub-millisecond remainder is not "no timeout".
    int64_t timeout_ms = std::max<int64_t>(1, absl::ToInt64Milliseconds(remaining) + 1);
    int64_t connect_ms =
        std::min<int64_t>(timeout_ms, absl::ToInt64Milliseconds(options.connect_timeout));
    curl_easy_setopt(easy_, CURLOPT_PRIVATE, this);
    curl_easy_setopt(easy_, CURLOPT_URL, request_.url.c_str());
    curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy_, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy_, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(easy_, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
    curl_easy_setopt(easy_, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms));
    curl_easy_setopt(easy_, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect_ms));
    curl_easy_setopt(easy_, CURLOPT_TCP_KEEPALIVE, 1L);
    // gzip, not brotli: Fivetran's JSON compresses well with either, and
    // brotli's default level costs the server several times more CPU (the
    // load test showed the emulator spending most of its time in it).
    if (gzip_) curl_easy_setopt(easy_, CURLOPT_ACCEPT_ENCODING, "gzip");
    curl_easy_setopt(easy_, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(max_body_));
    curl_easy_setopt(easy_, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(easy_, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!options.ca_pem.empty()) {
      curl_blob ca{const_cast<char*>(options.ca_pem.data()), options.ca_pem.size(),
                   CURL_BLOB_NOCOPY};
      curl_easy_setopt(easy_, CURLOPT_CAINFO_BLOB, &ca);
    } else if (!options.ca_file.empty()) {
      curl_easy_setopt(easy_, CURLOPT_CAINFO, options.ca_file.c_str());
    }
    if (!request_.username.empty() || !request_.password.empty()) {
      curl_easy_setopt(easy_, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
      curl_easy_setopt(easy_, CURLOPT_USERNAME, request_.username.c_str());
      curl_easy_setopt(easy_, CURLOPT_PASSWORD, request_.password.c_str());
    }
    for (const std::string& h : request_.headers) headers_ = curl_slist_append(headers_, h.c_str());
    headers_ = curl_slist_append(headers_, "Expect:");
    curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, headers_);
    if (request_.method != "GET") {
      // libcurl silently re-sends a request whose reused keep-alive
      // connection dies before any response byte: for a POST that could
      // create a connection or trigger a sync twice. A fresh connection is
      // never retried.
      curl_easy_setopt(easy_, CURLOPT_FRESH_CONNECT, 1L);
      // ...and closed afterwards, so POSTs do not crowd the keep-alive pool.
      curl_easy_setopt(easy_, CURLOPT_FORBID_REUSE, 1L);
    }
    if (request_.method == "POST") {
      curl_easy_setopt(easy_, CURLOPT_POST, 1L);
      curl_easy_setopt(easy_, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request_.body.size()));
      curl_easy_setopt(easy_, CURLOPT_POSTFIELDS, request_.body.data());
    } else if (request_.method != "GET") {
      curl_easy_setopt(easy_, CURLOPT_CUSTOMREQUEST, request_.method.c_str());
    }
    curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &Transfer::OnBody);
    curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(easy_, CURLOPT_HEADERFUNCTION, &Transfer::OnHeader);
    curl_easy_setopt(easy_, CURLOPT_HEADERDATA, this);
    curl_easy_setopt(easy_, CURLOPT_ERRORBUFFER, errbuf_);
    errbuf_[0] = '\0';
    return true;
  }

  // Turns curl's verdict into a result.
  HttpResult Result(CURLcode code) {
    HttpResult r;
    if (code == CURLE_OK) {
      long status = 0;
      curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &status);
      long version = 0;
      curl_easy_getinfo(easy_, CURLINFO_HTTP_VERSION, &version);
      r.ok = true;
      r.response = std::move(response_);
      r.response.status = static_cast<int>(status);
      r.response.http_version = version == CURL_HTTP_VERSION_2_0 ? "2" : "1.1";
      return r;
    }
    std::string detail = errbuf_[0] != '\0' ? errbuf_ : curl_easy_strerror(code);
    switch (code) {
      case CURLE_COULDNT_RESOLVE_HOST:
      case CURLE_COULDNT_RESOLVE_PROXY:
      case CURLE_PEER_FAILED_VERIFICATION:
        r.error = {TransportFailure::kNotSent,
                   absl::StrCat("TLS verification of the upstream failed: ", detail)};
        break;
      case CURLE_COULDNT_CONNECT:
      case CURLE_SSL_CONNECT_ERROR:
      case CURLE_SSL_CACERT_BADFILE:
      case CURLE_SSL_CERTPROBLEM:
        r.error = {TransportFailure::kNotSent, absl::StrCat("could not connect: ", detail)};
        break;
      case CURLE_OPERATION_TIMEDOUT: {
        long connect_done = 0;
        curl_easy_getinfo(easy_, CURLINFO_CONNECT_TIME_T, &connect_done);
        if (absl::Now() < request_.deadline && connect_done == 0) {
          r.error = {TransportFailure::kNotSent, absl::StrCat("connect timed out: ", detail)};
        } else {
          r.error = {TransportFailure::kDeadlineExceeded,
                     "deadline exceeded while waiting for Fivetran"};
        }
        break;
      }
      case CURLE_FILESIZE_EXCEEDED:
        r.error = {TransportFailure::kResponseTooLarge,
                   absl::StrCat("response larger than ", max_body_, " bytes")};
        break;
      case CURLE_WRITE_ERROR:
        if (too_large_) {
          r.error = {TransportFailure::kResponseTooLarge,
                     absl::StrCat("response larger than ", max_body_, " bytes")};
          break;
        }
        [[fallthrough]];
      default:
        r.error = {TransportFailure::kMaybeSent, absl::StrCat("connection failed: ", detail)};
        break;
    }
    return r;
  }

  CURL* easy() const { return easy_; }
  HttpCallback TakeCallback() { return std::move(done_); }
  absl::Time deadline() const { return request_.deadline; }

  // Where the transfer is; loop thread only (Send() sets submitted_at
  // before handing it over).
  enum class State { kSubmitted, kQueued, kRunning, kDone };
  State state = State::kSubmitted;
  absl::Time submitted_at;
  std::list<std::shared_ptr<Transfer>>::iterator queue_pos;     // kQueued.
  std::multimap<absl::Time, Transfer*>::iterator deadline_pos;  // kQueued.
  bool has_deadline_pos = false;

 private:
  std::shared_ptr<Shared> shared_;
  HttpRequest request_;
  HttpCallback done_;
  const int64_t max_body_;
  const bool gzip_;
  std::atomic<bool> cancel_requested_{false};
  CURL* easy_ = nullptr;
  curl_slist* headers_ = nullptr;
  HttpResponse response_;
  bool too_large_ = false;
  char errbuf_[CURL_ERROR_SIZE];
};

namespace {
struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};
}  // namespace

CurlTransport::CurlTransport(CurlTransportOptions options)
    : options_(std::move(options)),
      queued_gauge_(GatewayMetrics::Get().upstream_queued->With({})),
      queue_wait_(GatewayMetrics::Get().upstream_queue_wait_seconds->With({})),
      shared_(std::make_shared<Shared>()) {
  static CurlGlobal* global = new CurlGlobal();  // Once per process, never torn down.
  (void)global;
  shared_->multi = curl_multi_init();
  curl_multi_setopt(shared_->multi, CURLMOPT_MAXCONNECTS,
                    static_cast<long>(options_.max_connections));
  // Admit() runs at most max_host_connections transfers, so libcurl never
  // needs more connections and never parks a transfer in its own pending
  // list (where transfers neither keep their order nor time out). Its
  // limit stays as the bound on connections, idle ones included: a fresh
  // connection (a POST's) closes an idle one rather than exceed it.
  curl_multi_setopt(shared_->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                    static_cast<long>(std::max(1, options_.max_host_connections)));
  curl_multi_setopt(shared_->multi, CURLMOPT_PIPELINING, static_cast<long>(CURLPIPE_MULTIPLEX));
  thread_ = std::thread([this] { Loop(); });
}

CurlTransport::~CurlTransport() {
  {
    absl::MutexLock lock(&shared_->mu);
    shared_->stopping = true;
  }
  shared_->Wakeup();
  thread_.join();
}

std::shared_ptr<HttpCall> CurlTransport::Send(HttpRequest request, HttpCallback done) {
  auto t = std::make_shared<Transfer>(shared_, std::move(request), std::move(done),
                                      options_.max_response_bytes, options_.gzip);
  t->submitted_at = absl::Now();
  bool rejected = false;
  {
    absl::MutexLock lock(&shared_->mu);
    if (shared_->stopping) {
      rejected = true;
    } else {
      shared_->pending.push_back(t);
    }
  }
  if (rejected) {
    HttpResult r;
    r.error = {TransportFailure::kNotSent, "the HTTP transport is shutting down"};
    t->TakeCallback()(std::move(r));
    return t;
  }
  shared_->Wakeup();
  return t;
}

HttpCallback CurlTransport::Detach(Transfer* t) {
  long connects = 0;
  if (t->easy() != nullptr &&
      curl_easy_getinfo(t->easy(), CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK) {
    connections_opened_ += connects;
  }
  HttpCallback done = t->TakeCallback();
  t->state = Transfer::State::kDone;
  auto it = std::find_if(active_.begin(), active_.end(),
                         [t](const std::shared_ptr<Transfer>& a) { return a.get() == t; });
  if (it != active_.end()) {
    std::shared_ptr<Transfer> keep = *it;
    curl_multi_remove_handle(shared_->multi, t->easy());
    active_.erase(it);
  }
  return done;
}

void CurlTransport::Finish(Transfer* t, HttpResult result) {
  if (HttpCallback done = Detach(t)) done(std::move(result));
}

namespace {
// Completion callbacks run per round of socket I/O (see the header).
constexpr absl::Duration kCallbackSlice = absl::Milliseconds(5);
}  // namespace

void CurlTransport::RunCompleted() {
  const absl::Time start = absl::Now();
  do {
    Completed next = std::move(completed_.front());
    completed_.pop_front();
    if (next.done) next.done(std::move(next.result));
  } while (!completed_.empty() && absl::Now() - start < kCallbackSlice);
}

void CurlTransport::RunAllCompleted() {
  while (!completed_.empty()) RunCompleted();
}

void CurlTransport::Enqueue(std::shared_ptr<Transfer> t) {
  Transfer* raw = t.get();
  raw->state = Transfer::State::kQueued;
  raw->queue_pos = queue_.insert(queue_.end(), std::move(t));
  if (raw->deadline() != absl::InfiniteFuture()) {
    raw->deadline_pos = queued_deadlines_.emplace(raw->deadline(), raw);
    raw->has_deadline_pos = true;
  }
  queued_gauge_->Add(1);
}

void CurlTransport::EndQueued(Transfer* t, TransportError error) {
  std::shared_ptr<Transfer> keep = std::move(*t->queue_pos);
  queue_.erase(t->queue_pos);
  if (t->has_deadline_pos) queued_deadlines_.erase(t->deadline_pos);
  t->has_deadline_pos = false;
  t->state = Transfer::State::kDone;
  queued_gauge_->Add(-1);
  HttpResult r;
  r.error = std::move(error);
  if (auto done = t->TakeCallback()) done(std::move(r));
}

void CurlTransport::ExpireQueued(absl::Time now) {
  while (!queued_deadlines_.empty() && queued_deadlines_.begin()->first <= now) {
    EndQueued(queued_deadlines_.begin()->second,
              {TransportFailure::kDeadlineExceededNotSent,
               "deadline exceeded before the request was sent (it was waiting for a free "
               "connection to Fivetran)"});
  }
}

void CurlTransport::Admit() {
  const size_t limit = static_cast<size_t>(std::max(1, options_.max_host_connections));
  while (!queue_.empty() && active_.size() < limit) {
    std::shared_ptr<Transfer> t = std::move(queue_.front());
    queue_.pop_front();
    if (t->has_deadline_pos) queued_deadlines_.erase(t->deadline_pos);
    t->has_deadline_pos = false;
    queued_gauge_->Add(-1);
    TransportError error;
    if (!t->Prepare(options_, &error)) {
      t->state = Transfer::State::kDone;
      HttpResult r;
      r.error = std::move(error);
      if (auto done = t->TakeCallback()) done(std::move(r));
      continue;
    }
    queue_wait_->Observe(absl::ToDoubleSeconds(absl::Now() - t->submitted_at));
    t->state = Transfer::State::kRunning;
    CURL* easy = t->easy();
    active_.push_back(std::move(t));
    curl_multi_add_handle(shared_->multi, easy);
  }
}

int64_t CurlTransport::MillisToNextQueuedDeadline(int64_t cap) const {
  if (queued_deadlines_.empty()) return cap;
  absl::Duration left = queued_deadlines_.begin()->first - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  // Rounded up, so that the wait does not end just before the deadline.
  return std::min(cap, absl::ToInt64Milliseconds(left) + 1);
}

void CurlTransport::Loop() {
  CURLM* multi = shared_->multi;
  for (;;) {
    std::vector<std::shared_ptr<Transfer>> pending;
    std::vector<std::weak_ptr<Transfer>> cancelled;
    bool stopping;
    {
      absl::MutexLock lock(&shared_->mu);
      pending.swap(shared_->pending);
      cancelled.swap(shared_->cancelled);
      stopping = shared_->stopping;
    }
    if (stopping) {
      // Every transfer ends exactly once: completed ones with their
      // results, new and queued ones unsent, running ones cancelled.
      RunAllCompleted();
      const TransportError shutdown = {TransportFailure::kNotSent,
                                       "the HTTP transport is shutting down"};
      for (auto& t : pending) {
        t->state = Transfer::State::kDone;
        HttpResult r;
        r.error = shutdown;
        if (auto done = t->TakeCallback()) done(std::move(r));
      }
      while (!queue_.empty()) EndQueued(queue_.front().get(), shutdown);
      while (!active_.empty()) {
        HttpResult r;
        r.error = {TransportFailure::kCancelled, "the HTTP transport is shutting down"};
        Finish(active_.back().get(), std::move(r));
      }
      absl::MutexLock lock(&shared_->mu);
      if (shared_->pending.empty()) return;
      continue;
    }
    // Submission order is queue order: Send() appends under the mutex.
    for (auto& t : pending) Enqueue(std::move(t));
    for (const std::weak_ptr<Transfer>& w : cancelled) {
      const std::shared_ptr<Transfer> t = w.lock();
      if (t == nullptr) continue;  // Ended and released: its callback has run.
      const TransportError cancel = {TransportFailure::kCancelled, "cancelled by the caller"};
      switch (t->state) {
        case Transfer::State::kQueued:
          EndQueued(t.get(), cancel);
          break;
        case Transfer::State::kRunning: {
          HttpResult r;
          r.error = cancel;
          Finish(t.get(), std::move(r));
          break;
        }
        default:
          break;  // Already ended: its callback has run.
      }
    }
    int running = 0;
    curl_multi_perform(multi, &running);
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Transfer* t = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
      HttpResult result = t->Result(msg->data.result);
      completed_.push_back({Detach(t), std::move(result)});
    }
    ExpireQueued(absl::Now());
    // Handles added here start at once: libcurl sets them a zero timeout,
    // which ends the poll below immediately.
    Admit();
    if (!completed_.empty()) RunCompleted();
    // Callbacks left for later: serve the sockets, then go on with them.
    const int64_t wait_ms = completed_.empty() ? MillisToNextQueuedDeadline(1000) : 0;
    curl_multi_poll(multi, nullptr, 0, static_cast<int>(wait_ms), nullptr);
  }
}

}  // namespace fivetran_gateway::fivetran
