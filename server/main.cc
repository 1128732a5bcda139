// fivetran_gateway: the Fivetran REST API behind one gRPC interface.
//
//   FIVETRAN_API_KEY=... FIVETRAN_API_SECRET=... fivetran_gateway
//       --listen=127.0.0.1:50051 --fivetran_base_url=https://api.fivetran.com
//
// Serves fivetran.gateway.v1.{Connection,Group,User}Service, server
// reflection and grpc.health.v1.Health. SIGINT/SIGTERM: stop accepting,
// drain in-flight calls for --grace_period, exit 0.
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "grpc/health/v1/health.pb.h"
#include "server/credentials.h"
#include "server/fivetran/client.h"
#include "server/fivetran/http_transport.h"
#include "server/services.h"
#include "server/version.h"
#include "spdlog/spdlog.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051", "gRPC listen address HOST:PORT (port 0 = any)");
ABSL_FLAG(std::string, fivetran_base_url, "https://api.fivetran.com",
          "Fivetran REST API base URL (the emulator: http://127.0.0.1:8089)");
ABSL_FLAG(std::string, credentials_file, "",
          "File with FIVETRAN_API_KEY=... and FIVETRAN_API_SECRET=... lines; default: the "
          "environment variables of the same names");
ABSL_FLAG(std::string, fivetran_ca_file, "",
          "PEM bundle of CAs to trust for the Fivetran URL instead of the system's");
ABSL_FLAG(absl::Duration, grace_period, absl::Seconds(10),
          "How long in-flight calls may finish after SIGINT/SIGTERM");
ABSL_FLAG(absl::Duration, max_request_time, absl::Seconds(120),
          "Upper bound of one Fivetran request when the caller's deadline is later or unset");
ABSL_FLAG(absl::Duration, sync_poll_interval, absl::Seconds(10),
          "Default interval of the connection-details polls of WatchConnectionSync");
ABSL_FLAG(absl::Duration, sync_poll_min_interval, absl::Seconds(1),
          "Shortest polling interval a WatchConnectionSync caller may ask for");
ABSL_FLAG(std::string, port_file, "",
          "After binding, write the bound gRPC port to this file (for scripts and tests)");
ABSL_FLAG(std::string, log_level, "info", "debug, info, warn or error");

namespace fivetran_gateway {
namespace {

void WritePortFile(const std::string& path, int port) {
  if (path.empty()) return;
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << port << "\n";
  }
  std::rename(tmp.c_str(), path.c_str());
}

int Run() {
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  const std::string level = absl::GetFlag(FLAGS_log_level);
  if (level != "debug" && level != "info" && level != "warn" && level != "error") {
    std::fprintf(stderr, "fivetran_gateway: --log_level must be debug, info, warn or error\n");
    return 2;
  }
  spdlog::set_level(spdlog::level::from_str(level));

  absl::StatusOr<Credentials> credentials = LoadCredentials(absl::GetFlag(FLAGS_credentials_file));
  if (!credentials.ok()) {
    std::fprintf(stderr, "fivetran_gateway: %s\n",
                 std::string(credentials.status().message()).c_str());
    return 2;
  }
  std::string base_url = absl::GetFlag(FLAGS_fivetran_base_url);
  if (!absl::StartsWith(base_url, "https://") && !absl::StartsWith(base_url, "http://")) {
    std::fprintf(stderr,
                 "fivetran_gateway: --fivetran_base_url must start with https:// or http://\n");
    return 2;
  }
  if (absl::StartsWith(base_url, "http://")) {
    spdlog::warn("--fivetran_base_url is plain HTTP: use it only for a local emulator");
  }

  // Block the shutdown signals in every thread; one thread waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  fivetran::CurlTransportOptions transport_options;
  transport_options.ca_file = absl::GetFlag(FLAGS_fivetran_ca_file);
  fivetran::CurlTransport transport(transport_options);
  fivetran::ClientOptions client_options;
  client_options.base_url = base_url;
  client_options.api_key = credentials->api_key;
  client_options.api_secret = credentials->api_secret;
  client_options.user_agent = absl::StrCat("fivetran-gateway/", kVersion);
  client_options.max_request_time = absl::GetFlag(FLAGS_max_request_time);
  fivetran::FivetranClient client(client_options, &transport);

  TimerQueue timers;
  SyncWatchOptions watch_options;
  watch_options.default_poll_interval = absl::GetFlag(FLAGS_sync_poll_interval);
  watch_options.min_poll_interval = absl::GetFlag(FLAGS_sync_poll_min_interval);
  if (watch_options.default_poll_interval < watch_options.min_poll_interval) {
    watch_options.default_poll_interval = watch_options.min_poll_interval;
  }
  auto pollers = std::make_shared<SyncPollers>(&client, &timers, watch_options);
  ConnectionServiceImpl connections(&client, pollers, &timers);
  GroupServiceImpl groups(&client);
  UserServiceImpl users(&client);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  // Links health.proto's descriptors so reflection can describe the service.
  (void)grpc::health::v1::HealthCheckRequest::descriptor();

  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(absl::GetFlag(FLAGS_listen), grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&connections);
  builder.RegisterService(&groups);
  builder.RegisterService(&users);
  builder.SetMaxReceiveMessageSize(4 << 20);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::fprintf(stderr, "fivetran_gateway: cannot listen on %s\n",
                 absl::GetFlag(FLAGS_listen).c_str());
    return 1;
  }
  std::string listen = absl::GetFlag(FLAGS_listen);
  std::string host = listen.substr(0, listen.rfind(':'));
  spdlog::info("fivetran_gateway {} listening on {}:{}, upstream {}", kVersion, host, port,
               base_url);
  WritePortFile(absl::GetFlag(FLAGS_port_file), port);

  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    absl::Duration grace = absl::GetFlag(FLAGS_grace_period);
    spdlog::info("received {}, draining for up to {}", sig == SIGINT ? "SIGINT" : "SIGTERM",
                 absl::FormatDuration(grace));
    server->GetHealthCheckService()->SetServingStatus(false);
    server->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  });
  server->Wait();
  waiter.join();
  spdlog::info("stopped");
  return 0;
}

}  // namespace
}  // namespace fivetran_gateway

int main(int argc, char** argv) {
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view file) {
    return absl::StrContains(file, "server/");
  };
  usage.contains_helpshort_flags = usage.contains_help_flags;
  absl::SetFlagsUsageConfig(usage);
  absl::SetProgramUsageMessage(
      "gRPC gateway to the Fivetran REST API.\n"
      "Credentials come from FIVETRAN_API_KEY / FIVETRAN_API_SECRET or --credentials_file.");
  absl::ParseCommandLine(argc, argv);
  return fivetran_gateway::Run();
}
