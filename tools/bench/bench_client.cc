// bench_client: the load client of tools/bench.sh (issue 13).
//
// One measurement per run, chosen by --mode; the result is one line of
// key=value pairs on stdout (tools/bench.sh formats them). Loopback only: the
// gateway (--target) and the emulator (--emulator) are the ones bench.sh
// started. Every mode is bounded in calls and time.
//
//   seq          --calls sequential GetConnection through the gateway
//   direct_seq   the same GET straight to the emulator, one keep-alive connection
//   load         --connections gRPC connections x --streams calls in flight each,
//                closed loop for --duration
//   direct_load  --connections keep-alive HTTP/1.1 connections to the emulator
//                (one request in flight each), closed loop for --duration
//   fanin        --calls GetConnection of --ids connections, all started at once
//   watch        --watchers WatchConnectionSync streams on --ids connections for
//                --duration; upstream reads per second from the request log
//
// With --pid (the gateway's), the gateway's CPU time (utime+stime of
// /proc/PID/stat) over the measured calls, and its peak RSS and thread count
// (/proc/PID/status, sampled every 20 ms) are reported too. Connection ids are
// --id_prefix followed by a 4-digit index (the seed tools/bench.sh writes):
// call i reads id i % --ids, so with more ids than calls in flight no two
// concurrent calls read the same id and the gateway cannot coalesce them.
#include <curl/curl.h>
#include <dirent.h>
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "fivetran/gateway/v1/connection_service.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "nlohmann/json.hpp"

ABSL_FLAG(std::string, mode, "", "seq, direct_seq, load, direct_load, fanin or watch");
ABSL_FLAG(std::string, target, "", "gateway address HOST:PORT");
ABSL_FLAG(std::string, emulator, "", "emulator base URL http://HOST:PORT");
ABSL_FLAG(std::string, api_key, "demo_api_key", "emulator API key (direct modes)");
ABSL_FLAG(std::string, api_secret, "demo_api_secret", "emulator API secret (direct modes)");
ABSL_FLAG(bool, gzip, true, "direct modes: send Accept-Encoding: gzip, as the gateway does");
ABSL_FLAG(int, pid, 0,
          "gateway process id: report its CPU time, context switches, RSS and threads");
ABSL_FLAG(std::string, rpc, "get_connection",
          "seq: get_connection, or health_check (grpc.health.v1 Check: answered by the "
          "gateway itself, the cost of the gRPC path alone)");
ABSL_FLAG(std::string, id_prefix, "bench_", "connection ids are this + %04d");
ABSL_FLAG(int, ids, 1000, "distinct connection ids used");
ABSL_FLAG(int, calls, 2000, "calls (seq, direct_seq, fanin)");
ABSL_FLAG(int, warmup, 200, "unmeasured calls first (seq, direct_seq)");
ABSL_FLAG(int, connections, 50, "connections (load, direct_load); channels (fanin, watch)");
ABSL_FLAG(int, streams, 10, "calls in flight per connection (load)");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(5), "measured time (load, direct_load, watch)");
ABSL_FLAG(absl::Duration, warmup_time, absl::Seconds(1), "unmeasured time first (load modes)");
ABSL_FLAG(int, watchers, 1000, "WatchConnectionSync streams (watch)");
ABSL_FLAG(absl::Duration, poll, absl::Seconds(1), "poll_interval asked for (watch)");
ABSL_FLAG(absl::Duration, deadline, absl::Seconds(60), "deadline of each call");

namespace {

namespace v1 = ::fivetran::gateway::v1;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "bench_client: %s\n", message.c_str());
  std::exit(1);
}

std::string IdOf(int64_t i) {
  return absl::StrFormat("%s%04d", absl::GetFlag(FLAGS_id_prefix),
                         static_cast<int>(i % absl::GetFlag(FLAGS_ids)));
}

double Micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

// --- /proc of the gateway -------------------------------------------------

// utime + stime of the process, in microseconds (clock-tick resolution).
double CpuMicros(int pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t paren = text.rfind(')');
  if (paren == std::string::npos) Die(absl::StrCat("cannot read /proc/", pid, "/stat"));
  std::istringstream fields(text.substr(paren + 2));
  std::string field;
  // Fields after the name start at 3 (state); utime is 14 and stime 15.
  long long utime = 0, stime = 0;
  for (int n = 3; n <= 15 && fields >> field; ++n) {
    if (n == 14) utime = std::stoll(field);
    if (n == 15) stime = std::stoll(field);
  }
  return (utime + stime) * 1e6 / sysconf(_SC_CLK_TCK);
}

