#include "server/shared_creates.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "nlohmann/json.hpp"
#include "server/common/status.h"
#include "server/state/keys.h"

namespace fivetran_gateway {
namespace {

using json = nlohmann::json;

absl::Status StoreUnavailable(const std::string& request_id) {
  return MakeError(absl::StatusCode::kUnavailable,
                   "the fleet's state store is unreachable, so this create cannot be checked "
                   "against other replicas' creates with the same request_id; nothing was sent: "
                   "retry later with the same request_id",
                   "STATE_STORE_UNAVAILABLE",
                   {{"outcome", "not_sent"}, {"request_id", request_id}});
}

absl::Status OutcomeUnknown(const std::string& request_id) {
  return MakeError(absl::StatusCode::kAborted,
                   "the replica that sent the create with this request_id stopped before it "
                   "stored the result: the connection may or may not exist. List the group's "
                   "connections to check before creating it with a new request_id",
                   "CREATE_OUTCOME_UNKNOWN", {{"outcome", "unknown"}, {"request_id", request_id}});
}

absl::Status Mismatch() {
  absl::Status s = MakeFieldError(
      absl::StatusCode::kInvalidArgument, "request_id",
      "request_id was already used for a different request; use a new request_id", "INVALID_FIELD");
  AddErrorMetadata(s, "outcome", "not_sent");
  return s;
}

json EncodeResult(const IdempotencyCache::Result& r) {
  json payloads = json::object();
  r.status.ForEachPayload([&](absl::string_view url, const absl::Cord& value) {
    payloads[std::string(url)] = absl::Base64Escape(std::string(value));
  });
  return json{
      {"code", static_cast<int>(r.status.code())}, {"message", std::string(r.status.message())},
      {"payloads", std::move(payloads)},           {"response", absl::Base64Escape(r.response)},
      {"http_status", r.upstream.http_status},     {"http_version", r.upstream.http_version}};
}

bool DecodeResult(const json& j, IdempotencyCache::Result* r) {
  int code = j.at("code").get<int>();
  if (code < 0 || code > 16) return false;
  r->status = code == 0 ? absl::OkStatus()
                        : absl::Status(static_cast<absl::StatusCode>(code),
                                       j.at("message").get<std::string>());
  for (const auto& [url, value] : j.at("payloads").items()) {
    std::string bytes;
    if (!absl::Base64Unescape(value.get<std::string>(), &bytes)) return false;
    if (!r->status.ok()) r->status.SetPayload(url, absl::Cord(bytes));
  }
  if (!absl::Base64Unescape(j.at("response").get<std::string>(), &r->response)) return false;
  r->upstream.http_status = j.at("http_status").get<int>();
  r->upstream.http_version = j.at("http_version").get<std::string>();
  r->upstream.attempts = 0;  // Nothing is sent for a replay.
  return true;
}

}  // namespace

struct SharedCreates::Attempt {
  std::string store_key;
  IdempotencyCache::Key key;
  std::string fingerprint;  // Hex.
  Send send;
  std::function<bool()> wanted;
  Done done;
  absl::Mutex mu;
  bool finished ABSL_GUARDED_BY(mu) = false;  // Fivetran answered our POST.
  uint64_t renew_timer ABSL_GUARDED_BY(mu) = 0;
};

SharedCreates::SharedCreates(state::StateStore* store, std::string scope, Timers* timers,
                             SharedCreateOptions options)
    : store_(store), scope_(std::move(scope)), timers_(timers), options_(options) {}

std::string SharedCreates::InFlightRecord(const std::string& fingerprint, absl::Time lease_until) {
  return json{{"state", "in_flight"},
              {"fingerprint", absl::BytesToHexString(fingerprint)},
              {"lease_until_ms", absl::ToUnixMillis(lease_until)}}
      .dump();
}

std::string SharedCreates::DoneRecord(const std::string& fingerprint, const Result& result) {
  return json{{"state", "done"},
              {"fingerprint", absl::BytesToHexString(fingerprint)},
              {"result", EncodeResult(result)}}
      .dump();
}

void SharedCreates::Run(const IdempotencyCache::Key& key, const std::string& fingerprint, Send send,
                        std::function<bool()> wanted, Done done) {
  auto a = std::make_shared<Attempt>();
  a->store_key = state::CreateKey(scope_, key.method, key.request_id);
  a->key = key;
  a->fingerprint = fingerprint;
  a->send = std::move(send);
  a->wanted = std::move(wanted);
  a->done = std::move(done);
  Claim(std::move(a));
}

void SharedCreates::Claim(std::shared_ptr<Attempt> a) {
  const std::string record = InFlightRecord(a->fingerprint, timers_->Now() + options_.lease);
  store_->SetIfAbsent(a->store_key, record, options_.window,
                      [self = shared_from_this(), a](absl::StatusOr<state::MaybeValue> found) {
                        if (!found.ok()) {
                          Result r;
                          r.status = StoreUnavailable(a->key.request_id);
                          return a->done(std::move(r), false);
                        }
                        if (!found->has_value()) return self->SendClaimed(a);
                        self->OnRecord(a, **found);
                      });
}

void SharedCreates::OnRecord(std::shared_ptr<Attempt> a, const std::string& record) {
  Result r;
  json j = json::parse(record, nullptr, /*allow_exceptions=*/false);
  try {
    const std::string state = j.at("state").get<std::string>();
    if (j.at("fingerprint").get<std::string>() != absl::BytesToHexString(a->fingerprint)) {
      r.status = Mismatch();
      return a->done(std::move(r), false);
    }
    if (state == "done") {
      if (DecodeResult(j.at("result"), &r)) return a->done(std::move(r), true);
    } else if (state == "in_flight") {
      absl::Time lease_until = absl::FromUnixMillis(j.at("lease_until_ms").get<int64_t>());
      if (lease_until > timers_->Now()) {
        if (timers_->Schedule(timers_->Now() + options_.poll_interval,
                              [self = shared_from_this(), a] { self->Poll(a); }) != 0) {
          return;
        }
        r.status = absl::UnavailableError("the gateway is stopping");
        return a->done(std::move(r), false);
      }
    }
  } catch (const json::exception&) {
    // Falls through: a record this replica cannot read is an unknown outcome.
  }
  r.status = OutcomeUnknown(a->key.request_id);
  a->done(std::move(r), true);
}

void SharedCreates::Poll(std::shared_ptr<Attempt> a) {
  if (!a->wanted()) {
    // Every local caller gave up (deadline, cancel): forget, do not keep.
    Result r;
    r.status = MakeError(absl::StatusCode::kDeadlineExceeded,
                         "no caller waits for the create with this request_id any more",
                         "DEADLINE_EXCEEDED", {{"outcome", "unknown"}});
    return a->done(std::move(r), false);
  }
  store_->Get(a->store_key, [self = shared_from_this(), a](absl::StatusOr<state::MaybeValue> v) {
    if (!v.ok()) {
      // The store is away for now: the callers' deadlines bound the wait.
      if (self->timers_->Schedule(self->timers_->Now() + self->options_.poll_interval,
                                  [self, a] { self->Poll(a); }) == 0) {
        Result r;
        r.status = absl::UnavailableError("the gateway is stopping");
        a->done(std::move(r), false);
      }
      return;
    }
    if (!v->has_value()) return self->Claim(a);  // Released: nothing was created.
    self->OnRecord(a, **v);
  });
}

void SharedCreates::SendClaimed(std::shared_ptr<Attempt> a) {
  {
    absl::MutexLock lock(&a->mu);
    a->renew_timer = timers_->Schedule(timers_->Now() + options_.lease / 3,
                                       [self = shared_from_this(), a] { self->Renew(a); });
  }
  a->send([self = shared_from_this(), a](Result result) {
    const bool keep = IdempotencyCache::IsFinal(result);
    {
      // Under the lock, so that no renewal overwrites the result.
      absl::MutexLock lock(&a->mu);
      a->finished = true;
      if (a->renew_timer != 0) self->timers_->Cancel(a->renew_timer);
      a->renew_timer = 0;
      if (keep) {
        self->store_->Set(a->store_key, DoneRecord(a->fingerprint, result), self->options_.window,
                          [](absl::Status) {});
      } else {
        self->store_->Delete(a->store_key, [](absl::Status) {});
      }
    }
    a->done(std::move(result), keep);
  });
}

void SharedCreates::Renew(std::shared_ptr<Attempt> a) {
  absl::MutexLock lock(&a->mu);
  if (a->finished) return;
  store_->Set(a->store_key, InFlightRecord(a->fingerprint, timers_->Now() + options_.lease),
              options_.window, [](absl::Status) {});
  a->renew_timer = timers_->Schedule(timers_->Now() + options_.lease / 3,
                                     [self = shared_from_this(), a] { self->Renew(a); });
}

}  // namespace fivetran_gateway
