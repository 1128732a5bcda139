// fivetran_emulator: a local fake of the Fivetran REST API. See README.md.
#include <signal.h>
#include <stdio.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "emulator/account.h"
#include "emulator/seed.h"
#include "emulator/server.h"
#include "nlohmann/json.hpp"

ABSL_FLAG(std::string, listen, "127.0.0.1:8089", "HOST:PORT to listen on; port 0 = any free port");
ABSL_FLAG(std::string, port_file, "",
          "After binding, write the bound port (decimal) to this file (atomically)");
ABSL_FLAG(std::string, api_key, "demo_api_key", "Accepted API key (HTTP Basic user)");
ABSL_FLAG(std::string, api_secret, "demo_api_secret", "Accepted API secret (HTTP Basic password)");
ABSL_FLAG(absl::Duration, sync_duration, absl::Seconds(3),
          "How long a triggered sync stays in 'syncing' (e.g. 500ms, 2s, 1m)");
ABSL_FLAG(std::string, sync_outcome, "success",
          "Default outcome of a sync: success|failure|reschedule");
ABSL_FLAG(absl::Duration, reschedule_delay, absl::Hours(1),
          "rescheduled_for = end of sync + this, for the reschedule outcome");
ABSL_FLAG(std::string, paused_sync, "accept",
          "Sync of a paused connection: accept (200, nothing happens) | conflict (409)");
ABSL_FLAG(std::string, incomplete_sync, "reject",
          "Sync of a connection with setup_state incomplete: reject (400) | accept");
ABSL_FLAG(std::string, seed_file, "", "Load the account from this JSON file (see --dump_seed)");
ABSL_FLAG(bool, dump_seed, false, "Print the built-in seed as JSON and exit");
ABSL_FLAG(absl::Duration, latency, absl::ZeroDuration(), "Delay added to every /v1 response");
ABSL_FLAG(double, fault_rate_503, 0.0,
          "Probability (0..1) that a /v1 request is answered 503 (deterministic PRNG)");
ABSL_FLAG(double, fault_rate_drop, 0.0,
          "Probability that a /v1 request's connection is closed without an answer");
ABSL_FLAG(uint64_t, fault_seed, 1, "Seed of the PRNG behind --fault_rate_503/_drop");
ABSL_FLAG(int32_t, rate_limit_per_hour, 20000, "Requests allowed per rolling hour");
ABSL_FLAG(int32_t, keep_alive_timeout_sec, 5, "Idle keep-alive connections close after this");
ABSL_FLAG(int32_t, threads, fivetran_emulator::kDefaultThreads,
          "Most connections served at once (one worker thread each, started on demand); "
          "must exceed the keep-alive connections clients hold (the gateway: up to 32)");
ABSL_FLAG(bool, log_requests, false, "Log one line per request to stderr");
ABSL_FLAG(int32_t, request_log_capacity, 1000,
          "Requests kept by the request log (/_emulator/requests), oldest dropped first");
ABSL_FLAG(std::string, tls_cert, "",
          "Serve HTTPS with this PEM certificate chain (with --tls_key); default plain HTTP");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");