// Voluntary + involuntary context switches of all the process's threads.
long long ContextSwitches(int pid) {
  long long total = 0;
  const std::string dir = absl::StrCat("/proc/", pid, "/task");
  std::unique_ptr<DIR, int (*)(DIR*)> tasks(opendir(dir.c_str()), closedir);
  if (tasks == nullptr) Die("cannot read " + dir);
  while (dirent* e = readdir(tasks.get())) {
    if (e->d_name[0] == '.') continue;
    std::ifstream in(absl::StrCat(dir, "/", e->d_name, "/status"));
    std::string line;
    while (std::getline(in, line)) {
      if (line.find("ctxt_switches:") != std::string::npos) {
        total += std::stoll(line.substr(line.find(':') + 1));
      }
    }
  }
  return total;
}

struct ProcStatus {
  long rss_kb = 0;
  long threads = 0;
};

ProcStatus ReadStatus(int pid) {
  ProcStatus s;
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) s.rss_kb = std::stol(line.substr(6));
    if (line.rfind("Threads:", 0) == 0) s.threads = std::stol(line.substr(8));
  }
  return s;
}

// Samples the gateway's RSS and thread count every 20 ms, keeping the peaks.
class Sampler {
 public:
  explicit Sampler(int pid) : pid_(pid) {
    if (pid_ <= 0) return;
    peak_ = ReadStatus(pid_);
    thread_ = std::thread([this] {
      std::unique_lock<std::mutex> lock(mu_);
      while (!stop_) {
        ProcStatus s = ReadStatus(pid_);
        peak_.rss_kb = std::max(peak_.rss_kb, s.rss_kb);
        peak_.threads = std::max(peak_.threads, s.threads);
        cv_.wait_for(lock, std::chrono::milliseconds(20));
      }
    });
  }
  ~Sampler() { Stop(); }
  ProcStatus Stop() {
    if (thread_.joinable()) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        stop_ = true;
      }
      cv_.notify_all();
      thread_.join();
    }
    return peak_;
  }

 private:
  int pid_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  ProcStatus peak_;
  std::thread thread_;
};

// --- HTTP (libcurl) -------------------------------------------------------

size_t Append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// An easy handle for GET `url` with the gateway's upstream headers (Basic
// auth, Accept version 2, Accept-Encoding gzip); the body goes to *body.
CURL* NewGet(const std::string& url, std::string* body, curl_slist* headers) {
  CURL* h = curl_easy_init();
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  const std::string userpwd = absl::GetFlag(FLAGS_api_key) + ":" + absl::GetFlag(FLAGS_api_secret);
  curl_easy_setopt(h, CURLOPT_USERPWD, userpwd.c_str());  // copied by libcurl
  // As the gateway (unless --nogzip): the emulator gzips the answer, libcurl
  // inflates it.
  if (absl::GetFlag(FLAGS_gzip)) curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "gzip");
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, Append);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  return h;
}

curl_slist* UpstreamHeaders() {
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Accept: application/json;version=2");
  headers = curl_slist_append(headers, "User-Agent: bench_client");
  return headers;
}

// One admin request to the emulator; returns the body (dies on failure).
std::string Admin(const std::string& method, const std::string& path) {
  std::string body;
  CURL* h = curl_easy_init();
  const std::string url = absl::GetFlag(FLAGS_emulator) + path;
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, Append);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
  long status = 0;
  if (curl_easy_perform(h) != CURLE_OK) Die("emulator admin request failed: " + path);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(h);
  if (status != 200) Die(absl::StrCat("emulator admin ", path, ": HTTP ", status));
  return body;
}

void ClearUpstreamLog() { Admin("DELETE", "/_emulator/requests"); }

// The emulator's logged /v1 requests since the last ClearUpstreamLog.
json UpstreamLog() {
  json log = json::parse(Admin("GET", "/_emulator/requests?path_prefix=/v1"), nullptr, false);
  if (!log.is_object() || !log.contains("requests")) Die("bad request log");
  return log;
}

