#include "server/fivetran/http_transport.h"

#include <curl/curl.h>
#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
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
  // The loop's epoll set: libcurl's sockets (CURLMOPT_SOCKETFUNCTION) and
  // wake_fd, an eventfd written by Wakeup().
  int epoll_fd = -1;
  int wake_fd = -1;
  // When libcurl wants curl_multi_socket_action(CURL_SOCKET_TIMEOUT);
  // InfiniteFuture when not. With the transport's drive_mu_ held.
  absl::Time curl_due = absl::InfiniteFuture();
  absl::Mutex mu;
  std::vector<std::shared_ptr<Transfer>> pending ABSL_GUARDED_BY(mu);
  // Transfers whose caller asked to cancel them. Not owned: one the loop
  // (or pending) no longer holds has ended, and a transfer holds this state,
  // so owning it here would keep both alive once the loop has stopped.
  std::vector<std::weak_ptr<Transfer>> cancelled ABSL_GUARDED_BY(mu);
  bool stopping ABSL_GUARDED_BY(mu) = false;

  ~Shared() {
    if (multi != nullptr) curl_multi_cleanup(multi);
    if (wake_fd >= 0) close(wake_fd);
    if (epoll_fd >= 0) close(epoll_fd);
  }
  void Wakeup() {
    const uint64_t one = 1;
    // A full counter (never, in practice) still wakes the loop.
    (void)!write(wake_fd, &one, sizeof(one));
  }

  static int OnSocket(CURL*, curl_socket_t fd, int what, void* self, void* registered) {
    auto* shared = static_cast<Shared*>(self);
    if (what == CURL_POLL_REMOVE) {
      // libcurl may already have closed it (epoll then forgot it itself).
      epoll_ctl(shared->epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
      return 0;
    }
    epoll_event ev{};
    ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
    ev.data.fd = fd;
    // The usual call first; the other if epoll disagrees (never seen: a
    // socket not watched would stall its transfer until its deadline).
    const int op = registered != nullptr ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(shared->epoll_fd, op, fd, &ev) != 0) {
      if (errno == ENOENT) epoll_ctl(shared->epoll_fd, EPOLL_CTL_ADD, fd, &ev);
      if (errno == EEXIST) epoll_ctl(shared->epoll_fd, EPOLL_CTL_MOD, fd, &ev);
    }
    // libcurl forgets this mark when it removes the socket.
    if (registered == nullptr) curl_multi_assign(shared->multi, fd, shared);
    return 0;
  }
  // Reads libcurl's timer: when it next wants
  // curl_multi_socket_action(CURL_SOCKET_TIMEOUT). Asked after each round
  // rather than told by CURLMOPT_TIMERFUNCTION, which is not called again
  // for an unchanged timer: a wait that ended early by libcurl's clock (its
  // milliseconds are truncated) would then see a stale time forever due.
  void RefreshCurlDue() {
    long ms = -1;
    curl_multi_timeout(multi, &ms);
    curl_due = ms < 0 ? absl::InfiniteFuture() : absl::Now() + absl::Milliseconds(ms);
  }
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
    // Ending a transfer whose name lookup still runs detaches libcurl's
    // resolver thread instead of joining it: the end of a transfer (a
    // cancel, a deadline) may come from a caller's thread in Send().
    curl_easy_setopt(easy_, CURLOPT_QUICK_EXIT, 1L);
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
        r.error = {TransportFailure::kNotSent,
                   absl::StrCat("could not resolve the upstream host: ", detail)};
        break;
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

  // Where the transfer is; with the transport's drive_mu_ held (Send()
  // sets submitted_at before handing it over).
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
  shared_->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  shared_->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event wake{};
  wake.events = EPOLLIN;
  wake.data.fd = shared_->wake_fd;
  if (shared_->epoll_fd < 0 || shared_->wake_fd < 0 ||
      epoll_ctl(shared_->epoll_fd, EPOLL_CTL_ADD, shared_->wake_fd, &wake) != 0) {
    // Out of file descriptors at start-up: nothing could be served.
    std::perror("fivetran_gateway: HTTP transport: epoll/eventfd");
    std::abort();
  }
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
  curl_multi_setopt(shared_->multi, CURLMOPT_SOCKETFUNCTION, &Shared::OnSocket);
  curl_multi_setopt(shared_->multi, CURLMOPT_SOCKETDATA, shared_.get());
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

