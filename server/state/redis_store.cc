#include "server/state/redis_store.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "spdlog/spdlog.h"

namespace fivetran_gateway::state {
namespace {

// One command on `c`, its arguments binary-safe; nullptr when the connection
// failed (c->errstr says why). The caller frees the reply.
redisReply* Command(redisContext* c, const std::vector<std::string>& argv) {
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  ptrs.reserve(argv.size());
  lens.reserve(argv.size());
  for (const std::string& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  return static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(argv.size()), ptrs.data(), lens.data()));
}

absl::Status BadUrl(const std::string& url, absl::string_view why) {
  // A URL with credentials is never echoed.
  const bool secret = absl::StrContains(url, '@');
  return absl::InvalidArgumentError(absl::StrCat(
      "--state_store", secret ? "" : absl::StrCat("=", url), ": ", why,
      "; use redis://HOST:PORT[/DB] (e.g. redis://127.0.0.1:6379/0) or unix:///PATH[?db=N]"));
}

bool ParseNumber(absl::string_view s, int max, int* out) {
  return !s.empty() && s.size() <= 5 && s.find_first_not_of("0123456789") == s.npos &&
         absl::SimpleAtoi(s, out) && *out >= 0 && *out <= max;
}

std::string Millis(absl::Duration ttl) {
  return absl::StrCat(std::max<int64_t>(1, absl::ToInt64Milliseconds(ttl)));
}

}  // namespace

std::string RedisEndpoint::ToString() const {
  if (!unix_path.empty()) return absl::StrCat("unix://", unix_path, "/", db);
  return absl::StrCat(absl::StrContains(host, ':') ? absl::StrCat("[", host, "]") : host, ":", port,
                      "/", db);
}

absl::StatusOr<RedisEndpoint> ParseStateStoreUrl(const std::string& url) {
  RedisEndpoint ep;
  absl::string_view rest = url;
  if (absl::ConsumePrefix(&rest, "unix://")) {
    if (!absl::StartsWith(rest, "/")) return BadUrl(url, "the socket path must be absolute");
    size_t q = rest.find('?');
    ep.unix_path = std::string(rest.substr(0, q));
    if (q != rest.npos) {
      absl::string_view query = rest.substr(q + 1);
      if (!absl::ConsumePrefix(&query, "db=") || !ParseNumber(query, 15, &ep.db)) {
        return BadUrl(url, "the only query parameter is db=N (0 to 15)");
      }
    }
    if (ep.unix_path.size() <= 1) return BadUrl(url, "no socket path");
    return ep;
  }
  if (!absl::ConsumePrefix(&rest, "redis://")) return BadUrl(url, "unknown scheme");
  if (absl::StrContains(rest, '@')) {
    return BadUrl(url,
                  "credentials in the URL are refused (they would show in process lists); put "
                  "the password in --state_store_password_file");
  }
  size_t slash = rest.find('/');
  absl::string_view hostport = rest.substr(0, slash);
  if (slash != rest.npos) {
    absl::string_view db = rest.substr(slash + 1);
    if (!db.empty() && !ParseNumber(db, 15, &ep.db)) return BadUrl(url, "DB must be 0 to 15");
  }
  absl::string_view port;
  if (absl::ConsumePrefix(&hostport, "[")) {
    size_t close = hostport.find(']');
    if (close == hostport.npos) return BadUrl(url, "unclosed [ in the host");
    ep.host = std::string(hostport.substr(0, close));
    absl::string_view after = hostport.substr(close + 1);
    if (!after.empty() && !absl::ConsumePrefix(&after, ":")) return BadUrl(url, "bad port");
    port = after;
  } else {
    size_t colon = hostport.find(':');
    ep.host = std::string(hostport.substr(0, colon));
    if (colon != hostport.npos) {
      port = hostport.substr(colon + 1);
      if (port.empty()) return BadUrl(url, "empty port");
    }
  }
  if (ep.host.empty()) return BadUrl(url, "no host");
  if (!port.empty() && (!ParseNumber(port, 65535, &ep.port) || ep.port == 0)) {
    return BadUrl(url, "the port must be a number from 1 to 65535");
  }
  return ep;
}

RedisStateStore::RedisStateStore(RedisStoreOptions options)
    : options_(std::move(options)), backoff_(options_.min_backoff) {
  thread_ = std::thread([this] { Loop(); });
}

RedisStateStore::~RedisStateStore() { Stop(); }

std::string RedisStateStore::description() const {
  return absl::StrCat("redis ", options_.endpoint.ToString());
}

void RedisStateStore::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
  std::deque<Op> left;
  {
    absl::MutexLock lock(&mu_);
    left.swap(queue_);
  }
  for (Op& op : left) op.done(absl::UnavailableError("the state store has stopped"));
  Disconnect();
}

void RedisStateStore::Enqueue(std::vector<std::string> argv, std::function<void(Reply)> done) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_ && queue_.size() < options_.max_queue) {
      queue_.push_back(
          Op{std::move(argv), absl::Now() + options_.command_timeout, std::move(done)});
      return;
    }
  }
  done(absl::UnavailableError("the state store is stopped or overloaded"));
}

void RedisStateStore::Loop() {
  for (;;) {
    Op op;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](RedisStateStore* s)
               ABSL_NO_THREAD_SAFETY_ANALYSIS { return s->stopping_ || !s->queue_.empty(); },
          this));
      if (stopping_) return;
      op = std::move(queue_.front());
      queue_.pop_front();
    }
    if (absl::Now() > op.deadline) {
      op.done(absl::UnavailableError("state store command timed out in the queue"));
      continue;
    }
    op.done(Run(op.argv));
  }
}