// --- statistics -----------------------------------------------------------

struct Latencies {
  std::vector<double> us;
  double Percentile(double p) {
    if (us.empty()) return 0;
    std::sort(us.begin(), us.end());
    size_t i = static_cast<size_t>(p / 100.0 * (us.size() - 1) + 0.5);
    return us[std::min(i, us.size() - 1)];
  }
};

std::string F(double v) { return absl::StrFormat("%.0f", v); }

void Print(const std::vector<std::pair<std::string, std::string>>& kv) {
  std::string line;
  for (const auto& [k, v] : kv) absl::StrAppend(&line, line.empty() ? "" : " ", k, "=", v);
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

std::shared_ptr<grpc::Channel> NewChannel(int index) {
  grpc::ChannelArguments args;
  // One TCP connection per channel: no sharing of subchannels between them.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt("bench.channel_index", index);
  auto channel = grpc::CreateCustomChannel(absl::GetFlag(FLAGS_target),
                                           grpc::InsecureChannelCredentials(), args);
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
    Die("cannot connect to " + absl::GetFlag(FLAGS_target));
  }
  return channel;
}

// One stub on its own channel (its own TCP connection) per `n`.
std::vector<std::unique_ptr<v1::ConnectionService::Stub>> Stubs(int n) {
  std::vector<std::unique_ptr<v1::ConnectionService::Stub>> stubs;
  for (int c = 0; c < n; ++c) stubs.push_back(v1::ConnectionService::NewStub(NewChannel(c)));
  return stubs;
}

void SetDeadline(grpc::ClientContext* ctx) {
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + absl::GetFlag(FLAGS_deadline)));
}

// --- sequential -----------------------------------------------------------

void Seq() {
  auto channel = NewChannel(0);
  auto stub = v1::ConnectionService::NewStub(channel);
  auto health = grpc::health::v1::Health::NewStub(channel);
  const int pid = absl::GetFlag(FLAGS_pid);
  const std::string rpc = absl::GetFlag(FLAGS_rpc);
  if (rpc != "get_connection" && rpc != "health_check") {
    Die("--rpc must be get_connection or health_check");
  }
  auto call = [&](int64_t i) {
    grpc::ClientContext ctx;
    SetDeadline(&ctx);
    if (rpc == "health_check") {
      grpc::health::v1::HealthCheckRequest req;
      grpc::health::v1::HealthCheckResponse resp;
      grpc::Status s = health->Check(&ctx, req, &resp);
      if (!s.ok()) Die("Health.Check: " + s.error_message());
      return;
    }
    v1::GetConnectionRequest req;
    req.set_connection_id(IdOf(i));
    v1::GetConnectionResponse resp;
    grpc::Status s = stub->GetConnection(&ctx, req, &resp);
    if (!s.ok()) Die("GetConnection: " + s.error_message());
  };
  for (int i = 0; i < absl::GetFlag(FLAGS_warmup); ++i) call(i);
  const int calls = absl::GetFlag(FLAGS_calls);
  Latencies lat;
  lat.us.reserve(calls);
  const double cpu0 = pid > 0 ? CpuMicros(pid) : 0;
  const long long switches0 = pid > 0 ? ContextSwitches(pid) : 0;
  const auto t0 = Clock::now();
  for (int i = 0; i < calls; ++i) {
    const auto start = Clock::now();
    call(i);
    lat.us.push_back(Micros(Clock::now() - start));
  }
  const double wall = Micros(Clock::now() - t0);
  const double cpu = pid > 0 ? CpuMicros(pid) - cpu0 : 0;
  const double switches = pid > 0 ? ContextSwitches(pid) - switches0 : 0;
  Print({{"calls", absl::StrCat(calls)},
         {"p50_us", F(lat.Percentile(50))},
         {"p99_us", F(lat.Percentile(99))},
         {"mean_us", F(wall / calls)},
         {"cpu_us_per_call", pid > 0 ? F(cpu / calls) : "-"},
         {"switches_per_call", pid > 0 ? absl::StrFormat("%.1f", switches / calls) : "-"},
         {"cpu_busy_pct", pid > 0 ? F(100 * cpu / wall) : "-"}});
}