namespace {
// The transport whose loop runs on this thread, if any.
thread_local const CurlTransport* t_loop_of = nullptr;
}  // namespace

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
  // An awake loop (this thread's, in a completion callback, or another's
  // busy with other transfers) takes it before it sleeps again: it marks
  // itself sleeping before it looks at `pending` for the last time.
  if (t_loop_of == this || !loop_sleeping_.load()) return t;
  bool wake = true;
  if (drive_mu_.TryLock()) {
    DriveLocked({});
    // The loop must run the callbacks of what ended here, and wake for what
    // is due before it would.
    wake = !completed_.empty() || NextDueLocked() < loop_sleeps_until_;
    drive_mu_.Unlock();
  }
  if (wake) shared_->Wakeup();
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
  completed_.push_back({Detach(t), std::move(result)});
}

namespace {
// Completion callbacks run per round of socket I/O (see the header).
constexpr absl::Duration kCallbackSlice = absl::Milliseconds(5);
}  // namespace

void CurlTransport::RunCompleted() {
  const absl::Time start = absl::Now();
  do {
    Completed next = std::move(running_.front());
    running_.pop_front();
    if (next.done) next.done(std::move(next.result));
  } while (!running_.empty() && absl::Now() - start < kCallbackSlice);
}

void CurlTransport::TakeCompletedLocked() {
  if (running_.empty()) {
    running_.swap(completed_);
    return;
  }
  for (Completed& c : completed_) running_.push_back(std::move(c));
  completed_.clear();
}

void CurlTransport::RunAllCompleted() {
  for (;;) {
    {
      absl::MutexLock drive(&drive_mu_);
      TakeCompletedLocked();
    }
    if (running_.empty()) return;
    while (!running_.empty()) RunCompleted();
  }
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
  completed_.push_back({t->TakeCallback(), std::move(r)});
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
      completed_.push_back({t->TakeCallback(), std::move(r)});
      continue;
    }
    queue_wait_->Observe(absl::ToDoubleSeconds(absl::Now() - t->submitted_at));
    t->state = Transfer::State::kRunning;
    CURL* easy = t->easy();
    active_.push_back(std::move(t));
    curl_multi_add_handle(shared_->multi, easy);
  }
}

absl::Time CurlTransport::NextDueLocked() const {
  // A queued transfer with a free slot (a drive ends after a few rounds,
  // however many transfers end at once) is due now.
  const size_t limit = static_cast<size_t>(std::max(1, options_.max_host_connections));
  if (!queue_.empty() && active_.size() < limit) return absl::InfinitePast();
  absl::Time due = shared_->curl_due;
  if (!queued_deadlines_.empty()) due = std::min(due, queued_deadlines_.begin()->first);
  return due;
}

void CurlTransport::DriveLocked(const std::vector<std::pair<int, int>>& ready) {
  std::vector<std::shared_ptr<Transfer>> pending;
  std::vector<std::weak_ptr<Transfer>> cancelled;
  {
    absl::MutexLock lock(&shared_->mu);
    if (shared_->stopping) return;  // The loop ends everything.
    pending.swap(shared_->pending);
    cancelled.swap(shared_->cancelled);
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
        break;  // Already ended: its callback has run or is queued.
    }
  }
  CURLM* multi = shared_->multi;
  int running = 0;
  for (const auto& [fd, flags] : ready) curl_multi_socket_action(multi, fd, flags, &running);
  const auto collect = [&] {
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Transfer* t = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
      HttpResult result = t->Result(msg->data.result);
      completed_.push_back({Detach(t), std::move(result)});
    }
  };
  collect();
  // Timers, then new transfers (libcurl gives each a timer due at once),
  // and again while ended transfers free slots for queued ones; a few
  // rounds at most (what is left is due at once: NextDueLocked).
  for (int round = 0;; ++round) {
    ExpireQueued(absl::Now());
    Admit();
    shared_->RefreshCurlDue();
    if (round == 4 || shared_->curl_due > absl::Now()) break;
    curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
    collect();
  }
}

