// End-to-end security: TLS of the gRPC listener (mutual TLS, certificate
// reload), bearer tokens with scopes, the refusal to serve a public address
// unauthenticated, upstream TLS verification with --fivetran_ca_file, and
// per-call Fivetran credentials. Certificates are generated at test time
// with the openssl command-line tool.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/impl/codegen/client_unary_call.h>
#include <gtest/gtest.h>
#include <openssl/sha.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "grpc/health/v1/health.pb.h"
#include "tests/harness.h"

namespace fivetran_gateway::testing {
namespace {

namespace v1 = ::fivetran::gateway::v1;

constexpr char kReadToken[] = "tok-read-7f3a9c1e5b2d4f60";
constexpr char kWriteToken[] = "tok-write-0c8e2a4b6d9f1357";
constexpr char kHashedToken[] = "tok-hashed-5e7a1c3b9d2f4680";

std::string Sha256Hex(const std::string& s) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d);
  char out[65];
  for (int i = 0; i < 32; ++i) std::snprintf(out + 2 * i, 3, "%02x", d[i]);
  return std::string(out, 64);
}

std::shared_ptr<grpc::ChannelCredentials> TlsCreds(const std::string& ca_file,
                                                   const KeyPair* client = nullptr) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = ReadFile(ca_file);
  if (client != nullptr) {
    options.pem_cert_chain = ReadFile(client->cert);
    options.pem_private_key = ReadFile(client->key);
  }
  return grpc::SslCredentials(options);
}

grpc::Status ListGroups(const std::shared_ptr<grpc::Channel>& channel,
                        const std::string& token = "", double deadline_s = 5) {
  auto context = ContextWithDeadline(deadline_s);
  if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
  v1::ListGroupsRequest request;
  v1::ListGroupsResponse response;
  return v1::GroupService::NewStub(channel)->ListGroups(context.get(), request, &response);
}

grpc::Status HealthCheck(const std::shared_ptr<grpc::Channel>& channel) {
  grpc::health::v1::HealthCheckResponse response;
  return fivetran_gateway::testing::HealthCheck(channel, &response, "", 5);
}

class SecurityE2ETest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { emulator_ = new Emulator(); }
  static void TearDownTestSuite() { delete emulator_; }
  static Emulator* emulator_;
};
Emulator* SecurityE2ETest::emulator_ = nullptr;

TEST_F(SecurityE2ETest, TlsListenerServesClientsThatTrustItsCertificate) {
  KeyPair server = MakeCert("server");
  KeyPair other = MakeCert("other");
  Gateway gateway(emulator_->base_url(), Emulator::kApiKey, Emulator::kApiSecret,
                  {"--tls_cert=" + server.cert, "--tls_key=" + server.key});

  grpc::Status ok = ListGroups(gateway.NewChannel(TlsCreds(server.cert)));
  EXPECT_TRUE(ok.ok()) << ok.error_message();
  EXPECT_TRUE(HealthCheck(gateway.NewChannel(TlsCreds(server.cert))).ok());

  grpc::Status plaintext =
      ListGroups(gateway.NewChannel(grpc::InsecureChannelCredentials()), "", 3);
  EXPECT_EQ(plaintext.error_code(), grpc::StatusCode::UNAVAILABLE) << plaintext.error_message();

  grpc::Status untrusted = ListGroups(gateway.NewChannel(TlsCreds(other.cert)), "", 3);
  EXPECT_EQ(untrusted.error_code(), grpc::StatusCode::UNAVAILABLE) << untrusted.error_message();
}

TEST_F(SecurityE2ETest, MutualTlsRequiresAClientCertificateItsCaSigned) {
  KeyPair server = MakeCert("server");
  KeyPair client = MakeCert("client");
  KeyPair stranger = MakeCert("stranger");
  Gateway gateway(
      emulator_->base_url(), Emulator::kApiKey, Emulator::kApiSecret,
      {"--tls_cert=" + server.cert, "--tls_key=" + server.key, "--tls_client_ca=" + client.cert});

  grpc::Status without = ListGroups(gateway.NewChannel(TlsCreds(server.cert)), "", 3);
  EXPECT_EQ(without.error_code(), grpc::StatusCode::UNAVAILABLE) << without.error_message();

  grpc::Status wrong = ListGroups(gateway.NewChannel(TlsCreds(server.cert, &stranger)), "", 3);
  EXPECT_EQ(wrong.error_code(), grpc::StatusCode::UNAVAILABLE) << wrong.error_message();

  grpc::Status with = ListGroups(gateway.NewChannel(TlsCreds(server.cert, &client)));
  EXPECT_TRUE(with.ok()) << with.error_message();
}