void DirectSeq() {
  curl_slist* headers = UpstreamHeaders();
  std::string body;
  CURL* h = NewGet("", &body, headers);
  auto call = [&](int64_t i) {
    const std::string url = absl::GetFlag(FLAGS_emulator) + "/v1/connections/" + IdOf(i);
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    body.clear();
    long status = 0;
    if (curl_easy_perform(h) != CURLE_OK) Die("direct GET failed");
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) Die(absl::StrCat("direct GET: HTTP ", status));
  };
  for (int i = 0; i < absl::GetFlag(FLAGS_warmup); ++i) call(i);
  const int calls = absl::GetFlag(FLAGS_calls);
  Latencies lat;
  const auto t0 = Clock::now();
  for (int i = 0; i < calls; ++i) {
    const auto start = Clock::now();
    call(i);
    lat.us.push_back(Micros(Clock::now() - start));
  }
  const double wall = Micros(Clock::now() - t0);
  long connects = 0;
  curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
  curl_easy_cleanup(h);
  curl_slist_free_all(headers);
  Print({{"calls", absl::StrCat(calls)},
         {"p50_us", F(lat.Percentile(50))},
         {"p99_us", F(lat.Percentile(99))},
         {"mean_us", F(wall / calls)}});
}

// --- closed-loop throughput -----------------------------------------------

// Results of a closed-loop run: completions inside the measured window.
struct Window {
  std::mutex mu;
  Latencies lat;
  int64_t errors = 0;
  std::string first_error;
  void Record(Clock::time_point start, Clock::time_point end, Clock::time_point measure_from,
              const grpc::Status* s) {
    if (start < measure_from) return;
    std::lock_guard<std::mutex> lock(mu);
    if (s != nullptr && !s->ok()) {
      if (errors++ == 0) first_error = s->error_message();
      return;
    }
    lat.us.push_back(Micros(end - start));
  }
};

std::vector<std::pair<std::string, std::string>> WindowFields(Window& w, double seconds,
                                                              double cpu_us) {
  const size_t ok = w.lat.us.size();
  std::vector<std::pair<std::string, std::string>> kv = {{"ok", absl::StrCat(ok)},
                                                         {"errors", absl::StrCat(w.errors)},
                                                         {"rps", F(ok / seconds)},
                                                         {"p50_us", F(w.lat.Percentile(50))},
                                                         {"p99_us", F(w.lat.Percentile(99))},
                                                         {"max_us", F(w.lat.Percentile(100))}};
  if (cpu_us >= 0) kv.push_back({"cpu_us_per_call", ok ? F(cpu_us / ok) : "-"});
  if (w.errors > 0) std::fprintf(stderr, "bench_client: first error: %s\n", w.first_error.c_str());
  return kv;
}

class LoadSlot {
 public:
  LoadSlot(v1::ConnectionService::Stub* stub, Window* window, std::atomic<int64_t>* next,
           Clock::time_point measure_from, Clock::time_point end, std::atomic<int>* live)
      : stub_(stub),
        window_(window),
        next_(next),
        measure_from_(measure_from),
        end_(end),
        live_(live) {}

  void Start() {
    ctx_ = std::make_unique<grpc::ClientContext>();
    SetDeadline(ctx_.get());
    req_.set_connection_id(IdOf((*next_)++));
    start_ = Clock::now();
    stub_->async()->GetConnection(ctx_.get(), &req_, &resp_, [this](grpc::Status s) {
      const auto now = Clock::now();
      if (now <= end_) window_->Record(start_, now, measure_from_, &s);
      if (now < end_) {
        Start();
      } else {
        live_->fetch_sub(1);
      }
    });
  }

 private:
  v1::ConnectionService::Stub* stub_;
  Window* window_;
  std::atomic<int64_t>* next_;
  Clock::time_point measure_from_, end_;
  std::atomic<int>* live_;
  std::unique_ptr<grpc::ClientContext> ctx_;
  v1::GetConnectionRequest req_;
  v1::GetConnectionResponse resp_;
  Clock::time_point start_;
};

