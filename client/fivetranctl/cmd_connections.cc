#include "client/fivetranctl/cmd_connections.h"

#include <google/protobuf/timestamp.pb.h>

#include <cstdint>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/fivetranctl/create_options.h"
#include "client/fivetranctl/errors.h"
#include "client/fivetranctl/flags.h"
#include "client/fivetranctl/ftp_config.h"
#include "client/fivetranctl/input.h"
#include "client/fivetranctl/live_status.h"
#include "client/fivetranctl/output.h"
#include "fivetran/gateway/v1/connection_service.grpc.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "wire/json_value.h"

namespace fivetranctl {
namespace {

namespace wire = ::fivetran_gateway::wire;

// ---------------------------------------------------------------------------------------------
// Help texts.

constexpr char kGetFooter[] = R"(
Examples:
  fivetranctl connections get decent_dropsy
  fivetranctl connectors get decent_dropsy --output json
)";

constexpr char kCreateFooter[] = R"(
Prints the connection and its setup-test results; failed tests are marked "!!".
Exits 0 when the connection is ready (setup_state connected), 8 when it was created but is
not ready.

Examples:
  fivetranctl connections create --group quiet_harbor --service postgres --config pg.json \
      --sync-frequency 60 --schedule-type manual
  echo '{"schema":"s3_logs","bucket":"b"}' | \
      fivetranctl connections create --group quiet_harbor --service s3 --config - --paused
)";

constexpr char kCreateFtpFooter[] = R"(
The password is never a command-line value: --password-file FILE, else the environment
variable FIVETRAN_FTP_PASSWORD, else a prompt without echo (only when stdin is a terminal).
Exits 0 when the connection is ready, 8 when it was created but is not ready.

Examples:
  fivetranctl connections create-ftp --group quiet_harbor --schema ftp_orders --table orders \
      --host ftp.example.com --user loader --password-file ~/.ftp_pw --port 21 --secure \
      --prefix exports/ --pattern 'orders_.*\.csv' --file-type csv --compression gz \
      --on-error skip --append-file-option upsert_file
  FIVETRAN_FTP_PASSWORD=... fivetranctl connections create-ftp --group quiet_harbor \
      --config ftp.json --paused
)";

constexpr char kSyncFooter[] = R"(
Logs one timestamped line to stderr, e.g.
  2026-11-29T14:00:00Z sync triggered connection=decent_dropsy force=false: ...
or, on failure,
  2026-11-29T14:00:00Z sync failed connection=decent_dropsy force=false: UNAVAILABLE: ...
With --wait, progress lines follow and the exit code says how the sync ended:
  0 succeeded, 9 failed, 10 rescheduled, 11 paused, 12 --timeout ran out.
A sync is finished when succeeded_at or failed_at moves past its value before
the trigger (never because "syncing" was seen).

Examples:
  fivetranctl connections sync decent_dropsy
  fivetranctl connections sync decent_dropsy --wait --timeout 2h --poll-interval 30s
  0 */4 * * * fivetranctl connections sync decent_dropsy >>/var/log/fivetranctl.log 2>&1
)";

constexpr char kWatchFooter[] = R"(
Exit codes: 0 succeeded, 9 failed, 10 rescheduled, 11 paused, 12 --timeout ran out
(default 6h).

Example:
  fivetranctl connections watch decent_dropsy --timeout 1h
)";

// ---------------------------------------------------------------------------------------------
// The RPCs.

