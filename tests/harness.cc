#include "tests/harness.h"

#include <fcntl.h>
#include <grpcpp/generic/generic_stub.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "google/rpc/status.pb.h"
#include "httplib.h"

namespace fivetran_gateway::testing {

std::string Runfile(const std::string& path) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  if (srcdir == nullptr) return path;
  return std::string(srcdir) + "/" + (workspace ? workspace : "fivetran_gateway") + "/" + path;
}

std::string TempPath(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  static int counter = 0;
  return std::string(tmp ? tmp : "/tmp") + "/" + std::to_string(getpid()) + "_" +
         std::to_string(++counter) + "_" + name;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

Process::Process(const std::vector<std::string>& argv,
                 const std::map<std::string, std::string>& env, const std::string& output_file) {
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    int fd = open(output_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    for (const auto& [k, v] : env) {
      if (v.empty()) {
        unsetenv(k.c_str());
      } else {
        setenv(k.c_str(), v.c_str(), 1);
      }
    }
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
}

bool Process::Running() {
  if (reaped_) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    status_ = status;
    return false;
  }
  return true;
}

int Process::WaitExit(double timeout_s) {
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (Running()) {
    if (std::chrono::steady_clock::now() > end) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return WIFEXITED(status_) ? WEXITSTATUS(status_) : 128 + WTERMSIG(status_);
}

int Process::StopWith(int sig, double timeout_s) {
  if (Running()) kill(pid_, sig);
  return WaitExit(timeout_s);
}

Process::~Process() {
  if (pid_ <= 0) return;
  if (StopWith(SIGTERM, 15) == -1) {
    kill(pid_, SIGKILL);
    WaitExit(5);
  }
}

void ExpectNoSanitizerReport(const std::string& who, const std::string& log) {
  const size_t at = log.find("WARNING: ThreadSanitizer");
  if (at == std::string::npos) return;
  ADD_FAILURE() << who << " reported a data race or lock problem:\n" << log.substr(at, 8000);
}

int WaitForPortFile(const std::string& path, double timeout_s) {
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (std::chrono::steady_clock::now() < end) {
    std::string text = ReadFile(path);
    if (!text.empty()) return std::atoi(text.c_str());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return 0;
}

Emulator::Emulator(const std::vector<std::string>& extra_flags) {
  std::string port_file = TempPath("emulator.port");
  std::vector<std::string> argv = {Runfile("emulator/fivetran_emulator"), "--listen=127.0.0.1:0",
                                   "--port_file=" + port_file, std::string("--api_key=") + kApiKey,
                                   std::string("--api_secret=") + kApiSecret};
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  log_path_ = TempPath("emulator.log");
  process_ = std::make_unique<Process>(argv, std::map<std::string, std::string>{}, log_path_);
  port_ = WaitForPortFile(port_file);
  if (port_ == 0) throw std::runtime_error("the emulator did not start");
}

Emulator::~Emulator() {
  process_.reset();  // stopped: its output is complete
  ExpectNoSanitizerReport("fivetran_emulator", ReadFile(log_path_));
}

std::string Emulator::base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

namespace {
HttpReply ToReply(const httplib::Result& r) {
  HttpReply out;
  if (!r) return out;
  out.status = r->status;
  out.body = r->body;
  out.json = nlohmann::json::parse(r->body, nullptr, false);
  if (out.json.is_discarded()) out.json = nullptr;
  return out;
}
}  // namespace

HttpReply Emulator::Rest(const std::string& method, const std::string& path,
                         const std::string& body) const {
  httplib::Client client("127.0.0.1", port_);
  client.set_basic_auth(kApiKey, kApiSecret);
  httplib::Headers headers = {{"Accept", "application/json;version=2"}};
  if (method == "GET") return ToReply(client.Get(path, headers));
  return ToReply(client.Post(path, headers, body, "application/json"));
}

HttpReply Emulator::Admin(const std::string& method, const std::string& path,
                          const nlohmann::json& body) const {
  httplib::Client client("127.0.0.1", port_);
  std::string text = body.is_null() ? "" : body.dump();
  if (method == "GET") return ToReply(client.Get(path));
  if (method == "DELETE") return ToReply(client.Delete(path));
  return ToReply(client.Post(path, text, "application/json"));
}

std::vector<nlohmann::json> Emulator::Requests() const {
  HttpReply r = Admin("GET", "/_emulator/requests");
  std::vector<nlohmann::json> out;
  if (r.json.is_object() && r.json.contains("requests")) {
    for (const auto& item : r.json["requests"]) out.push_back(item);
  }
  return out;
}

int Emulator::CountRequests(const std::string& method, const std::string& path_prefix) const {
  int n = 0;
  for (const nlohmann::json& r : Requests()) {
    if (r["method"] == method && r["path"].get<std::string>().rfind(path_prefix, 0) == 0) ++n;
  }
  return n;
}

void Emulator::ClearRequests() const { Admin("DELETE", "/_emulator/requests"); }

void Emulator::SetSyncOutcome(const std::string& id, const std::string& outcome,
                              int duration_ms) const {
  HttpReply r = Admin("POST", "/_emulator/connections/" + id + "/sync_outcome",
                      {{"outcome", outcome}, {"duration_ms", duration_ms}});
  EXPECT_EQ(r.status, 200) << r.body;
}

bool Emulator::EndSync(const std::string& id) const {
  HttpReply r = Admin("POST", "/_emulator/connections/" + id + "/sync_end");
  EXPECT_EQ(r.status, 200) << r.body;
  return r.json.is_object() && r.json["data"]["ended"] == true;
}
void Emulator::AddFault(const nlohmann::json& fault) const {
  HttpReply r = Admin("POST", "/_emulator/faults", fault);
  if (r.status / 100 != 2) throw std::runtime_error("fault not accepted: " + r.body);
}
void Emulator::ClearFaults() const { Admin("DELETE", "/_emulator/faults"); }

std::vector<nlohmann::json> Emulator::ListAll(const std::string& path) const {
  std::vector<nlohmann::json> items;
  std::string cursor;
  for (int i = 0; i < 100; ++i) {
    std::string sep = path.find('?') == std::string::npos ? "?" : "&";
    std::string url = path + sep + "limit=1000" + (cursor.empty() ? "" : "&cursor=" + cursor);
    HttpReply r = Rest("GET", url);
    if (r.status != 200) throw std::runtime_error("listing failed: " + r.body);
    for (const auto& item : r.json["data"]["items"]) items.push_back(item);
    if (!r.json["data"].contains("next_cursor")) break;
    cursor = r.json["data"]["next_cursor"].get<std::string>();
  }
  return items;
}

Gateway::Gateway(const std::string& upstream_url, const std::string& api_key,
                 const std::string& api_secret, const std::vector<std::string>& extra_flags) {
  std::string credentials = TempPath("credentials.env");
  {
    std::ofstream out(credentials);
    out << "FIVETRAN_API_KEY=" << api_key << "\nFIVETRAN_API_SECRET=" << api_secret << "\n";
  }
  std::string port_file = TempPath("gateway.port");
  log_path_ = TempPath("gateway.log");
  std::vector<std::string> argv = {
      Runfile("server/fivetran_gateway"), "--listen=127.0.0.1:0", "--port_file=" + port_file,
      "--fivetran_base_url=" + upstream_url, "--credentials_file=" + credentials,
      "--log_level=debug", "--grace_period=2s",
      // As against Fivetran: auto would not ask a
      // loopback emulator for gzip.
      "--upstream_compression=gzip"};
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  process_ = std::make_unique<Process>(argv, std::map<std::string, std::string>{}, log_path_);
  port_ = WaitForPortFile(port_file);
  if (port_ == 0) throw std::runtime_error("the gateway did not start: " + log());
  channel_ = grpc::CreateChannel(address(), grpc::InsecureChannelCredentials());
}

Gateway::~Gateway() {
  channel_.reset();
  process_.reset();  // stopped: its log is complete
  ExpectNoSanitizerReport("fivetran_gateway", log());
}

std::string Gateway::address() const { return "127.0.0.1:" + std::to_string(port_); }

std::shared_ptr<grpc::Channel> Gateway::NewChannel(
    std::shared_ptr<grpc::ChannelCredentials> credentials) const {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(address(), credentials, args);
}

std::unique_ptr<::fivetran::gateway::v1::ConnectionService::Stub> Gateway::connections() const {
  return ::fivetran::gateway::v1::ConnectionService::NewStub(channel_);
}
std::unique_ptr<::fivetran::gateway::v1::GroupService::Stub> Gateway::groups() const {
  return ::fivetran::gateway::v1::GroupService::NewStub(channel_);
}
std::unique_ptr<::fivetran::gateway::v1::UserService::Stub> Gateway::users() const {
  return ::fivetran::gateway::v1::UserService::NewStub(channel_);
}

Emulator* StackTest::emulator_ = nullptr;
Gateway* StackTest::gateway_ = nullptr;
std::vector<std::string>* StackTest::gateway_flags_ = nullptr;

void StackTest::StartStack(const std::vector<std::string>& emulator_flags,
                           const std::vector<std::string>& gateway_flags) {
  emulator_ = new Emulator(emulator_flags);
  gateway_flags_ = new std::vector<std::string>(gateway_flags);
  gateway_ =
      new Gateway(emulator_->base_url(), Emulator::kApiKey, Emulator::kApiSecret, gateway_flags);
}

void StackTest::RestartGateway() {
  delete gateway_;
  gateway_ =
      new Gateway(emulator_->base_url(), Emulator::kApiKey, Emulator::kApiSecret, *gateway_flags_);
}

void StackTest::TearDownTestSuite() {
  delete gateway_;
  delete emulator_;
  delete gateway_flags_;
  gateway_ = nullptr;
  emulator_ = nullptr;
  gateway_flags_ = nullptr;
}

void StackTest::SetUp() {
  emulator_->ClearFaults();
  emulator_->ClearRequests();
}

ErrorDetails DetailsOf(const grpc::Status& status) {
  ErrorDetails out;
  google::rpc::Status rpc;
  if (!rpc.ParseFromString(status.error_details())) return out;
  for (const auto& any : rpc.details()) {
    if (any.Is<google::rpc::ErrorInfo>()) {
      out.has_error_info = any.UnpackTo(&out.error_info);
      ++out.error_info_count;
    } else if (any.Is<google::rpc::RetryInfo>()) {
      out.has_retry_info = any.UnpackTo(&out.retry_info);
    } else if (any.Is<google::rpc::BadRequest>()) {
      out.has_bad_request = any.UnpackTo(&out.bad_request);
    }
  }
  return out;
}

::fivetran::gateway::v1::CreateConnectionRequest PostgresCreateRequest(
    const std::string& schema, const std::string& request_id, const std::string& password) {
  ::fivetran::gateway::v1::CreateConnectionRequest request;
  request.set_group_id("quiet_harbor");
  request.set_service("postgres");
  auto& fields = *request.mutable_config()->mutable_fields();
  fields["schema"].set_string_value(schema);
  fields["host"].set_string_value("db.example.test");
  fields["password"].set_string_value(password);
  request.set_request_id(request_id);
  return request;
}

grpc::Status HealthCheck(const std::shared_ptr<grpc::Channel>& channel,
                         grpc::health::v1::HealthCheckResponse* response,
                         const std::string& service, double deadline_s) {
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  auto context = ContextWithDeadline(deadline_s);
  return grpc::health::v1::Health::NewStub(channel)->Check(context.get(), request, response);
}

grpc::Status ReflectionListServices(const std::shared_ptr<grpc::Channel>& channel,
                                    std::string* response_bytes, double deadline_s) {
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue cq;
  auto context = ContextWithDeadline(deadline_s);
  auto step = [&cq](intptr_t want) {
    void* tag = nullptr;
    bool ok = false;
    return cq.Next(&tag, &ok) && tag == reinterpret_cast<void*>(want) && ok;
  };
  auto call = stub.PrepareCall(
      context.get(), "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  call->StartCall(reinterpret_cast<void*>(1));
  if (step(1)) {
    // ServerReflectionRequest{list_services: ""}: field 7, length-delimited.
    grpc::Slice slice(std::string("\x3a\x00", 2));
    grpc::ByteBuffer out(&slice, 1);
    call->Write(out, reinterpret_cast<void*>(2));
    if (step(2)) {
      call->WritesDone(reinterpret_cast<void*>(3));
      step(3);
      grpc::ByteBuffer in;
      call->Read(&in, reinterpret_cast<void*>(4));
      if (step(4)) {
        std::vector<grpc::Slice> slices;
        in.Dump(&slices);
        for (const grpc::Slice& s : slices) {
          response_bytes->append(reinterpret_cast<const char*>(s.begin()), s.size());
        }
        grpc::ByteBuffer rest;
        call->Read(&rest, reinterpret_cast<void*>(5));
        step(5);
      }
    }
  }
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(6));
  void* tag = nullptr;
  bool ok = false;
  while (cq.Next(&tag, &ok) && tag != reinterpret_cast<void*>(6)) {
  }
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return status;
}

std::unique_ptr<grpc::ClientContext> ContextWithDeadline(double seconds) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000)));
  return context;
}

std::string WriteTemp(const std::string& name, const std::string& content) {
  std::string path = TempPath(name);
  std::ofstream(path) << content;
  return path;
}

KeyPair MakeCert(const std::string& name) {
  KeyPair kp{TempPath(name + ".crt"), TempPath(name + ".key")};
  std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
      "-subj /CN=localhost -addext 'subjectAltName=IP:127.0.0.1,DNS:localhost' -keyout '" +
      kp.key + "' -out '" + kp.cert + "' >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("openssl failed: " + cmd);
  return kp;
}

}  // namespace fivetran_gateway::testing