TEST_F(SecurityE2ETest, ReplacedCertificateFilesAreServedAfterTheReloadInterval) {
  KeyPair first = MakeCert("first");
  KeyPair second = MakeCert("second");
  // The gateway watches its own copies, which are then replaced.
  std::string cert = WriteTemp("live.crt", ReadFile(first.cert));
  std::string key = WriteTemp("live.key", ReadFile(first.key));
  Gateway gateway(emulator_->base_url(), Emulator::kApiKey, Emulator::kApiSecret,
                  {"--tls_cert=" + cert, "--tls_key=" + key, "--tls_reload_interval=1s"});
  ASSERT_TRUE(ListGroups(gateway.NewChannel(TlsCreds(first.cert))).ok());

  // Atomic replacement, key first: a half-written file is never read.
  std::string key_tmp = WriteTemp("live.key.new", ReadFile(second.key));
  std::string cert_tmp = WriteTemp("live.crt.new", ReadFile(second.cert));
  ASSERT_EQ(std::rename(key_tmp.c_str(), key.c_str()), 0);
  ASSERT_EQ(std::rename(cert_tmp.c_str(), cert.c_str()), 0);

  bool switched = false;
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!switched && std::chrono::steady_clock::now() < end) {
    switched = ListGroups(gateway.NewChannel(TlsCreds(second.cert)), "", 2).ok();
    if (!switched) std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  EXPECT_TRUE(switched) << "new connections never presented the new certificate";
  grpc::Status old = ListGroups(gateway.NewChannel(TlsCreds(first.cert)), "", 3);
  EXPECT_EQ(old.error_code(), grpc::StatusCode::UNAVAILABLE) << old.error_message();
}

class TokenTest : public SecurityE2ETest {
 protected:
  void SetUp() override {
    tokens_file_ =
        WriteTemp("tokens", std::string("# scope token\nread ") + kReadToken + "\nwrite " +
                                kWriteToken + "\n\nread sha256:" + Sha256Hex(kHashedToken) + "\n");
    gateway_ =
        std::make_unique<Gateway>(emulator_->base_url(), Emulator::kApiKey, Emulator::kApiSecret,
                                  std::vector<std::string>{"--auth_tokens_file=" + tokens_file_});
  }
  void TearDown() override {
    std::string log = gateway_->log();
    for (const char* token : {kReadToken, kWriteToken, kHashedToken}) {
      EXPECT_EQ(log.find(token), std::string::npos) << "a token is in the log";
    }
    EXPECT_EQ(log.find(Sha256Hex(kHashedToken)), std::string::npos);
  }

  grpc::Status Sync(const std::string& token) {
    auto context = ContextWithDeadline(10);
    if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
    v1::SyncConnectionRequest request;
    request.set_connection_id("decent_dropsy");
    v1::SyncConnectionResponse response;
    return gateway_->connections()->SyncConnection(context.get(), request, &response);
  }

  grpc::Status Create(const std::string& token) {
    auto context = ContextWithDeadline(10);
    if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
    v1::CreateConnectionRequest request;
    request.set_group_id("quiet_harbor");
    request.set_service("postgres");
    auto& fields = *request.mutable_config()->mutable_fields();
    fields["schema"].set_string_value("pg_security_e2e");
    fields["host"].set_string_value("db.example.test");
    fields["port"].set_number_value(5432);
    v1::CreateConnectionResponse response;
    return gateway_->connections()->CreateConnection(context.get(), request, &response);
  }

  std::string tokens_file_;
  std::unique_ptr<Gateway> gateway_;
};