// "2026-11-29T14:00:00Z": the time stamp of sync and watch log lines.
std::string Stamp(absl::Time t) {
  return absl::FormatTime("%E4Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}
std::string NowStamp() { return Stamp(absl::Now()); }
std::string When(const google::protobuf::Timestamp& t) {
  return Stamp(absl::FromUnixSeconds(t.seconds()));
}

int GetConnection(const Runner& r, const std::string& id) {
  auto stub = v1::ConnectionService::NewStub(r.channel());
  v1::GetConnectionRequest request;
  request.set_connection_id(id);
  v1::GetConnectionResponse response;
  grpc::Status s = stub->GetConnection(r.Context().get(), request, &response);
  if (!s.ok()) return r.Fail(s);
  r.PrintOne(response.connection(),
             [&] { PrintConnectionDetails(std::cout, response.connection()); });
  return kExitOk;
}

// Prints a created connection and its setup tests; exit 0 when ready, else kExitNotReady.
int Created(const Runner& r, const google::protobuf::Message& response, const v1::Connection& c,
            bool ready) {
  r.PrintOne(response, [&] {
    PrintConnectionDetails(std::cout, c);
    if (c.setup_tests().empty()) PrintSetupTests(std::cout, c);
  });
  std::cout.flush();
  int failed = 0;
  std::string first_failure;
  for (const auto& t : c.setup_tests()) {
    if (t.status() == v1::SETUP_TEST_STATUS_FAILED ||
        t.status() == v1::SETUP_TEST_STATUS_JOB_FAILED) {
      if (failed++ == 0) {
        first_failure = t.title();
        if (!t.message().empty()) absl::StrAppend(&first_failure, ": ", t.message());
      }
    }
  }
  if (ready) {
    r.Note(absl::StrCat("fivetranctl: created connection ", c.id(), ", ready (setup_state ",
                        SetupStateText(c), ")"));
    return kExitOk;
  }
  std::string line = absl::StrCat("fivetranctl: created connection ", c.id(),
                                  ", NOT ready: setup_state ", SetupStateText(c), ", ", failed,
                                  " of ", c.setup_tests_size(), " setup tests failed");
  if (!first_failure.empty()) absl::StrAppend(&line, "; first: ", first_failure);
  std::cerr << OneLine(line) << std::endl;
  return kExitNotReady;
}

int CreateConnection(const Runner& r, const v1::CreateConnectionRequest& request) {
  auto stub = v1::ConnectionService::NewStub(r.channel());
  v1::CreateConnectionResponse response;
  grpc::Status s = stub->CreateConnection(r.Context().get(), request, &response);
  if (!s.ok()) return r.Fail(s);
  return Created(r, response, response.connection(), response.ready());
}

int CreateFtpConnection(const Runner& r, const v1::CreateFtpConnectionRequest& request) {
  auto stub = v1::ConnectionService::NewStub(r.channel());
  v1::CreateFtpConnectionResponse response;
  grpc::Status s = stub->CreateFtpConnection(r.Context().get(), request, &response);
  if (!s.ok()) return r.Fail(s);
  return Created(r, response, response.connection(), response.ready());
}

// What the caller should know about a trigger: a sync already running
// (field report N2) or a broken connection being recovered (N1).
void NoteTriggerContext(const Runner& r, const std::string& stamp, const std::string& what,
                        bool already_syncing, v1::SetupState setup_state_at_trigger) {
  if (already_syncing) {
    r.Note(absl::StrCat(stamp, " note ", what,
                        ": a sync was already running, so Fivetran started none; its end is "
                        "that of the running sync (--force restarts it with the latest data)"));
  }
  if (setup_state_at_trigger == v1::SETUP_STATE_BROKEN) {
    r.Note(absl::StrCat(stamp, " note ", what,
                        ": the connection was broken; this sync is a recovery attempt"));
  }
}

int SyncConnection(const Runner& r, const std::string& id, bool force) {
  auto stub = v1::ConnectionService::NewStub(r.channel());
  v1::SyncConnectionRequest request;
  request.set_connection_id(id);
  request.set_force(force);
  v1::SyncConnectionResponse response;
  const absl::Time now = absl::Now();
  grpc::Status s = stub->SyncConnection(r.Context().get(), request, &response);
  const std::string what = absl::StrCat("connection=", id, " force=", force ? "true" : "false");
  const std::string stamp = Stamp(now);
  if (!s.ok()) {
    // One timestamped line for cron logs, like the success line.
    std::cerr << stamp << " sync failed " << what << ": " << r.Describe(s) << std::endl;
    return r.ExitCode(s);
  }
  const OutputFormat format = r.globals().format;
  if (format != OutputFormat::kTable) {
    std::cout << ToJson(response, format == OutputFormat::kJson) << std::endl;
  }
  std::string line = absl::StrCat(stamp, " sync triggered ", what);
  if (!response.message().empty()) absl::StrAppend(&line, ": ", OneLine(response.message()));
  r.Note(line);
  NoteTriggerContext(r, stamp, what, response.already_syncing(), response.setup_state_at_trigger());
  return kExitOk;
}

// Whether a FAILED_PRECONDITION carries ErrorInfo metadata precondition=paused.
bool IsPausedPrecondition(const grpc::Status& s) {
  google::rpc::Status details;
  google::rpc::ErrorInfo info;
  if (details.ParseFromString(s.error_details())) {
    for (const auto& any : details.details()) {
      if (any.UnpackTo(&info) && info.metadata().count("precondition") &&
          info.metadata().at("precondition") == "paused") {
        return true;
      }
    }
  }
  return false;
}

// The last line and exit code of a watch: its outcome, else why the stream ended without one.
int WatchEnded(const Runner& r, const std::string& what, v1::SyncOutcome outcome,
               bool trigger_required, const v1::SyncObservation& o, const grpc::Status& s) {
  switch (outcome) {
    case v1::SYNC_OUTCOME_SUCCEEDED:
      r.Note(absl::StrCat(NowStamp(), " sync succeeded ", what,
                          " succeeded_at=", When(o.succeeded_at())));
      return kExitOk;
    case v1::SYNC_OUTCOME_FAILED:
      std::cerr << NowStamp() << " sync failed " << what << " failed_at=" << When(o.failed_at())
                << std::endl;
      return kExitSyncFailed;
    case v1::SYNC_OUTCOME_RESCHEDULED:
      std::cerr << NowStamp() << " sync rescheduled " << what
                << (o.has_rescheduled_for() ? " rescheduled_for=" + When(o.rescheduled_for()) : "")
                << (trigger_required ? " (manual schedule: trigger again after that time)" : "")
                << std::endl;
      return kExitRescheduled;
    case v1::SYNC_OUTCOME_PAUSED:
      std::cerr << NowStamp() << " sync not running " << what << ": the connection is paused"
                << std::endl;
      return kExitPaused;
    default:
      break;
  }
  if (s.ok()) {
    std::cerr << NowStamp() << " watch ended without an outcome " << what << std::endl;
    return kExitOther;
  }
  std::cerr << NowStamp() << " sync wait failed " << what << ": " << r.Describe(s) << std::endl;
  if (s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) return kExitWaitTimeout;
  if (s.error_code() == grpc::StatusCode::FAILED_PRECONDITION && IsPausedPrecondition(s)) {
    return kExitPaused;
  }
  return r.ExitCode(s);
}

// WatchConnectionSync: progress lines on stderr, messages on stdout with
// --output json/jsonl, exit code from the outcome.
int WatchConnectionSync(const Runner& r, const std::string& id, bool trigger, bool force,
                        absl::Duration poll_interval) {
  auto stub = v1::ConnectionService::NewStub(r.channel());
  v1::WatchConnectionSyncRequest request;
  request.set_connection_id(id);
  request.set_trigger(trigger);
  request.set_force(force);
  if (poll_interval > absl::ZeroDuration()) {
    int64_t ns = absl::ToInt64Nanoseconds(poll_interval);
    request.mutable_poll_interval()->set_seconds(ns / 1000000000);
    request.mutable_poll_interval()->set_nanos(static_cast<int32_t>(ns % 1000000000));
  }
  auto context = r.Context();
  auto reader = stub->WatchConnectionSync(context.get(), request);
  const std::string what = absl::StrCat("connection=", id);
  const OutputFormat format = r.globals().format;
  v1::WatchConnectionSyncResponse message;
  v1::SyncOutcome outcome = v1::SYNC_OUTCOME_UNSPECIFIED;
  bool trigger_required = false;
  bool announced = false;
  // On a terminal: one status line redrawn in place; elsewhere (and with --output jsonl, whose
  // lines go to the same terminal) one line per update.
  LiveStatus live(!r.globals().quiet && format != OutputFormat::kJsonl, what);
  while (reader->Read(&message)) {
    if (format == OutputFormat::kJsonl ||
        (format == OutputFormat::kJson && message.outcome() != v1::SYNC_OUTCOME_UNSPECIFIED)) {
      std::cout << ToJson(message, format == OutputFormat::kJson) << std::endl;
    }
    if (trigger && !announced && message.has_triggered_at()) {
      announced = true;
      const std::string stamp = When(message.triggered_at());
      const std::string forced = absl::StrCat(what, " force=", force ? "true" : "false");
      r.Note(absl::StrCat(stamp, " sync triggered ", forced));
      NoteTriggerContext(r, stamp, forced, message.already_syncing(),
                         message.setup_state_at_trigger());
    }
    const v1::SyncObservation& o = message.observation();
    std::string state = o.sync_state_raw().empty() ? "unknown" : o.sync_state_raw();
    if (message.outcome() == v1::SYNC_OUTCOME_UNSPECIFIED) {
      const std::string historical =
          o.has_is_historical_sync() && o.is_historical_sync() ? " historical" : "";
      if (live.active()) {
        live.Set(state + historical);
      } else {
        r.Note(absl::StrCat(NowStamp(), " ", what, " sync_state=", state, historical));
      }
      continue;
    }
    outcome = message.outcome();
    trigger_required = message.trigger_required();
  }
  grpc::Status s = reader->Finish();
  live.Stop();
  return WatchEnded(r, what, outcome, trigger_required, message.observation(), s);
}

// ---------------------------------------------------------------------------------------------
// The command line.

class ConnectionsCommand : public Command {
 public:
  explicit ConnectionsCommand(CLI::App* app) {
    CLI::App* connections = app->add_subcommand("connections", "Get, create and sync connections");
    connections->alias("connectors");
    connections->require_subcommand(1);
    AddGet(connections);
    AddCreate(connections);
    AddCreateFtp(connections);
    AddSync(connections);
    AddWatch(connections);
  }

  std::optional<int> Run(const Globals& g) override {
    if (get_->parsed()) return GetConnection(Runner(g), conn_id_);
    if ((sync_->parsed() && wait_) || watch_->parsed()) {
      Globals wait_globals = g;
      if (!g.timeout_given) wait_globals.deadline = absl::Hours(6);
      absl::Duration interval = poll_interval_.empty()
                                    ? absl::ZeroDuration()
                                    : ParseDurationFlag("--poll-interval", poll_interval_);
      return WatchConnectionSync(Runner(wait_globals), conn_id_, /*trigger=*/sync_->parsed(),
                                 force_, interval);
    }
    if (!poll_interval_.empty()) throw UsageError("--poll-interval goes with --wait");
    if (sync_->parsed()) return SyncConnection(Runner(g), conn_id_, force_);
    // The request first: local input problems end the command before a channel exists.
    if (create_->parsed()) {
      const v1::CreateConnectionRequest request = CreateRequest();
      return CreateConnection(Runner(g), request);
    }
    if (create_ftp_->parsed()) {
      const v1::CreateFtpConnectionRequest request = CreateFtpRequest();
      return CreateFtpConnection(Runner(g), request);
    }
    return std::nullopt;
  }

 private:
  void AddGet(CLI::App* connections) {
    get_ = connections->add_subcommand("get", "Show one connection");
    get_->add_option("CONNECTION_ID", conn_id_, "Connection id")->required();
    get_->footer(kGetFooter);
  }

  void AddCreate(CLI::App* connections) {
    create_ = connections->add_subcommand(
        "create", "Create a connection of any service from a JSON config, running setup tests");
    create_->add_option("--group", create_group_, "Group (destination) id")->required();
    create_->add_option("--service", create_service_, "Connector type, e.g. postgres")->required();
    create_->add_option("--config", create_config_, "JSON config object from FILE, or - for stdin")
        ->required()
        ->type_name("FILE|-");
    create_->add_option("--auth-file", create_auth_, "JSON `auth` object (OAuth credentials)")
        ->type_name("FILE");
    AddCreateOptions(create_, &create_options_);
    create_->footer(kCreateFooter);
  }

  void AddCreateFtp(CLI::App* connections) {
    create_ftp_ = connections->add_subcommand(
        "create-ftp", "Create an FTP connection from typed flags, running setup tests");
    create_ftp_->add_option("--group", ftp_group_, "Group (destination) id")->required();
    create_ftp_
        ->add_option("--config", ftp_config_file_,
                     "FTP config as JSON (FtpConfig fields, snake_case) from FILE or -; flags "
                     "override it")
        ->type_name("FILE|-");
    create_ftp_
        ->add_option("--password-file", ftp_password_file_,
                     "File holding the FTP password (else $FIVETRAN_FTP_PASSWORD, else a prompt)")
        ->type_name("FILE");
    AddFtpFlags(create_ftp_, &ftp_fields_);
    AddCreateOptions(create_ftp_, &ftp_options_);
    create_ftp_->footer(kCreateFtpFooter);
  }

  void AddSync(CLI::App* connections) {
    sync_ = connections->add_subcommand("sync", "Trigger a sync now");
    sync_->add_option("CONNECTION_ID", conn_id_, "Connection id")->required();
    sync_->add_flag("--force", force_, "Stop a running sync and restart it");
    sync_->add_flag("--wait", wait_,
                    "Wait until the sync ends (WatchConnectionSync); --timeout bounds the wait "
                    "(default 6h with --wait)");
    sync_->add_option("--poll-interval", poll_interval_,
                      "With --wait: how often the gateway reads the connection (default 10s)");
    sync_->footer(kSyncFooter);
  }

  void AddWatch(CLI::App* connections) {
    watch_ = connections->add_subcommand(
        "watch", "Wait for the next sync of a connection to end, without triggering one");
    watch_->add_option("CONNECTION_ID", conn_id_, "Connection id")->required();
    watch_->add_option("--poll-interval", poll_interval_,
                       "How often the gateway reads the connection (default 10s)");
    watch_->footer(kWatchFooter);
  }

  // Reads --config and --auth-file; throws UsageError.
  v1::CreateConnectionRequest CreateRequest() const {
    v1::CreateConnectionRequest request;
    request.set_group_id(create_group_);
    request.set_service(create_service_);
    auto config = wire::StructFromJson(ReadJsonObject("--config", create_config_));
    if (!config.ok()) throw UsageError(std::string(config.status().message()));
    *request.mutable_config() = *config;
    if (!create_auth_.empty()) {
      auto auth = wire::StructFromJson(ReadJsonObject("--auth-file", create_auth_));
      if (!auth.ok()) throw UsageError(std::string(auth.status().message()));
      *request.mutable_auth() = *auth;
    }
    for (const auto& apply : create_options_) apply(request.mutable_options());
    return request;
  }

  // --config, then the flags over it, then the password; throws UsageError.
  v1::CreateFtpConnectionRequest CreateFtpRequest() const {
    v1::CreateFtpConnectionRequest request;
    request.set_group_id(ftp_group_);
    v1::FtpConfig* config = request.mutable_config();
    if (!ftp_config_file_.empty()) *config = FtpConfigFromFile(ftp_config_file_);
    for (const auto& apply : ftp_fields_) apply(config);
    for (const auto& apply : ftp_options_) apply(request.mutable_options());
    CheckFtpRequired(*config);
    SetFtpPassword(ftp_password_file_, config);
    return request;
  }

  // get, sync and watch.
  std::string conn_id_;
  CLI::App* get_;
  // create.
  CLI::App* create_;
  std::string create_group_, create_service_, create_config_, create_auth_;
  Appliers<v1::CreateConnectionOptions> create_options_;
  // create-ftp.
  CLI::App* create_ftp_;
  std::string ftp_group_, ftp_config_file_, ftp_password_file_;
  Appliers<v1::FtpConfig> ftp_fields_;
  Appliers<v1::CreateConnectionOptions> ftp_options_;
  // sync and watch.
  CLI::App* sync_;
  CLI::App* watch_;
  bool force_ = false;
  bool wait_ = false;
  std::string poll_interval_;
};

}  // namespace

std::unique_ptr<Command> AddConnectionsCommand(CLI::App* app) {
  return std::make_unique<ConnectionsCommand>(app);
}

}  // namespace fivetranctl