namespace {

using fivetran_emulator::Account;
using fivetran_emulator::AccountOptions;
using fivetran_emulator::ServerOptions;

int Fail(absl::string_view message) {
  std::cerr << "fivetran_emulator: " << message << "\n";
  return 2;
}

bool WritePortFile(const std::string& path, int port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return false;
    out << port;
    out.close();
    if (!out) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

void SetUsage() {
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view file) {
    return file.find("emulator/") != absl::string_view::npos;
  };
  usage.contains_helpshort_flags = usage.contains_help_flags;
  absl::SetFlagsUsageConfig(usage);
  absl::SetProgramUsageMessage(
      "A local fake of the Fivetran REST API.\nUsage: fivetran_emulator [--listen=HOST:PORT] "
      "[--port_file=PATH] [--seed_file=PATH] ...");
}

// The built-in seed, or --seed_file's.
absl::StatusOr<nlohmann::json> LoadSeed() {
  const std::string seed_file = absl::GetFlag(FLAGS_seed_file);
  if (seed_file.empty()) return fivetran_emulator::BuiltinSeed();
  std::ifstream in(seed_file);
  if (!in) return absl::InvalidArgumentError("cannot read --seed_file " + seed_file);
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json seed = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (seed.is_discarded()) {
    return absl::InvalidArgumentError("--seed_file " + seed_file + " is not valid JSON");
  }
  return seed;
}

// The sync flags.
absl::StatusOr<AccountOptions> AccountOptionsFromFlags() {
  AccountOptions options;
  options.sync_duration = absl::GetFlag(FLAGS_sync_duration);
  absl::StatusOr<fivetran_emulator::SyncOutcome> outcome =
      fivetran_emulator::ParseSyncOutcome(absl::GetFlag(FLAGS_sync_outcome));
  if (!outcome.ok()) {
    return absl::InvalidArgumentError("--sync_outcome: " + std::string(outcome.status().message()));
  }
  options.default_outcome = *outcome;
  options.reschedule_delay = absl::GetFlag(FLAGS_reschedule_delay);
  const std::string paused = absl::GetFlag(FLAGS_paused_sync);
  if (paused != "accept" && paused != "conflict") {
    return absl::InvalidArgumentError("--paused_sync: accept|conflict");
  }
  options.paused_sync_conflict = paused == "conflict";
  const std::string incomplete = absl::GetFlag(FLAGS_incomplete_sync);
  if (incomplete != "accept" && incomplete != "reject") {
    return absl::InvalidArgumentError("--incomplete_sync: accept|reject");
  }
  options.reject_incomplete_sync = incomplete == "reject";
  if (options.sync_duration < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--sync_duration must not be negative");
  }
  return options;
}

// The HTTP, fault, rate limit, request log and TLS flags.
absl::StatusOr<ServerOptions> ServerOptionsFromFlags() {
  ServerOptions options;
  absl::Status listen = fivetran_emulator::ParseListenAddress(absl::GetFlag(FLAGS_listen),
                                                              &options.host, &options.port);
  if (!listen.ok()) return listen;
  options.api_key = absl::GetFlag(FLAGS_api_key);
  options.api_secret = absl::GetFlag(FLAGS_api_secret);
  options.latency = absl::GetFlag(FLAGS_latency);
  options.fault_rate_503 = absl::GetFlag(FLAGS_fault_rate_503);
  options.fault_rate_drop = absl::GetFlag(FLAGS_fault_rate_drop);
  options.fault_seed = absl::GetFlag(FLAGS_fault_seed);
  options.rate_limit_per_hour = absl::GetFlag(FLAGS_rate_limit_per_hour);
  options.keep_alive_timeout_sec = absl::GetFlag(FLAGS_keep_alive_timeout_sec);
  options.threads = absl::GetFlag(FLAGS_threads);
  options.log_requests = absl::GetFlag(FLAGS_log_requests);
  const int32_t log_capacity = absl::GetFlag(FLAGS_request_log_capacity);
  if (log_capacity < 1 || log_capacity > 1000000) {
    return absl::InvalidArgumentError("--request_log_capacity must be within 1..1000000");
  }
  options.request_log_capacity = static_cast<size_t>(log_capacity);
  options.tls_cert_file = absl::GetFlag(FLAGS_tls_cert);
  options.tls_key_file = absl::GetFlag(FLAGS_tls_key);
  if (options.rate_limit_per_hour < 1) {
    return absl::InvalidArgumentError("--rate_limit_per_hour must be >= 1");
  }
  if (options.fault_rate_drop < 0 || options.fault_rate_503 < 0 ||
      options.fault_rate_503 + options.fault_rate_drop > 1) {
    return absl::InvalidArgumentError(
        "--fault_rate_503 and --fault_rate_drop must be within 0..1 together");
  }
  return options;
}

// Starts the emulator, writes --port_file, prints the start-up line and
// serves until SIGINT or SIGTERM.
int Serve(const ServerOptions& options, std::unique_ptr<Account> account) {
  // SIGINT/SIGTERM are blocked in every thread and collected with sigwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  fivetran_emulator::Emulator emulator(options, std::move(account));
  absl::Status started = emulator.Start();
  if (!started.ok()) return Fail(started.message());

  const std::string port_file = absl::GetFlag(FLAGS_port_file);
  if (!port_file.empty() && !WritePortFile(port_file, emulator.port())) {
    emulator.Stop();
    return Fail("cannot write --port_file " + port_file);
  }
  const std::string shown_host =
      options.host.find(':') != std::string::npos ? "[" + options.host + "]" : options.host;
  std::cout << "fivetran_emulator listening on "
            << (options.tls_cert_file.empty() ? "http://" : "https://") << shown_host << ":"
            << emulator.port() << std::endl;

  int sig = 0;
  sigwait(&stop_signals, &sig);
  std::cerr << "fivetran_emulator: signal " << sig << ", stopping\n";
  emulator.Stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  SetUsage();
  absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_dump_seed)) {
    std::cout << fivetran_emulator::BuiltinSeed().dump(2) << std::endl;
    return 0;
  }
  absl::StatusOr<nlohmann::json> seed = LoadSeed();
  if (!seed.ok()) return Fail(seed.status().message());
  absl::StatusOr<AccountOptions> account_options = AccountOptionsFromFlags();
  if (!account_options.ok()) return Fail(account_options.status().message());
  absl::StatusOr<std::unique_ptr<Account>> account =
      Account::Create(*std::move(seed), *account_options);
  if (!account.ok()) return Fail(account.status().message());
  absl::StatusOr<ServerOptions> options = ServerOptionsFromFlags();
  if (!options.ok()) return Fail(options.status().message());
  return Serve(*options, *std::move(account));
}