void Load() {
  const int conns = absl::GetFlag(FLAGS_connections);
  const int streams = absl::GetFlag(FLAGS_streams);
  const int pid = absl::GetFlag(FLAGS_pid);
  std::vector<std::unique_ptr<v1::ConnectionService::Stub>> stubs = Stubs(conns);
  if (!absl::GetFlag(FLAGS_emulator).empty()) ClearUpstreamLog();
  Window window;
  std::atomic<int64_t> next{0};
  std::atomic<int> live{conns * streams};
  const auto t0 = Clock::now();
  const auto measure_from = t0 + absl::ToChronoNanoseconds(absl::GetFlag(FLAGS_warmup_time));
  const auto end = measure_from + absl::ToChronoNanoseconds(absl::GetFlag(FLAGS_duration));
  std::vector<std::unique_ptr<LoadSlot>> slots;
  for (int c = 0; c < conns; ++c) {
    for (int s = 0; s < streams; ++s) {
      slots.push_back(
          std::make_unique<LoadSlot>(stubs[c].get(), &window, &next, measure_from, end, &live));
    }
  }
  for (auto& slot : slots) slot->Start();
  std::this_thread::sleep_until(measure_from);
  const double cpu0 = pid > 0 ? CpuMicros(pid) : 0;
  std::this_thread::sleep_until(end);
  const double cpu = pid > 0 ? CpuMicros(pid) - cpu0 : -1;
  while (live.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  // The last callback may still be returning: give it time before the slots go.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto kv = WindowFields(window, absl::ToDoubleSeconds(absl::GetFlag(FLAGS_duration)), cpu);
  if (!absl::GetFlag(FLAGS_emulator).empty()) {
    // Upstream requests of warm-up and measured window, per call started.
    const int64_t upstream = UpstreamLog()["count"].get<int64_t>();
    kv.push_back({"upstream_per_call", absl::StrFormat("%.2f", double(upstream) / next.load())});
  }
  Print(kv);
}

void DirectLoad() {
  const int conns = absl::GetFlag(FLAGS_connections);
  curl_slist* headers = UpstreamHeaders();
  CURLM* multi = curl_multi_init();
  struct Slot {
    CURL* h = nullptr;
    std::string body;
    std::string url;
    Clock::time_point start;
  };
  std::vector<Slot> slots(conns);
  int64_t next = 0;
  auto start = [&](Slot& s) {
    s.body.clear();
    s.url = absl::GetFlag(FLAGS_emulator) + "/v1/connections/" + IdOf(next++);
    curl_easy_setopt(s.h, CURLOPT_URL, s.url.c_str());
    s.start = Clock::now();
    curl_multi_add_handle(multi, s.h);
  };
  Window window;
  const auto t0 = Clock::now();
  const auto measure_from = t0 + absl::ToChronoNanoseconds(absl::GetFlag(FLAGS_warmup_time));
  const auto end = measure_from + absl::ToChronoNanoseconds(absl::GetFlag(FLAGS_duration));
  for (Slot& s : slots) {
    s.h = NewGet("", &s.body, headers);
    curl_easy_setopt(s.h, CURLOPT_PRIVATE, &s);
    start(s);
  }
  int in_flight = conns;
  while (in_flight > 0) {
    int running = 0;
    curl_multi_perform(multi, &running);
    int queued = 0;
    while (CURLMsg* m = curl_multi_info_read(multi, &queued)) {
      if (m->msg != CURLMSG_DONE) continue;
      Slot* s = nullptr;
      curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&s));
      long status = 0;
      curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
      const CURLcode rc = m->data.result;
      curl_multi_remove_handle(multi, s->h);
      --in_flight;
      const auto now = Clock::now();
      if (now <= end) {
        grpc::Status st = (rc == CURLE_OK && status == 200)
                              ? grpc::Status::OK
                              : grpc::Status(grpc::StatusCode::UNKNOWN,
                                             absl::StrCat("curl ", rc, " HTTP ", status));
        window.Record(s->start, now, measure_from, &st);
      }
      if (now < end) {
        start(*s);
        ++in_flight;
      }
    }
    if (in_flight > 0) curl_multi_wait(multi, nullptr, 0, 100, nullptr);
  }
  for (Slot& s : slots) curl_easy_cleanup(s.h);
  curl_multi_cleanup(multi);
  curl_slist_free_all(headers);
  Print(WindowFields(window, absl::ToDoubleSeconds(absl::GetFlag(FLAGS_duration)), -1));
}

