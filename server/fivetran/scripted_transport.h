// ScriptedTransport (testonly): an HttpTransport that answers requests from
// a script of steps (HTTP responses, transport failures, or hang until
// cancelled) and records every request. Answers come inside Send(), as the
// real transport's do when it is stopping.
#ifndef FIVETRAN_GATEWAY_SERVER_FIVETRAN_SCRIPTED_TRANSPORT_H_
#define FIVETRAN_GATEWAY_SERVER_FIVETRAN_SCRIPTED_TRANSPORT_H_

#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "server/fivetran/http_transport.h"

namespace fivetran_gateway::fivetran {

// One scripted answer: an HTTP response, a transport failure, or (hang) no
// answer until cancelled.
struct Step {
  HttpResult result;
  bool hang = false;
};

inline Step Http(int status, std::string body = R"({"code":"Success","data":{}})",
                 std::string retry_after = "") {
  Step s;
  s.result.ok = true;
  s.result.response.status = status;
  s.result.response.body = std::move(body);
  s.result.response.content_type = "application/json";
  s.result.response.retry_after = std::move(retry_after);
  return s;
}

inline Step Failure(TransportFailure f) {
  Step s;
  s.result.error = {f, "scripted"};
  return s;
}

inline Step Hang() {
  Step s;
  s.hang = true;
  return s;
}

class ScriptedTransport final : public HttpTransport {
 public:
  class PendingCall final : public HttpCall {
   public:
    explicit PendingCall(HttpCallback done) : done_(std::move(done)) {}
    void Cancel() override {
      HttpCallback done;
      {
        absl::MutexLock lock(&mu_);
        done = std::move(done_);
      }
      if (!done) return;
      HttpResult r;
      r.error = {TransportFailure::kCancelled, "cancelled"};
      done(std::move(r));
    }

   private:
    absl::Mutex mu_;
    HttpCallback done_ ABSL_GUARDED_BY(mu_);
  };
  class DoneCall final : public HttpCall {
   public:
    void Cancel() override {}
  };

  void Script(std::vector<Step> steps) {
    absl::MutexLock lock(&mu_);
    for (auto& s : steps) steps_.push_back(std::move(s));
  }
  std::vector<HttpRequest> requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }

  std::shared_ptr<HttpCall> Send(HttpRequest request, HttpCallback done) override {
    Step step;
    {
      absl::MutexLock lock(&mu_);
      requests_.push_back(request);
      if (steps_.empty()) {
        step = Http(200);
      } else {
        step = steps_.front();
        steps_.pop_front();
      }
    }
    if (step.hang) return std::make_shared<PendingCall>(std::move(done));
    done(step.result);  // At once, as the real transport does when stopping.
    return std::make_shared<DoneCall>();
  }

 private:
  absl::Mutex mu_;
  std::deque<Step> steps_ ABSL_GUARDED_BY(mu_);
  std::vector<HttpRequest> requests_ ABSL_GUARDED_BY(mu_);
};

}  // namespace fivetran_gateway::fivetran

#endif  // FIVETRAN_GATEWAY_SERVER_FIVETRAN_SCRIPTED_TRANSPORT_H_