absl::Status RedisStateStore::Connect() {
  const RedisEndpoint& ep = options_.endpoint;
  timeval connect_timeout = absl::ToTimeval(options_.connect_timeout);
  redisContext* c = ep.unix_path.empty()
                        ? redisConnectWithTimeout(ep.host.c_str(), ep.port, connect_timeout)
                        : redisConnectUnixWithTimeout(ep.unix_path.c_str(), connect_timeout);
  if (c == nullptr) return absl::UnavailableError("cannot allocate a Redis context");
  if (c->err != 0) {
    std::string why = c->errstr;
    redisFree(c);
    return absl::UnavailableError(absl::StrCat("cannot connect: ", why));
  }
  redisSetTimeout(c, absl::ToTimeval(options_.command_timeout));
  if (ep.unix_path.empty()) redisEnableKeepAlive(c);
  context_ = c;
  auto setup = [&](const std::vector<std::string>& argv, absl::string_view what) -> absl::Status {
    redisReply* r = Command(context_, argv);
    if (r == nullptr) return absl::UnavailableError(absl::StrCat(what, ": connection lost"));
    const bool error = r->type == REDIS_REPLY_ERROR;
    // An AUTH error says "invalid password" or similar; it holds no secret.
    std::string message = error ? std::string(r->str, r->len) : "";
    freeReplyObject(r);
    if (error) return absl::UnavailableError(absl::StrCat(what, " refused: ", message));
    return absl::OkStatus();
  };
  absl::Status s;
  if (!options_.password.empty()) s = setup({"AUTH", options_.password}, "AUTH");
  if (s.ok() && ep.db != 0) s = setup({"SELECT", absl::StrCat(ep.db)}, "SELECT");
  if (!s.ok()) Disconnect();
  return s;
}

void RedisStateStore::Disconnect() {
  if (context_ != nullptr) redisFree(context_);
  context_ = nullptr;
}

void RedisStateStore::MarkUp() {
  backoff_ = options_.min_backoff;
  if (!up_.exchange(true)) {
    spdlog::info(
        "state store {} reachable again after {}", description(),
        absl::FormatDuration(absl::Trunc(absl::Now() - down_since_, absl::Milliseconds(1))));
  }
}

void RedisStateStore::MarkDown(const std::string& why) {
  next_connect_ = absl::Now() + backoff_;
  backoff_ = std::min(backoff_ * 2, options_.max_backoff);
  if (up_.exchange(false)) {
    down_since_ = absl::Now();
    spdlog::warn(
        "state store {} unreachable ({}): creates with a request_id fail with UNAVAILABLE, other "
        "calls use this replica's own state until it is back",
        description(), why);
  }
}

RedisStateStore::Reply RedisStateStore::Run(const std::vector<std::string>& argv) {
  if (context_ == nullptr) {
    if (absl::Now() < next_connect_) {
      return absl::UnavailableError(
          absl::StrCat("the state store is unreachable (", description(), "); reconnecting"));
    }
    if (absl::Status s = Connect(); !s.ok()) {
      MarkDown(std::string(s.message()));
      return absl::UnavailableError(
          absl::StrCat("the state store is unreachable (", description(), "): ", s.message()));
    }
  }
  redisReply* r = Command(context_, argv);
  if (r == nullptr) {
    std::string why = context_->errstr[0] != '\0' ? context_->errstr : "connection lost";
    Disconnect();
    MarkDown(why);
    return absl::UnavailableError(absl::StrCat("state store command failed: ", why));
  }
  Reply reply;
  switch (r->type) {
    case REDIS_REPLY_NIL:
      reply = MaybeValue();
      break;
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
      reply = MaybeValue(std::string(r->str, r->len));
      break;
    case REDIS_REPLY_INTEGER:
      reply = MaybeValue(absl::StrCat(r->integer));
      break;
    case REDIS_REPLY_ERROR:
      // LOADING, READONLY, OOM, NOAUTH: the store cannot serve now.
      reply = absl::UnavailableError(
          absl::StrCat("state store error: ", absl::string_view(r->str, r->len)));
      break;
    default:
      reply = absl::InternalError("unexpected state store reply");
  }
  freeReplyObject(r);
  if (reply.ok()) {
    MarkUp();
  } else if (reply.status().code() == absl::StatusCode::kUnavailable) {
    MarkDown(std::string(reply.status().message()));
  }
  return reply;
}

void RedisStateStore::Get(const std::string& key, ValueDone done) {
  Enqueue({"GET", options_.prefix + key}, std::move(done));
}

void RedisStateStore::SetIfAbsent(const std::string& key, const std::string& value,
                                  absl::Duration ttl, ValueDone done) {
  Enqueue({"SET", options_.prefix + key, value, "NX", "GET", "PX", Millis(ttl)}, std::move(done));
}

void RedisStateStore::Set(const std::string& key, const std::string& value, absl::Duration ttl,
                          Done done) {
  Enqueue({"SET", options_.prefix + key, value, "PX", Millis(ttl)},
          [done = std::move(done)](Reply r) { done(r.status()); });
}

void RedisStateStore::Delete(const std::string& key, Done done) {
  Enqueue({"DEL", options_.prefix + key}, [done = std::move(done)](Reply r) { done(r.status()); });
}

}  // namespace fivetran_gateway::state