// --- fan-in ---------------------------------------------------------------

void FanIn() {
  const int calls = absl::GetFlag(FLAGS_calls);
  const int conns = absl::GetFlag(FLAGS_connections);
  const int pid = absl::GetFlag(FLAGS_pid);
  std::vector<std::unique_ptr<v1::ConnectionService::Stub>> stubs = Stubs(conns);
  ClearUpstreamLog();
  struct Call {
    grpc::ClientContext ctx;
    v1::GetConnectionRequest req;
    v1::GetConnectionResponse resp;
  };
  std::vector<std::unique_ptr<Call>> all(calls);
  std::mutex mu;
  std::condition_variable cv;
  int done = 0;
  Window window;
  Sampler sampler(pid);
  const double cpu0 = pid > 0 ? CpuMicros(pid) : 0;
  // Every call's context and request are made before the clock starts: what
  // is timed is starting the calls, as close to "at once" as one client gets.
  for (int i = 0; i < calls; ++i) {
    all[i] = std::make_unique<Call>();
    SetDeadline(&all[i]->ctx);
    all[i]->req.set_connection_id(IdOf(i));
  }
  const auto t0 = Clock::now();
  for (int i = 0; i < calls; ++i) {
    Call* c = all[i].get();
    stubs[i % conns]->async()->GetConnection(&c->ctx, &c->req, &c->resp, [&, t0](grpc::Status s) {
      window.Record(t0, Clock::now(), t0, &s);
      std::lock_guard<std::mutex> lock(mu);
      ++done;
      cv.notify_all();
    });
  }
  // How long starting every call took here: when it exceeds the upstream
  // latency, late calls find their connection's read already answered and
  // read it again (coalescing shares only reads in flight).
  const double issued_s = Micros(Clock::now() - t0) / 1e6;
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done == calls; });
  }
  const double wall_s = Micros(Clock::now() - t0) / 1e6;
  const double cpu = pid > 0 ? CpuMicros(pid) - cpu0 : 0;
  const ProcStatus peak = sampler.Stop();
  const json log = UpstreamLog();
  const int64_t upstream = log["count"].get<int64_t>();
  // Connections read more than once: GETs of one path beyond the first.
  std::map<std::string, int> reads_per_path;
  for (const json& r : log["requests"]) ++reads_per_path[r.value("path", "")];
  int reread = 0;
  for (const auto& [path, n] : reads_per_path) reread += n > 1 ? 1 : 0;
  if (window.errors > 0) {
    std::fprintf(stderr, "bench_client: first error: %s\n", window.first_error.c_str());
  }
  Print({{"calls", absl::StrCat(calls)},
         {"ids", absl::StrCat(std::min(calls, absl::GetFlag(FLAGS_ids)))},
         {"ok", absl::StrCat(window.lat.us.size())},
         {"errors", absl::StrCat(window.errors)},
         {"upstream", absl::StrCat(upstream)},
         {"reread", absl::StrCat(reread)},
         {"issued_s", absl::StrFormat("%.2f", issued_s)},
         {"wall_s", absl::StrFormat("%.2f", wall_s)},
         {"p50_ms", F(window.lat.Percentile(50) / 1000)},
         {"cpu_ms", pid > 0 ? F(cpu / 1000) : "-"},
         {"peak_rss_mb", pid > 0 ? absl::StrFormat("%.1f", peak.rss_kb / 1024.0) : "-"},
         {"peak_threads", pid > 0 ? absl::StrCat(peak.threads) : "-"}});
}

// --- watchers -------------------------------------------------------------

class Watcher : public grpc::ClientReadReactor<v1::WatchConnectionSyncResponse> {
 public:
  Watcher(v1::ConnectionService::Stub* stub, const std::string& id, std::atomic<int>* live,
          std::atomic<int64_t>* messages)
      : live_(live), messages_(messages) {
    req_.set_connection_id(id);
    *req_.mutable_poll_interval() = [] {
      google::protobuf::Duration d;
      d.set_seconds(absl::ToInt64Seconds(absl::GetFlag(FLAGS_poll)));
      return d;
    }();
    stub->async()->WatchConnectionSync(&ctx_, &req_, this);
    StartRead(&resp_);
    StartCall();
  }
  void Cancel() { ctx_.TryCancel(); }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    messages_->fetch_add(1);
    StartRead(&resp_);
  }
  void OnDone(const grpc::Status& s) override {
    status_ = s;
    live_->fetch_sub(1);
  }
  const grpc::Status& status() const { return status_; }

 private:
  std::atomic<int>* live_;
  std::atomic<int64_t>* messages_;
  grpc::ClientContext ctx_;
  v1::WatchConnectionSyncRequest req_;
  v1::WatchConnectionSyncResponse resp_;
  grpc::Status status_;
};