void CurlTransport::StopLocked() {
  // Every transfer ends exactly once: completed ones with their results
  // (already queued), new and queued ones unsent, running ones cancelled.
  std::vector<std::shared_ptr<Transfer>> pending;
  {
    absl::MutexLock lock(&shared_->mu);
    pending.swap(shared_->pending);
    shared_->cancelled.clear();
  }
  const TransportError shutdown = {TransportFailure::kNotSent,
                                   "the HTTP transport is shutting down"};
  for (auto& t : pending) {
    t->state = Transfer::State::kDone;
    HttpResult r;
    r.error = shutdown;
    completed_.push_back({t->TakeCallback(), std::move(r)});
  }
  while (!queue_.empty()) EndQueued(queue_.front().get(), shutdown);
  while (!active_.empty()) {
    HttpResult r;
    r.error = {TransportFailure::kCancelled, "the HTTP transport is shutting down"};
    Finish(active_.back().get(), std::move(r));
  }
}

void CurlTransport::Loop() {
  t_loop_of = this;
  std::vector<std::pair<int, int>> ready;
  std::array<epoll_event, 64> events;
  for (;;) {
    bool stopping;
    {
      absl::MutexLock lock(&shared_->mu);
      stopping = shared_->stopping;
    }
    if (stopping) {
      {
        absl::MutexLock drive(&drive_mu_);
        StopLocked();
      }
      RunAllCompleted();
      absl::MutexLock lock(&shared_->mu);
      if (shared_->pending.empty()) return;
      continue;
    }
    {
      absl::MutexLock drive(&drive_mu_);
      loop_sleeps_until_ = absl::InfinitePast();
      DriveLocked(ready);
      TakeCompletedLocked();
    }
    ready.clear();
    if (!running_.empty()) RunCompleted();
    int wait_ms = 0;
    {
      absl::MutexLock drive(&drive_mu_);
      // Before the last look at `pending`: a Send() after it sees this.
      loop_sleeping_.store(true);
      bool busy = !running_.empty() || !completed_.empty();
      if (!busy) {
        absl::MutexLock lock(&shared_->mu);
        busy = !shared_->pending.empty() || !shared_->cancelled.empty() || shared_->stopping;
      }
      const absl::Time now = absl::Now();
      if (!busy) {
        const absl::Duration left = std::min(NextDueLocked() - now, absl::Seconds(1));
        // Rounded up, so that the wait does not end just before it is due.
        wait_ms = left <= absl::ZeroDuration() ? 0
                                               : static_cast<int>(absl::ToInt64Milliseconds(
                                                     absl::Ceil(left, absl::Milliseconds(1))));
      }
      loop_sleeps_until_ = now + absl::Milliseconds(wait_ms);
      // Only a look at the sockets, between rounds of work (as under load):
      // callers leave new transfers to the loop rather than contend for
      // libcurl with it.
      if (wait_ms == 0) loop_sleeping_.store(false);
    }
    const int n =
        epoll_wait(shared_->epoll_fd, events.data(), static_cast<int>(events.size()), wait_ms);
    // Awake: callers leave new transfers to it from here on, rather than
    // take libcurl before it can serve the sockets it was woken for.
    loop_sleeping_.store(false);
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == shared_->wake_fd) {
        uint64_t count;
        (void)!read(fd, &count, sizeof(count));
        continue;
      }
      const uint32_t e = events[i].events;
      // An error or hang-up is left for libcurl to find by reading or
      // writing: CURL_CSELECT_ERR alone would fail whatever transfer now
      // owns the descriptor, which may be a newer socket with its number.
      int flags = 0;
      if (e & (EPOLLIN | EPOLLHUP | EPOLLERR)) flags |= CURL_CSELECT_IN;
      if (e & (EPOLLOUT | EPOLLERR)) flags |= CURL_CSELECT_OUT;
      ready.emplace_back(fd, flags);
    }
  }
}

}  // namespace fivetran_gateway::fivetran