TEST_F(TokenTest, MissingOrWrongTokenIsUnauthenticatedAndNeverReachesFivetran) {
  emulator_->ClearRequests();
  for (const std::string& token :
       {std::string(), std::string("tok-not-listed-000000000"), std::string(kReadToken) + "x"}) {
    grpc::Status s = ListGroups(gateway_->channel(), token);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << token;
    ErrorDetails d = DetailsOf(s);
    EXPECT_EQ(d.error_info_count, 1);
    EXPECT_EQ(d.error_info.reason(), "UNAUTHENTICATED");
    EXPECT_EQ(d.error_info.domain(), "fivetran-gateway");
  }
  // Not a bearer credential.
  auto context = ContextWithDeadline(5);
  context->AddMetadata("authorization", std::string("Basic ") + kWriteToken);
  v1::ListGroupsRequest request;
  v1::ListGroupsResponse response;
  EXPECT_EQ(gateway_->groups()->ListGroups(context.get(), request, &response).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  // The streaming RPC is guarded too.
  auto watch_context = ContextWithDeadline(5);
  v1::WatchConnectionSyncRequest watch;
  watch.set_connection_id("decent_dropsy");
  auto reader = gateway_->connections()->WatchConnectionSync(watch_context.get(), watch);
  v1::WatchConnectionSyncResponse item;
  EXPECT_FALSE(reader->Read(&item));
  grpc::Status ws = reader->Finish();
  EXPECT_EQ(ws.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(DetailsOf(ws).error_info.reason(), "UNAUTHENTICATED");

  Sync("");
  Create("tok-not-listed-000000000");
  EXPECT_TRUE(emulator_->Requests().empty()) << "an unauthenticated call reached Fivetran";
}

TEST_F(TokenTest, ScopesDecideWhatATokenMayDo) {
  EXPECT_TRUE(ListGroups(gateway_->channel(), kReadToken).ok());
  EXPECT_TRUE(ListGroups(gateway_->channel(), kWriteToken).ok());
  grpc::Status hashed = ListGroups(gateway_->channel(), kHashedToken);
  EXPECT_TRUE(hashed.ok()) << hashed.error_message();

  emulator_->ClearRequests();
  for (const char* read_only : {kReadToken, kHashedToken}) {
    grpc::Status create = Create(read_only);
    EXPECT_EQ(create.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    ErrorDetails d = DetailsOf(create);
    EXPECT_EQ(d.error_info_count, 1);
    EXPECT_EQ(d.error_info.reason(), "PERMISSION_DENIED");
    EXPECT_EQ(d.error_info.metadata().at("required_scope"), "write");
    EXPECT_EQ(Sync(read_only).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  }
  EXPECT_TRUE(emulator_->Requests().empty()) << "a denied call reached Fivetran";

  grpc::Status create = Create(kWriteToken);
  EXPECT_TRUE(create.ok()) << create.error_message();
  grpc::Status sync = Sync(kWriteToken);
  EXPECT_TRUE(sync.ok()) << sync.error_message();
}

// Issue 11 #6: WatchConnectionSync is a read, but with `trigger` it sends
// POST /v1/connections/{id}/sync like SyncConnection: a read token must not
// get a sync that way (nor ask for `force`).
TEST_F(TokenTest, AWatchThatTriggersNeedsTheWriteScope) {
  auto watch = [&](const std::string& token, bool trigger, bool force) {
    auto context = ContextWithDeadline(10);
    context->AddMetadata("authorization", "Bearer " + token);
    v1::WatchConnectionSyncRequest request;
    request.set_connection_id("decent_dropsy");
    request.set_trigger(trigger);
    request.set_force(force);
    request.mutable_poll_interval()->set_seconds(1);  // A triggering watch reports after a poll.
    auto reader = gateway_->connections()->WatchConnectionSync(context.get(), request);
    v1::WatchConnectionSyncResponse item;
    bool got = reader->Read(&item);
    if (got) context->TryCancel();  // One update is enough: the watch was admitted.
    while (reader->Read(&item)) {
    }
    grpc::Status status = reader->Finish();
    return got ? grpc::Status::OK : status;
  };
  emulator_->ClearRequests();
  for (const char* read_only : {kReadToken, kHashedToken}) {
    for (auto [trigger, force] : {std::pair{true, false}, {true, true}, {false, true}}) {
      SCOPED_TRACE(std::string(trigger ? "trigger " : "") + (force ? "force" : ""));
      grpc::Status s = watch(read_only, trigger, force);
      EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
      ErrorDetails d = DetailsOf(s);
      EXPECT_EQ(d.error_info.reason(), "PERMISSION_DENIED");
      EXPECT_EQ(d.error_info.metadata().at("required_scope"), "write");
    }
  }
  for (const nlohmann::json& r : emulator_->Requests()) ADD_FAILURE() << "sent: " << r.dump();

  // A plain watch is a read; the write token may trigger.
  grpc::Status plain = watch(kReadToken, false, false);
  EXPECT_TRUE(plain.ok()) << plain.error_message();
  emulator_->ClearRequests();
  grpc::Status triggered = watch(kWriteToken, true, false);
  EXPECT_TRUE(triggered.ok()) << triggered.error_message();
  bool posted = false;
  for (const nlohmann::json& r : emulator_->Requests()) {
    posted = posted || (r.value("method", "") == "POST" &&
                        r.value("path", "") == "/v1/connections/decent_dropsy/sync");
  }
  EXPECT_TRUE(posted) << "the write token's watch did not trigger";
}

TEST_F(TokenTest, HealthAndReflectionNeedNoToken) {
  grpc::Status health = HealthCheck(gateway_->channel());
  EXPECT_TRUE(health.ok()) << health.error_message();
  std::string services;
  grpc::Status reflection = ReflectionListServices(gateway_->channel(), &services);
  EXPECT_TRUE(reflection.ok()) << reflection.error_message();
  EXPECT_NE(services.find("fivetran.gateway.v1.ConnectionService"), std::string::npos);
}

// Starts the gateway binary directly; returns its exit code within `wait_s`
// (-1: still running, then it is stopped) and its output.
int RunGateway(const std::vector<std::string>& flags, double wait_s, std::string* output,
               int* port = nullptr) {
  std::string credentials =
      WriteTemp("credentials.env", "FIVETRAN_API_KEY=k\nFIVETRAN_API_SECRET=s\n");
  std::string port_file = TempPath("gateway.port");
  std::string log = TempPath("gateway.log");
  // An OS-chosen port unless `flags` name one (the last --listen counts):
  // the default, 127.0.0.1:50051, may be taken on the machine.
  std::vector<std::string> argv = {Runfile("server/fivetran_gateway"), "--port_file=" + port_file,
                                   "--fivetran_base_url=http://127.0.0.1:1",
                                   "--credentials_file=" + credentials, "--listen=127.0.0.1:0"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  Process process(argv, {}, log);
  int code = process.WaitExit(wait_s);
  if (code == -1 && port != nullptr) *port = WaitForPortFile(port_file, 10);
  *output = ReadFile(log);
  return code;
}

// Two gateways must not share a port: gRPC's default SO_REUSEPORT would let
// the second start and split new connections between them (each with its
// own tokens and credentials) without a word.
TEST_F(SecurityE2ETest, ASecondGatewayOnABoundPortFailsToStart) {
  Gateway first(emulator_->base_url(), Emulator::kApiKey, Emulator::kApiSecret);
  std::string output;
  EXPECT_EQ(RunGateway({"--listen=127.0.0.1:" + std::to_string(first.port())}, 10, &output), 1)
      << output;
  EXPECT_NE(output.find("cannot listen on 127.0.0.1:" + std::to_string(first.port())),
            std::string::npos)
      << output;
}

TEST_F(SecurityE2ETest, PublicAddressWithoutTokensIsRefused) {
  std::string output;
  EXPECT_EQ(RunGateway({"--listen=0.0.0.0:0"}, 10, &output), 2);
  EXPECT_NE(output.find("refusing to serve 0.0.0.0:0 without caller authentication"),
            std::string::npos)
      << output;
  EXPECT_NE(output.find("--auth_tokens_file"), std::string::npos) << output;

  int port = 0;
  EXPECT_EQ(RunGateway({"--listen=0.0.0.0:0", "--allow_unauthenticated"}, 1, &output, &port), -1)
      << output;
  EXPECT_GT(port, 0) << output;

  std::string tokens = WriteTemp("tokens", std::string("read ") + kReadToken + "\n");
  port = 0;
  EXPECT_EQ(RunGateway({"--listen=0.0.0.0:0", "--auth_tokens_file=" + tokens}, 1, &output, &port),
            -1)
      << output;
  EXPECT_GT(port, 0) << output;
}

TEST_F(SecurityE2ETest, BadSecurityConfigurationStopsTheStart) {
  std::string output;
  KeyPair a = MakeCert("a");
  KeyPair b = MakeCert("b");
  EXPECT_EQ(RunGateway({"--tls_cert=" + a.cert, "--tls_key=" + b.key}, 10, &output), 2);
  EXPECT_NE(output.find("does not match"), std::string::npos) << output;
  EXPECT_EQ(RunGateway({"--tls_cert=" + a.cert}, 10, &output), 2) << output;
  EXPECT_EQ(RunGateway({"--allow_per_call_credentials"}, 10, &output), 2);
  EXPECT_NE(output.find("needs --tls_cert"), std::string::npos) << output;
  std::string bad_tokens = WriteTemp("tokens", std::string("admin ") + kWriteToken + "\n");
  EXPECT_EQ(RunGateway({"--auth_tokens_file=" + bad_tokens}, 10, &output), 2);
  EXPECT_NE(output.find("line 1"), std::string::npos) << output;
  EXPECT_EQ(output.find(kWriteToken), std::string::npos) << output;
  EXPECT_EQ(RunGateway({"--fivetran_ca_file=" + bad_tokens}, 10, &output), 2);
}

// Issue 11 #9: `write SHA256:<hex>` used to load as a literal token: the
// real token was refused and the digest text accepted.
TEST_F(SecurityE2ETest, ADigestLookalikeInTheTokensFileStopsTheStart) {
  const std::string hex = Sha256Hex(kWriteToken);
  std::string output;
  std::string tokens =
      WriteTemp("tokens", std::string("read ") + kReadToken + "\nwrite SHA256:" + hex + "\n");
  EXPECT_EQ(RunGateway({"--auth_tokens_file=" + tokens}, 10, &output), 2) << output;
  EXPECT_NE(output.find("line 2"), std::string::npos) << output;
  EXPECT_EQ(output.find(hex.substr(0, 16)), std::string::npos) << output;
  EXPECT_EQ(output.find(kReadToken), std::string::npos) << output;

  // A byte order mark before the first line is skipped.
  tokens = WriteTemp("tokens", std::string("\xef\xbb\xbfread ") + kReadToken + "\r\n");
  int port = 0;
  EXPECT_EQ(RunGateway({"--auth_tokens_file=" + tokens}, 1, &output, &port), -1) << output;
  EXPECT_GT(port, 0) << output;
}

// Issue 11 #18: a listen address without a port used to bind 443 silently;
// a unix socket was logged as port 1.
TEST_F(SecurityE2ETest, ListenAddressesAreCheckedAndLoggedAsGiven) {
  std::string output;
  EXPECT_EQ(RunGateway({"--listen=127.0.0.1"}, 10, &output), 2) << output;
  EXPECT_NE(output.find("--listen=127.0.0.1: no port"), std::string::npos) << output;

  // Short: a unix socket path is at most 107 bytes.
  const std::string socket = "/tmp/fgw-e2e-" + std::to_string(getpid()) + ".sock";
  std::remove(socket.c_str());
  int port = 0;
  EXPECT_EQ(RunGateway({"--listen=unix:" + socket}, 1, &output, &port), -1) << output;
  EXPECT_NE(output.find("listening on unix:" + socket + ","), std::string::npos) << output;
  EXPECT_EQ(output.find(":1,"), std::string::npos) << output;
}

// Issue 11 #14: untokened grpc.health.v1.Health/Watch streams (never
// guarded) grew the gateway's memory without bound. Streams beyond
// --max_streams_per_connection on one connection wait at the client; they
// are not served (nor held in the gateway's memory) until a slot frees up.
TEST_F(SecurityE2ETest, StreamsBeyondThePerConnectionBoundWaitInsteadOfGrowingTheGateway) {
  constexpr int kBound = 4;
  constexpr int kStreams = 12;
  std::string tokens = WriteTemp("tokens", std::string("read ") + kReadToken + "\n");
  Gateway gateway(
      emulator_->base_url(), Emulator::kApiKey, Emulator::kApiSecret,
      {"--auth_tokens_file=" + tokens, "--max_streams_per_connection=" + std::to_string(kBound)});
  auto channel = gateway.NewChannel(grpc::InsecureChannelCredentials());
  const grpc::internal::RpcMethod watch("/grpc.health.v1.Health/Watch",
                                        grpc::internal::RpcMethod::SERVER_STREAMING);
  struct Stream {
    std::unique_ptr<grpc::ClientContext> context;
    std::unique_ptr<grpc::ClientReader<grpc::health::v1::HealthCheckResponse>> reader;
    std::atomic<bool> served{false};
  };
  std::vector<Stream> streams(kStreams);
  grpc::health::v1::HealthCheckRequest request;
  // Each served stream answers SERVING at once. A stream beyond the bound
  // blocks in its creation (its request cannot be sent) until cancelled.
  std::vector<std::thread> readers;
  for (Stream& s : streams) {
    s.context = ContextWithDeadline(30);
    readers.emplace_back([&s, &channel, &watch, &request] {
      s.reader.reset(
          grpc::internal::ClientReaderFactory<grpc::health::v1::HealthCheckResponse>::Create(
              channel.get(), watch, s.context.get(), request));
      grpc::health::v1::HealthCheckResponse response;
      s.served = s.reader->Read(&response);
    });
  }
  // Nothing signals "still queued": wait, count the streams served by then,
  // then cancel all so that every thread returns. (Counted before the
  // cancels: a cancelled served stream frees its slot for a queued one.)
  std::this_thread::sleep_for(std::chrono::seconds(2));
  int served = 0;
  for (Stream& s : streams) served += s.served.load();
  EXPECT_EQ(served, kBound);
  for (Stream& s : streams) s.context->TryCancel();
  for (std::thread& t : readers) t.join();

  // The served streams' slots free up when they end: a new stream is served.
  for (Stream& s : streams) s.reader->Finish();
  auto context = ContextWithDeadline(10);
  std::unique_ptr<grpc::ClientReader<grpc::health::v1::HealthCheckResponse>> again(
      grpc::internal::ClientReaderFactory<grpc::health::v1::HealthCheckResponse>::Create(
          channel.get(), watch, context.get(), request));
  grpc::health::v1::HealthCheckResponse response;
  EXPECT_TRUE(again->Read(&response));
  context->TryCancel();
  again->Finish();
  EXPECT_TRUE(HealthCheck(channel).ok());
}

// A server reflection stream kept open after its first answer (as a
// grpcurl session would), over the generic (bytes) API.
class ReflectionStream {
 public:
  explicit ReflectionStream(const std::shared_ptr<grpc::Channel>& channel)
      : stub_(channel), context_(ContextWithDeadline(20)) {
    call_ = stub_.PrepareCall(
        context_.get(), "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq_);
    call_->StartCall(Tag(1));
    if (!Next(1)) return;
    // ServerReflectionRequest{list_services: ""}: field 7, length-delimited.
    grpc::Slice slice(std::string("\x3a\x00", 2));
    grpc::ByteBuffer out(&slice, 1);
    call_->Write(out, Tag(2));
    if (!Next(2)) return;
    grpc::ByteBuffer in;
    call_->Read(&in, Tag(3));
    served_ = Next(3);
  }
  ~ReflectionStream() {
    context_->TryCancel();
    Finish();
    cq_.Shutdown();
    void* tag;
    bool ok;
    while (cq_.Next(&tag, &ok)) {
    }
  }
  // Whether the first request was answered.
  bool served() const { return served_; }
  // Ends the stream; its status.
  grpc::Status Finish() {
    if (finished_) return status_;
    finished_ = true;
    call_->Finish(&status_, Tag(9));
    void* tag;
    bool ok;
    while (cq_.Next(&tag, &ok) && tag != Tag(9)) {
    }
    return status_;
  }

 private:
  static void* Tag(intptr_t n) { return reinterpret_cast<void*>(n); }
  bool Next(intptr_t want) {
    void* tag = nullptr;
    bool ok = false;
    return cq_.Next(&tag, &ok) && tag == Tag(want) && ok;
  }
  grpc::GenericStub stub_;
  grpc::CompletionQueue cq_;
  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call_;
  grpc::Status status_;
  bool served_ = false;
  bool finished_ = false;
};

// Issue 11 #14, the rest of the kind: streams that need no token are bounded
// at the gateway, not only per connection. Reflection holds a thread per
// open stream (--max_reflection_streams); health Watch streams are bounded
// per client address and in all (--max_health_watches[_per_peer]). Over a
// bound the caller gets RESOURCE_EXHAUSTED at once, and an ended stream
// frees its place.
TEST_F(SecurityE2ETest, UntokenedStreamsAreBoundedAtTheGateway) {
  std::string tokens = WriteTemp("tokens", std::string("read ") + kReadToken + "\n");
  Gateway gateway(emulator_->base_url(), Emulator::kApiKey, Emulator::kApiSecret,
                  {"--auth_tokens_file=" + tokens, "--max_reflection_streams=3",
                   "--max_health_watches_per_peer=2", "--max_health_watches=10"});
  auto channel = gateway.NewChannel(grpc::InsecureChannelCredentials());

  std::vector<std::unique_ptr<ReflectionStream>> open;
  for (int i = 0; i < 3; ++i) {
    open.push_back(std::make_unique<ReflectionStream>(channel));
    EXPECT_TRUE(open.back()->served()) << "reflection stream " << i;
  }
  ReflectionStream over(channel);
  EXPECT_FALSE(over.served());
  EXPECT_EQ(over.Finish().error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  open.erase(open.begin());  // Cancels and ends that stream.
  bool served_again = false;
  for (int attempt = 0; attempt < 50 && !served_again; ++attempt) {
    served_again = ReflectionStream(channel).served();
    if (!served_again) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(served_again) << "an ended reflection stream did not free its thread";

  const grpc::internal::RpcMethod watch("/grpc.health.v1.Health/Watch",
                                        grpc::internal::RpcMethod::SERVER_STREAMING);
  grpc::health::v1::HealthCheckRequest request;
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReader<grpc::health::v1::HealthCheckResponse>>> readers;
  for (int i = 0; i < 3; ++i) {
    contexts.push_back(ContextWithDeadline(20));
    readers.emplace_back(
        grpc::internal::ClientReaderFactory<grpc::health::v1::HealthCheckResponse>::Create(
            channel.get(), watch, contexts.back().get(), request));
    grpc::health::v1::HealthCheckResponse response;
    const bool served = readers.back()->Read(&response);
    EXPECT_EQ(served, i < 2) << "health Watch stream " << i;
    if (served) {
      EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
    }
  }
  grpc::Status refused = readers.back()->Finish();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(refused.error_message().find("--max_health_watches_per_peer"), std::string::npos)
      << refused.error_message();
  EXPECT_TRUE(HealthCheck(channel).ok());  // Check is never bounded.
  for (size_t i = 0; i < 2; ++i) {
    contexts[i]->TryCancel();
    readers[i]->Finish();
  }
}

TEST_F(SecurityE2ETest, UpstreamTlsIsVerifiedAgainstSystemCasPlusTheGivenOne) {
  KeyPair upstream = MakeCert("upstream");
  KeyPair other = MakeCert("other");
  Emulator https({"--tls_cert=" + upstream.cert, "--tls_key=" + upstream.key});
  std::string url = "https://127.0.0.1:" + std::to_string(https.port());

  Gateway trusting(url, Emulator::kApiKey, Emulator::kApiSecret,
                   {"--fivetran_ca_file=" + upstream.cert});
  grpc::Status ok = ListGroups(trusting.channel());
  EXPECT_TRUE(ok.ok()) << ok.error_message();

  for (const std::vector<std::string>& flags :
       {std::vector<std::string>{}, std::vector<std::string>{"--fivetran_ca_file=" + other.cert}}) {
    Gateway gateway(url, Emulator::kApiKey, Emulator::kApiSecret, flags);
    grpc::Status s = ListGroups(gateway.channel());
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
    EXPECT_NE(s.error_message().find("TLS verification"), std::string::npos) << s.error_message();
    EXPECT_EQ(DetailsOf(s).error_info.reason(), "FIVETRAN_UNAVAILABLE");
  }
}

TEST_F(SecurityE2ETest, PerCallCredentialsOnlyWhenEnabledAndOverTls) {
  KeyPair server = MakeCert("server");
  auto with_credentials = [](const std::string& key, const std::string& secret) {
    auto context = ContextWithDeadline(5);
    context->AddMetadata("x-fivetran-api-key", key);
    context->AddMetadata("x-fivetran-api-secret", secret);
    return context;
  };
  v1::ListGroupsRequest request;
  v1::ListGroupsResponse response;

  // Disabled (the default): refused, even over TLS.
  {
    Gateway gateway(emulator_->base_url(), Emulator::kApiKey, Emulator::kApiSecret,
                    {"--tls_cert=" + server.cert, "--tls_key=" + server.key});
    auto stub = v1::GroupService::NewStub(gateway.NewChannel(TlsCreds(server.cert)));
    grpc::Status s = stub->ListGroups(
        with_credentials(Emulator::kApiKey, Emulator::kApiSecret).get(), request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  }

  // Enabled: the gateway's own credentials are wrong, the caller's are used.
  Gateway gateway(
      emulator_->base_url(), "gateway-key-wrong", "gateway-secret-wrong",
      {"--tls_cert=" + server.cert, "--tls_key=" + server.key, "--allow_per_call_credentials"});
  auto stub = v1::GroupService::NewStub(gateway.NewChannel(TlsCreds(server.cert)));
  EXPECT_EQ(stub->ListGroups(ContextWithDeadline(5).get(), request, &response).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  grpc::Status own = stub->ListGroups(
      with_credentials(Emulator::kApiKey, Emulator::kApiSecret).get(), request, &response);
  EXPECT_TRUE(own.ok()) << own.error_message();
  EXPECT_GT(response.groups_size(), 0);
  grpc::Status refused = stub->ListGroups(
      with_credentials("caller-key-wrong", "caller-secret-wrong").get(), request, &response);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(DetailsOf(refused).error_info.reason(), "FIVETRAN_AUTH_FAILED");

  std::string log = gateway.log();
  for (const char* secret : {Emulator::kApiKey, Emulator::kApiSecret, "caller-key-wrong",
                             "caller-secret-wrong", "gateway-secret-wrong"}) {
    EXPECT_EQ(log.find(secret), std::string::npos) << secret << " is in the log";
  }
}

// Issue 11 #12: a read-token holder could fill the 64 per-call credential
// slots with key pairs Fivetran rejects; every new per-call user then got
// FAILED_PRECONDITION until a restart. A set is kept only once Fivetran
// accepted its key, and an unused one is dropped after
// --per_call_credentials_idle.
TEST_F(SecurityE2ETest, RejectedPerCallCredentialsDoNotLockOthersOut) {
  KeyPair server = MakeCert("server");
  std::string tokens = WriteTemp("tokens", std::string("read ") + kReadToken + "\n");
  Gateway gateway(
      emulator_->base_url(), Emulator::kApiKey, Emulator::kApiSecret,
      {"--tls_cert=" + server.cert, "--tls_key=" + server.key, "--allow_per_call_credentials",
       "--auth_tokens_file=" + tokens, "--per_call_credentials_idle=1s"});
  auto stub = v1::GroupService::NewStub(gateway.NewChannel(TlsCreds(server.cert)));
  auto list = [&](const std::string& key, const std::string& secret) {
    auto context = ContextWithDeadline(5);
    context->AddMetadata("authorization", std::string("Bearer ") + kReadToken);
    context->AddMetadata("x-fivetran-api-key", key);
    context->AddMetadata("x-fivetran-api-secret", secret);
    v1::ListGroupsRequest request;
    v1::ListGroupsResponse response;
    return stub->ListGroups(context.get(), request, &response);
  };
  for (int i = 0; i < 70; ++i) {
    grpc::Status s = list("junk-key-" + std::to_string(i), "junk-secret");
    ASSERT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << i << ": " << s.error_message();
    ASSERT_EQ(DetailsOf(s).error_info.reason(), "FIVETRAN_AUTH_FAILED") << i;
  }
  grpc::Status own = list(Emulator::kApiKey, Emulator::kApiSecret);
  EXPECT_TRUE(own.ok()) << own.error_message();

  // An accepted set unused for longer than the idle time is dropped the
  // next time per-call credentials are admitted.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(list("junk-key-last", "junk-secret").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  std::string log = gateway.log();
  EXPECT_NE(log.find("dropped 1 idle per-call Fivetran credential set"), std::string::npos) << log;
  EXPECT_TRUE(list(Emulator::kApiKey, Emulator::kApiSecret).ok());
  for (const char* secret : {Emulator::kApiKey, Emulator::kApiSecret, "junk-key-1"}) {
    EXPECT_EQ(gateway.log().find(secret), std::string::npos) << secret << " is in the log";
  }
}

TEST_F(SecurityE2ETest, HalfPerCallCredentialsAreRefusedWithoutFallingBack) {
  KeyPair server = MakeCert("server");
  // The gateway's own credentials are valid: falling back to them would succeed.
  Gateway gateway(
      emulator_->base_url(), Emulator::kApiKey, Emulator::kApiSecret,
      {"--tls_cert=" + server.cert, "--tls_key=" + server.key, "--allow_per_call_credentials"});
  auto stub = v1::GroupService::NewStub(gateway.NewChannel(TlsCreds(server.cert)));
  v1::ListGroupsRequest request;
  v1::ListGroupsResponse response;
  grpc::Status own = stub->ListGroups(ContextWithDeadline(5).get(), request, &response);
  ASSERT_TRUE(own.ok()) << own.error_message();
  ASSERT_GT(response.groups_size(), 0);

  // nullopt = header not sent.
  struct Half {
    const char* what;
    std::optional<std::string> key;
    std::optional<std::string> secret;
  };
  const std::vector<Half> halves = {
      {"key only", Emulator::kApiKey, std::nullopt},
      {"secret only", std::nullopt, Emulator::kApiSecret},
      {"empty secret", Emulator::kApiKey, ""},
      {"empty key", "", Emulator::kApiSecret},
  };
  for (const Half& half : halves) {
    SCOPED_TRACE(half.what);
    emulator_->ClearRequests();
    auto context = ContextWithDeadline(5);
    if (half.key) context->AddMetadata("x-fivetran-api-key", *half.key);
    if (half.secret) context->AddMetadata("x-fivetran-api-secret", *half.secret);
    v1::ListGroupsResponse refused_response;
    grpc::Status s = stub->ListGroups(context.get(), request, &refused_response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
    EXPECT_EQ(s.error_message(),
              "x-fivetran-api-key and x-fivetran-api-secret must be sent together");
    ErrorDetails d = DetailsOf(s);
    EXPECT_EQ(d.error_info_count, 1);
    EXPECT_EQ(d.error_info.reason(), "UNAUTHENTICATED");
    EXPECT_EQ(d.error_info.domain(), "fivetran-gateway");
    EXPECT_EQ(refused_response.groups_size(), 0);
    // Refused before anything was sent to Fivetran, with either credentials.
    for (const nlohmann::json& r : emulator_->Requests()) ADD_FAILURE() << "sent: " << r.dump();
  }

  std::string log = gateway.log();
  for (const char* secret : {Emulator::kApiKey, Emulator::kApiSecret}) {
    EXPECT_EQ(log.find(secret), std::string::npos) << secret << " is in the log";
  }
}

}  // namespace
}  // namespace fivetran_gateway::testing