void Watch() {
  const int watchers = absl::GetFlag(FLAGS_watchers);
  const int conns = absl::GetFlag(FLAGS_connections);
  const int pid = absl::GetFlag(FLAGS_pid);
  std::vector<std::unique_ptr<v1::ConnectionService::Stub>> stubs = Stubs(conns);
  ClearUpstreamLog();
  std::atomic<int> live{watchers};
  std::atomic<int64_t> messages{0};
  std::vector<std::unique_ptr<Watcher>> all;
  Sampler sampler(pid);
  const double cpu0 = pid > 0 ? CpuMicros(pid) : 0;
  const absl::Time t0 = absl::Now();
  for (int i = 0; i < watchers; ++i) {
    all.push_back(std::make_unique<Watcher>(stubs[i % conns].get(), IdOf(i), &live, &messages));
  }
  const absl::Duration duration = absl::GetFlag(FLAGS_duration);
  absl::SleepFor(duration - (absl::Now() - t0));
  const double cpu = pid > 0 ? CpuMicros(pid) - cpu0 : 0;
  const ProcStatus peak = sampler.Stop();
  const int early_end = watchers - live.load();
  for (auto& w : all) w->Cancel();
  while (live.load() > 0) absl::SleepFor(absl::Milliseconds(10));
  // Upstream reads by second since the first watcher started.
  const int buckets = static_cast<int>(absl::ToInt64Seconds(duration));
  std::vector<int> per_second(std::max(buckets, 1), 0);
  int64_t total = 0;
  const json log = UpstreamLog();
  for (const json& r : log["requests"]) {
    absl::Time t;
    std::string err;
    if (!absl::ParseTime(absl::RFC3339_full, r["time"].get<std::string>(), &t, &err)) {
      Die("bad request log time: " + err);
    }
    const int64_t b = absl::ToInt64Seconds(t - t0);
    if (t < t0 || b >= buckets) continue;
    ++per_second[b];
    ++total;
  }
  std::string series;
  for (int n : per_second) absl::StrAppend(&series, series.empty() ? "" : ",", n);
  if (early_end > 0) {
    std::fprintf(stderr, "bench_client: %d watchers ended early; first: %s\n", early_end,
                 [&] {
                   for (auto& w : all) {
                     if (!w->status().ok()) return w->status().error_message();
                   }
                   return std::string("OK");
                 }()
                     .c_str());
  }
  Print({{"watchers", absl::StrCat(watchers)},
         {"ids", absl::StrCat(std::min(watchers, absl::GetFlag(FLAGS_ids)))},
         {"ended_early", absl::StrCat(early_end)},
         {"messages", absl::StrCat(messages.load())},
         {"upstream_total", absl::StrCat(total)},
         {"upstream_per_s", series},
         {"cpu_pct", pid > 0 ? F(100 * cpu / absl::ToDoubleMicroseconds(duration)) : "-"},
         {"peak_rss_mb", pid > 0 ? absl::StrFormat("%.1f", peak.rss_kb / 1024.0) : "-"},
         {"peak_threads", pid > 0 ? absl::StrCat(peak.threads) : "-"}});
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const std::string mode = absl::GetFlag(FLAGS_mode);
  if (mode == "seq") {
    Seq();
  } else if (mode == "direct_seq") {
    DirectSeq();
  } else if (mode == "load") {
    Load();
  } else if (mode == "direct_load") {
    DirectLoad();
  } else if (mode == "fanin") {
    FanIn();
  } else if (mode == "watch") {
    Watch();
  } else {
    Die("--mode must be seq, direct_seq, load, direct_load, fanin or watch");
  }
  curl_global_cleanup();
  return 0;
}
