// relay_floor: the smallest gRPC-to-REST relay that follows the gateway's one
// rule on threads, a baseline for section (a) of tools/bench.sh (issue 13).
//
// It serves ConnectionService.GetConnection only, over gRPC's callback API
// like the gateway. The handler never blocks its gRPC thread: it hands the
// call to one worker thread, which sends GET /v1/connections/{id} over one
// keep-alive libcurl handle (Basic auth, Accept version=2, gzip when asked,
// as the gateway) and finishes the call from there, as the gateway finishes
// calls from its libcurl thread. There is nothing else: no JSON mapping (the
// answer holds the connection id, and Fivetran's JSON text as one string,
// `service`, so that it is about the size of the gateway's answer), no
// retries, coalescing, budget, logging or metrics. What the gateway costs above this relay is its
// own; what this relay costs above a direct GET is gRPC and one more hop.
//
// --workers threads (each with its own keep-alive connection) serve one
// call at a time each: 1 for sequential calls, as many as the gateway's
// upstream connections for calls in flight.
// Credentials come from FIVETRAN_API_KEY / FIVETRAN_API_SECRET and are never
// printed.
#include <curl/curl.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "fivetran/gateway/v1/connection_service.grpc.pb.h"
#include "grpcpp/grpcpp.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:0", "gRPC listen address HOST:PORT (port 0 = any)");
ABSL_FLAG(std::string, port_file, "", "after binding, write the bound port to this file");
ABSL_FLAG(std::string, fivetran_base_url, "", "REST base URL, e.g. http://127.0.0.1:PORT");
ABSL_FLAG(bool, gzip, true, "send Accept-Encoding: gzip");
ABSL_FLAG(int, workers, 1, "worker threads, each with one keep-alive connection");

namespace {

namespace v1 = fivetran::gateway::v1;

struct Call {
  std::string connection_id;
  v1::GetConnectionResponse* response;
  grpc::ServerUnaryReactor* reactor;
};

// Calls handed from gRPC's threads to the workers: one worker is woken per
// call.
class CallQueue {
 public:
  void Push(Call call) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      calls_.push_back(std::move(call));
    }
    ready_.notify_one();
  }
  Call Pop() {
    std::unique_lock<std::mutex> lock(mu_);
    ready_.wait(lock, [this] { return !calls_.empty(); });
    Call call = std::move(calls_.front());
    calls_.pop_front();
    return call;
  }

 private:
  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<Call> calls_;
};

size_t Append(char* data, size_t size, size_t n, void* body) {
  static_cast<std::string*>(body)->append(data, size * n);
  return size * n;
}

// The worker: one keep-alive handle, one GET per call.
void Serve(CallQueue* queue, const std::string& base_url, const std::string& userpwd) {
  CURL* h = curl_easy_init();
  curl_slist* headers = curl_slist_append(nullptr, "Accept: application/json;version=2");
  for (;;) {
    Call call = queue->Pop();
    char* escaped =
        curl_easy_escape(h, call.connection_id.data(), static_cast<int>(call.connection_id.size()));
    if (escaped == nullptr) {
      call.reactor->Finish(grpc::Status(grpc::StatusCode::INTERNAL, "out of memory"));
      continue;
    }
    const std::string url = absl::StrCat(base_url, "/v1/connections/", escaped);
    curl_free(escaped);
    std::string body;
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(h, CURLOPT_USERPWD, userpwd.c_str());
    if (absl::GetFlag(FLAGS_gzip)) curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "gzip");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, Append);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    const CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK) {
      call.reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, curl_easy_strerror(rc)));
    } else if (status != 200) {
      call.reactor->Finish(
          grpc::Status(grpc::StatusCode::UNKNOWN, absl::StrCat("HTTP status ", status)));
    } else {
      call.response->mutable_connection()->set_id(call.connection_id);
      call.response->mutable_connection()->set_service(std::move(body));
      call.reactor->Finish(grpc::Status::OK);
    }
  }
}

class Relay final : public v1::ConnectionService::CallbackService {
 public:
  explicit Relay(CallQueue* queue) : queue_(queue) {}

  grpc::ServerUnaryReactor* GetConnection(grpc::CallbackServerContext* context,
                                          const v1::GetConnectionRequest* request,
                                          v1::GetConnectionResponse* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    queue_->Push(Call{request->connection_id(), response, reactor});
    return reactor;
  }

 private:
  CallQueue* const queue_;
};

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  // As the gateway's -c opt build: Abseil's deadlock detection (on in
  // Debian's build) would cost gRPC's own mutexes on every call.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  const char* key = std::getenv("FIVETRAN_API_KEY");
  const char* secret = std::getenv("FIVETRAN_API_SECRET");
  const std::string base_url = absl::GetFlag(FLAGS_fivetran_base_url);
  if (key == nullptr || secret == nullptr || base_url.empty()) {
    std::fprintf(stderr,
                 "relay_floor: needs --fivetran_base_url, FIVETRAN_API_KEY and "
                 "FIVETRAN_API_SECRET\n");
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CallQueue queue;
  for (int i = 0; i < std::max(1, absl::GetFlag(FLAGS_workers)); ++i) {
    std::thread(Serve, &queue, base_url, absl::StrCat(key, ":", secret)).detach();
  }

  Relay relay(&queue);
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(absl::GetFlag(FLAGS_listen), grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&relay);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::fprintf(stderr, "relay_floor: cannot listen on %s\n", absl::GetFlag(FLAGS_listen).c_str());
    return 1;
  }
  if (!absl::GetFlag(FLAGS_port_file).empty()) {
    std::ofstream(absl::GetFlag(FLAGS_port_file)) << port << "\n";
  }
  server->Wait();  // Until the benchmark kills it.
  return 0;
}
