// fivetranctl: the command-line client of fivetran_gateway (see client/fivetranctl/README.md).
//
// Parsing is CLI11; every command is one or more unary RPCs on the generated stubs. Local
// problems (bad flags, unreadable files, missing password) exit with kExitUsage before any
// channel is created, so nothing reaches the server.
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/fivetranctl/create_options.h"
#include "client/fivetranctl/errors.h"
#include "client/fivetranctl/flags.h"
#include "client/fivetranctl/ftp_config.h"
#include "client/fivetranctl/input.h"
#include "client/fivetranctl/output.h"
#include "fivetran/gateway/v1/connection_service.grpc.pb.h"
#include "fivetran/gateway/v1/group_service.grpc.pb.h"
#include "fivetran/gateway/v1/user_service.grpc.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "wire/enum_names.h"
#include "wire/json_value.h"
#include "wire/timestamps.h"

namespace fivetranctl {
namespace {

namespace wire = ::fivetran_gateway::wire;
using nlohmann::json;

constexpr char kDefaultServer[] = "127.0.0.1:50051";
constexpr char kServerEnv[] = "FIVETRAN_GATEWAY_ADDR";

struct Globals {
  std::string server;
  std::string timeout = "30s";
  std::string output = "table";
  bool quiet = false;
  absl::Duration deadline;
  OutputFormat format = OutputFormat::kTable;
};

using Options = v1::CreateConnectionOptions;
using Ftp = v1::FtpConfig;

// ---------------------------------------------------------------------------------------------
// Running commands.

class Runner {
 public:
  explicit Runner(const Globals& g)
      : g_(g), channel_(grpc::CreateChannel(g.server, grpc::InsecureChannelCredentials())) {}

  std::unique_ptr<grpc::ClientContext> Context() const {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() +
                          absl::ToChronoMilliseconds(g_.deadline));
    return context;
  }

  int Fail(const grpc::Status& status) const {
    std::cerr << "fivetranctl: error: " << DescribeError(status) << std::endl;
    return ExitCodeFor(status.error_code());
  }

  void Note(const std::string& line) const {
    if (!g_.quiet) std::cerr << line << std::endl;
  }

  // A single message: JSON, or the table-mode rendering `table`.
  void PrintOne(const google::protobuf::Message& m, const std::function<void()>& table) const {
    if (g_.format == OutputFormat::kTable) {
      table();
    } else {
      std::cout << ToJson(m, g_.format == OutputFormat::kJson) << std::endl;
    }
  }

  int Get(const std::string& id) const {
    auto stub = v1::ConnectionService::NewStub(channel_);
    v1::GetConnectionRequest request;
    request.set_connection_id(id);
    v1::GetConnectionResponse response;
    grpc::Status s = stub->GetConnection(Context().get(), request, &response);
    if (!s.ok()) return Fail(s);
    PrintOne(response.connection(),
             [&] { PrintConnectionDetails(std::cout, response.connection()); });
    return kExitOk;
  }

  int Create(const v1::CreateConnectionRequest& request) const {
    auto stub = v1::ConnectionService::NewStub(channel_);
    v1::CreateConnectionResponse response;
    grpc::Status s = stub->CreateConnection(Context().get(), request, &response);
    if (!s.ok()) return Fail(s);
    return Created(response, response.connection(), response.ready());
  }

  int CreateFtp(const v1::CreateFtpConnectionRequest& request) const {
    auto stub = v1::ConnectionService::NewStub(channel_);
    v1::CreateFtpConnectionResponse response;
    grpc::Status s = stub->CreateFtpConnection(Context().get(), request, &response);
    if (!s.ok()) return Fail(s);
    return Created(response, response.connection(), response.ready());
  }

  int Sync(const std::string& id, bool force) const {
    auto stub = v1::ConnectionService::NewStub(channel_);
    v1::SyncConnectionRequest request;
    request.set_connection_id(id);
    request.set_force(force);
    v1::SyncConnectionResponse response;
    const absl::Time now = absl::Now();
    grpc::Status s = stub->SyncConnection(Context().get(), request, &response);
    const std::string what = absl::StrCat("connection=", id, " force=", force ? "true" : "false");
    const std::string stamp = absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", now, absl::UTCTimeZone());
    if (!s.ok()) {
      // One timestamped line for cron logs, like the success line.
      std::cerr << stamp << " sync failed " << what << ": " << DescribeError(s) << std::endl;
      return ExitCodeFor(s.error_code());
    }
    if (g_.format != OutputFormat::kTable) {
      std::cout << ToJson(response, g_.format == OutputFormat::kJson) << std::endl;
    }
    std::string line = absl::StrCat(stamp, " sync triggered ", what);
    if (!response.message().empty()) absl::StrAppend(&line, ": ", OneLine(response.message()));
    Note(line);
    return kExitOk;
  }

  // WatchConnectionSync: progress lines on stderr, messages on stdout with
  // --output json/jsonl, exit code from the outcome.
  int Watch(const std::string& id, bool trigger, bool force, absl::Duration poll_interval) const {
    auto stub = v1::ConnectionService::NewStub(channel_);
    v1::WatchConnectionSyncRequest request;
    request.set_connection_id(id);
    request.set_trigger(trigger);
    request.set_force(force);
    if (poll_interval > absl::ZeroDuration()) {
      int64_t ns = absl::ToInt64Nanoseconds(poll_interval);
      request.mutable_poll_interval()->set_seconds(ns / 1000000000);
      request.mutable_poll_interval()->set_nanos(static_cast<int32_t>(ns % 1000000000));
    }
    auto context = Context();
    auto reader = stub->WatchConnectionSync(context.get(), request);
    const std::string what = absl::StrCat("connection=", id);
    auto stamp = [] {
      return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone());
    };
    auto when = [](const google::protobuf::Timestamp& t) {
      return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(t.seconds()),
                              absl::UTCTimeZone());
    };
    v1::WatchConnectionSyncResponse message;
    v1::SyncOutcome outcome = v1::SYNC_OUTCOME_UNSPECIFIED;
    bool trigger_required = false;
    bool announced = false;
    while (reader->Read(&message)) {
      if (g_.format == OutputFormat::kJsonl ||
          (g_.format == OutputFormat::kJson && message.outcome() != v1::SYNC_OUTCOME_UNSPECIFIED)) {
        std::cout << ToJson(message, g_.format == OutputFormat::kJson) << std::endl;
      }
      if (trigger && !announced && message.has_triggered_at()) {
        announced = true;
        Note(absl::StrCat(when(message.triggered_at()), " sync triggered ", what,
                          " force=", force ? "true" : "false"));
      }
      const v1::SyncObservation& o = message.observation();
      std::string state = o.sync_state_raw().empty() ? "unknown" : o.sync_state_raw();
      if (message.outcome() == v1::SYNC_OUTCOME_UNSPECIFIED) {
        Note(absl::StrCat(
            stamp(), " ", what, " sync_state=", state,
            o.has_is_historical_sync() && o.is_historical_sync() ? " historical" : ""));
        continue;
      }
      outcome = message.outcome();
      trigger_required = message.trigger_required();
    }
    grpc::Status s = reader->Finish();
    const v1::SyncObservation& o = message.observation();
    switch (outcome) {
      case v1::SYNC_OUTCOME_SUCCEEDED:
        Note(absl::StrCat(stamp(), " sync succeeded ", what,
                          " succeeded_at=", when(o.succeeded_at())));
        return kExitOk;
      case v1::SYNC_OUTCOME_FAILED:
        std::cerr << stamp() << " sync failed " << what << " failed_at=" << when(o.failed_at())
                  << std::endl;
        return kExitSyncFailed;
      case v1::SYNC_OUTCOME_RESCHEDULED:
        std::cerr << stamp() << " sync rescheduled " << what
                  << (o.has_rescheduled_for() ? " rescheduled_for=" + when(o.rescheduled_for())
                                              : "")
                  << (trigger_required ? " (manual schedule: trigger again after that time)" : "")
                  << std::endl;
        return kExitRescheduled;
      case v1::SYNC_OUTCOME_PAUSED:
        std::cerr << stamp() << " sync not running " << what << ": the connection is paused"
                  << std::endl;
        return kExitPaused;
      default:
        break;
    }
    if (s.ok()) {
      std::cerr << stamp() << " watch ended without an outcome " << what << std::endl;
      return kExitOther;
    }
    std::cerr << stamp() << " sync wait failed " << what << ": " << DescribeError(s) << std::endl;
    if (s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) return kExitWaitTimeout;
    if (s.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
      google::rpc::Status details;
      google::rpc::ErrorInfo info;
      if (details.ParseFromString(s.error_details())) {
        for (const auto& any : details.details()) {
          if (any.UnpackTo(&info) && info.metadata().count("precondition") &&
              info.metadata().at("precondition") == "paused") {
            return kExitPaused;
          }
        }
      }
    }
    return ExitCodeFor(s.error_code());
  }

  struct Paging {
    int page_size = 0;
    std::string page_token;
    bool all = false;
  };

  // Pages of a listing: `call` fetches one page for a token, `items` extracts its rows.
  template <typename Response, typename Item>
  int List(
      const Paging& paging, const std::string& json_key, const std::vector<Column>& columns,
      const std::function<grpc::Status(grpc::ClientContext*, const std::string&, Response*)>& call,
      const std::function<const google::protobuf::RepeatedPtrField<Item>&(const Response&)>& items,
      const std::function<std::vector<std::string>(const Item&)>& row) const {
    TableWriter table(std::cout, columns);
    std::string token = paging.page_token;
    std::set<std::string> seen_tokens;
    bool first_item = true;
    if (g_.format == OutputFormat::kJson) std::cout << "{\"" << json_key << "\": [";
    while (true) {
      Response response;
      grpc::Status s = call(Context().get(), token, &response);
      if (!s.ok()) {
        std::cout.flush();
        return Fail(s);
      }
      for (const Item& item : items(response)) {
        switch (g_.format) {
          case OutputFormat::kTable:
            table.AddRow(row(item));
            break;
          case OutputFormat::kJson:
            std::cout << (first_item ? "\n  " : ",\n  ") << ToJson(item, false);
            break;
          case OutputFormat::kJsonl:
            std::cout << ToJson(item, false) << '\n';
            break;
        }
        first_item = false;
      }
      if (g_.format == OutputFormat::kTable) table.Flush();
      std::cout.flush();
      token = response.next_page_token();
      if (!paging.all || token.empty()) break;
      if (!seen_tokens.insert(token).second) {
        std::cerr << "fivetranctl: error: the server repeated page token " << token << std::endl;
        return kExitOther;
      }
    }
    if (g_.format == OutputFormat::kJson) {
      std::cout << (first_item ? "" : "\n") << "], \"next_page_token\": " << json(token).dump()
                << "}" << std::endl;
    } else if (!token.empty()) {
      Note(absl::StrCat("next page: --page-token ", token));
    }
    return kExitOk;
  }

  int ListGroups(const Paging& paging) const {
    auto stub = v1::GroupService::NewStub(channel_);
    return List<v1::ListGroupsResponse, v1::Group>(
        paging, "groups", GroupColumns(),
        [&](grpc::ClientContext* context, const std::string& token, v1::ListGroupsResponse* r) {
          v1::ListGroupsRequest request;
          request.set_page_size(paging.page_size);
          request.set_page_token(token);
          return stub->ListGroups(context, request, r);
        },
        [](const v1::ListGroupsResponse& r) -> const auto& { return r.groups(); }, GroupRow);
  }

  int ListGroupConnections(const std::string& group, const std::string& schema,
                           const Paging& paging) const {
    auto stub = v1::GroupService::NewStub(channel_);
    return List<v1::ListGroupConnectionsResponse, v1::Connection>(
        paging, "connections", ConnectionColumns(),
        [&](grpc::ClientContext* context, const std::string& token,
            v1::ListGroupConnectionsResponse* r) {
          v1::ListGroupConnectionsRequest request;
          request.set_group_id(group);
          request.set_schema(schema);
          request.set_page_size(paging.page_size);
          request.set_page_token(token);
          return stub->ListGroupConnections(context, request, r);
        },
        [](const v1::ListGroupConnectionsResponse& r) -> const auto& { return r.connections(); },
        ConnectionRow);
  }

  int ListUsers(int active_filter, const Paging& paging) const {
    auto stub = v1::UserService::NewStub(channel_);
    return List<v1::ListUsersResponse, v1::User>(
        paging, "users", UserColumns(),
        [&](grpc::ClientContext* context, const std::string& token, v1::ListUsersResponse* r) {
          v1::ListUsersRequest request;
          request.set_page_size(paging.page_size);
          request.set_page_token(token);
          if (active_filter != 0) request.set_active(active_filter > 0);
          return stub->ListUsers(context, request, r);
        },
        [](const v1::ListUsersResponse& r) -> const auto& { return r.users(); }, UserRow);
  }

 private:
  int Created(const google::protobuf::Message& response, const v1::Connection& c,
              bool ready) const {
    PrintOne(response, [&] {
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
      Note(absl::StrCat("fivetranctl: created connection ", c.id(), ", ready (setup_state ",
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

  const Globals& g_;
  std::shared_ptr<grpc::Channel> channel_;
};

// ---------------------------------------------------------------------------------------------
// The command line.

constexpr char kExitCodes[] = R"(Exit codes:
  0  success
  1  other error (INTERNAL, FAILED_PRECONDITION, ALREADY_EXISTS, ...)
  2  usage error: bad flags or unusable local input; nothing was sent
  3  not found (NOT_FOUND)
  4  invalid argument (INVALID_ARGUMENT, OUT_OF_RANGE)
  5  permission or authentication (PERMISSION_DENIED, UNAUTHENTICATED)
  6  gateway or Fivetran unavailable, or deadline exceeded (UNAVAILABLE, DEADLINE_EXCEEDED)
  7  rate limited (RESOURCE_EXHAUSTED); the error line gives retry_after
  8  connection created but not ready (setup_state is not "connected")
  sync --wait and watch:
  9  the sync failed
  10 the sync was rescheduled (waiting for source quota; manual schedules need a new trigger)
  11 the connection is paused
  12 --timeout ran out before the sync ended
)";

constexpr char kMainFooter[] = R"(
Examples:
  fivetranctl connections get decent_dropsy
  fivetranctl connections sync decent_dropsy --force
  fivetranctl groups connections amber_fjord --all --output jsonl
  fivetranctl users list --suspended --output json
  fivetranctl help connections create-ftp

Environment:
  FIVETRAN_GATEWAY_ADDR  default of --server
  FIVETRAN_FTP_PASSWORD  FTP password for create-ftp (when --password-file is not given)

Errors are printed to stderr as one line:
  fivetranctl: error: CODE: message (fivetran_code=..., http_status=..., retry_after=...)

)";

int Main(int argc, char** argv) {
  Globals g;
  const char* env_server = std::getenv(kServerEnv);
  g.server = env_server != nullptr && *env_server != '\0' ? env_server : kDefaultServer;

  CLI::App app{"fivetranctl: the command-line client of the Fivetran gRPC gateway."};
  app.name("fivetranctl");
  app.footer(std::string(kMainFooter) + kExitCodes);
  app.require_subcommand(1);
  app.fallthrough();
  app.add_option("--server", g.server,
                 "Gateway address HOST:PORT (default: $FIVETRAN_GATEWAY_ADDR, else " +
                     std::string(kDefaultServer) + ")")
      ->capture_default_str()
      ->type_name("HOST:PORT");
  app.add_option("--timeout", g.timeout, "Deadline of each RPC, e.g. 30s, 500ms, 2m")
      ->capture_default_str()
      ->type_name("DURATION");
  app.add_option("--output,-o", g.output, "Output format")
      ->capture_default_str()
      ->transform(CLI::IsMember({"table", "json", "jsonl"}, CLI::ignore_case));
  app.add_flag("--quiet,-q", g.quiet, "Only data and errors: no notes on stderr");

  // connections (alias: connectors)
  CLI::App* connections = app.add_subcommand("connections", "Get, create and sync connections");
  connections->alias("connectors");
  connections->require_subcommand(1);

  std::string conn_id;
  CLI::App* get = connections->add_subcommand("get", "Show one connection");
  get->add_option("CONNECTION_ID", conn_id, "Connection id")->required();
  get->footer(R"(
Examples:
  fivetranctl connections get decent_dropsy
  fivetranctl connectors get decent_dropsy --output json
)");

  std::string create_group, create_service, create_config, create_auth;
  Appliers<Options> create_options;
  CLI::App* create = connections->add_subcommand(
      "create", "Create a connection of any service from a JSON config, running setup tests");
  create->add_option("--group", create_group, "Group (destination) id")->required();
  create->add_option("--service", create_service, "Connector type, e.g. postgres")->required();
  create->add_option("--config", create_config, "JSON config object from FILE, or - for stdin")
      ->required()
      ->type_name("FILE|-");
  create->add_option("--auth-file", create_auth, "JSON `auth` object (OAuth credentials)")
      ->type_name("FILE");
  AddCreateOptions(create, &create_options);
  create->footer(R"(
Prints the connection and its setup-test results; failed tests are marked "!!".
Exits 0 when the connection is ready (setup_state connected), 8 when it was created but is
not ready.

Examples:
  fivetranctl connections create --group quiet_harbor --service postgres --config pg.json \
      --sync-frequency 60 --schedule-type manual
  echo '{"schema":"s3_logs","bucket":"b"}' | \
      fivetranctl connections create --group quiet_harbor --service s3 --config - --paused
)");

  std::string ftp_group, ftp_config_file, ftp_password_file;
  Appliers<Ftp> ftp_fields;
  Appliers<Options> ftp_options;
  CLI::App* create_ftp = connections->add_subcommand(
      "create-ftp", "Create an FTP connection from typed flags, running setup tests");
  create_ftp->add_option("--group", ftp_group, "Group (destination) id")->required();
  create_ftp
      ->add_option("--config", ftp_config_file,
                   "FTP config as JSON (FtpConfig fields, snake_case) from FILE or -; flags "
                   "override it")
      ->type_name("FILE|-");
  create_ftp
      ->add_option("--password-file", ftp_password_file,
                   "File holding the FTP password (else $FIVETRAN_FTP_PASSWORD, else a prompt)")
      ->type_name("FILE");
  AddFtpFlags(create_ftp, &ftp_fields);
  AddCreateOptions(create_ftp, &ftp_options);
  create_ftp->footer(R"(
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
)");

  bool force = false;
  CLI::App* sync = connections->add_subcommand("sync", "Trigger a sync now");
  sync->add_option("CONNECTION_ID", conn_id, "Connection id")->required();
  sync->add_flag("--force", force, "Stop a running sync and restart it");
  bool wait = false;
  std::string poll_interval;
  sync->add_flag("--wait", wait,
                 "Wait until the sync ends (WatchConnectionSync); --timeout bounds the wait "
                 "(default 6h with --wait)");
  sync->add_option("--poll-interval", poll_interval,
                   "With --wait: how often the gateway reads the connection (default 10s)");
  sync->footer(R"(
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
)");

  CLI::App* watch = connections->add_subcommand(
      "watch", "Wait for the next sync of a connection to end, without triggering one");
  watch->add_option("CONNECTION_ID", conn_id, "Connection id")->required();
  watch->add_option("--poll-interval", poll_interval,
                    "How often the gateway reads the connection (default 10s)");
  watch->footer(R"(
Exit codes: 0 succeeded, 9 failed, 10 rescheduled, 11 paused, 12 --timeout ran out
(default 6h).

Example:
  fivetranctl connections watch decent_dropsy --timeout 1h
)");

  auto add_paging = [](CLI::App* cmd, Runner::Paging* paging) {
    cmd->add_option("--page-size", paging->page_size, "Items per page (server default 100)")
        ->check(CLI::Range(1, 1000));
    CLI::Option* token =
        cmd->add_option("--page-token", paging->page_token, "Token printed by the previous page");
    cmd->add_flag("--all", paging->all, "Fetch every page, printing rows as pages arrive")
        ->excludes(token);
  };

  CLI::App* groups = app.add_subcommand("groups", "List groups and their connections");
  groups->require_subcommand(1);
  Runner::Paging groups_paging;
  CLI::App* groups_list = groups->add_subcommand("list", "List groups (one page, or --all)");
  add_paging(groups_list, &groups_paging);
  groups_list->footer(R"(
Examples:
  fivetranctl groups list
  fivetranctl groups list --page-size 2 --page-token TOKEN
  fivetranctl groups list --all --output json
)");
  std::string group_id, schema_filter;
  Runner::Paging group_conn_paging;
  CLI::App* group_conns =
      groups->add_subcommand("connections", "List a group's connections (one page, or --all)");
  group_conns->add_option("GROUP_ID", group_id, "Group id")->required();
  group_conns->add_option("--schema", schema_filter, "Only the connection with this schema name");
  add_paging(group_conns, &group_conn_paging);
  group_conns->footer(R"(
Examples:
  fivetranctl groups connections amber_fjord
  fivetranctl groups connections amber_fjord --all --output jsonl
  fivetranctl groups connections projected_sickle --schema google_sheets.fivetran_sheet
)");

  CLI::App* users = app.add_subcommand("users", "List users");
  users->require_subcommand(1);
  Runner::Paging users_paging;
  bool only_active = false, only_suspended = false;
  CLI::App* users_list = users->add_subcommand("list", "List users (one page, or --all)");
  CLI::Option* active_flag = users_list->add_flag("--active", only_active, "Active users only");
  users_list->add_flag("--suspended", only_suspended, "Suspended users only")
      ->excludes(active_flag);
  add_paging(users_list, &users_paging);
  users_list->footer(R"(
Examples:
  fivetranctl users list
  fivetranctl users list --all --suspended --output json
)");

  CLI::App* help = app.add_subcommand("help", "Show the help of a command: help [COMMAND...]");

  // `help COMMAND...` is `COMMAND... --help` (CLI11 would take the words for subcommands).
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args[0] == "help") {
    args.erase(args.begin());
    args.push_back("--help");
  }
  std::reverse(args.begin(), args.end());  // CLI11 takes the arguments last-first.
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e, std::cout, std::cerr);
    std::cerr << "fivetranctl: usage error: " << OneLine(e.what()) << " (run with --help for usage)"
              << std::endl;
    return kExitUsage;
  }

  try {
    if (help->parsed()) {
      std::cout << app.help();
      return kExitOk;
    }

    g.deadline = ParseDurationFlag("--timeout", g.timeout);
    g.format = g.output == "json"    ? OutputFormat::kJson
               : g.output == "jsonl" ? OutputFormat::kJsonl
                                     : OutputFormat::kTable;
    if (g.server.empty()) throw UsageError("--server: empty address");

    if (get->parsed()) return Runner(g).Get(conn_id);
    if ((sync->parsed() && wait) || watch->parsed()) {
      if (app.get_option("--timeout")->count() == 0) g.deadline = absl::Hours(6);
      absl::Duration interval = poll_interval.empty()
                                    ? absl::ZeroDuration()
                                    : ParseDurationFlag("--poll-interval", poll_interval);
      return Runner(g).Watch(conn_id, /*trigger=*/sync->parsed(), force, interval);
    }
    if (!poll_interval.empty()) throw UsageError("--poll-interval goes with --wait");
    if (sync->parsed()) return Runner(g).Sync(conn_id, force);
    if (create->parsed()) {
      v1::CreateConnectionRequest request;
      request.set_group_id(create_group);
      request.set_service(create_service);
      auto config = wire::StructFromJson(ReadJsonObject("--config", create_config));
      if (!config.ok()) throw UsageError(std::string(config.status().message()));
      *request.mutable_config() = *config;
      if (!create_auth.empty()) {
        auto auth = wire::StructFromJson(ReadJsonObject("--auth-file", create_auth));
        if (!auth.ok()) throw UsageError(std::string(auth.status().message()));
        *request.mutable_auth() = *auth;
      }
      for (const auto& apply : create_options) apply(request.mutable_options());
      return Runner(g).Create(request);
    }
    if (create_ftp->parsed()) {
      v1::CreateFtpConnectionRequest request;
      request.set_group_id(ftp_group);
      Ftp* config = request.mutable_config();
      if (!ftp_config_file.empty()) *config = FtpConfigFromFile(ftp_config_file);
      for (const auto& apply : ftp_fields) apply(config);
      for (const auto& apply : ftp_options) apply(request.mutable_options());
      CheckFtpRequired(*config);
      SetFtpPassword(ftp_password_file, config);
      return Runner(g).CreateFtp(request);
    }
    if (groups_list->parsed()) return Runner(g).ListGroups(groups_paging);
    if (group_conns->parsed()) {
      return Runner(g).ListGroupConnections(group_id, schema_filter, group_conn_paging);
    }
    if (users_list->parsed()) {
      return Runner(g).ListUsers(only_active ? 1 : only_suspended ? -1 : 0, users_paging);
    }
  } catch (const UsageError& e) {
    std::cerr << "fivetranctl: usage error: " << OneLine(e.what()) << std::endl;
    return kExitUsage;
  }
  std::cerr << "fivetranctl: usage error: no command (run with --help for usage)" << std::endl;
  return kExitUsage;
}

}  // namespace
}  // namespace fivetranctl

int main(int argc, char** argv) { return fivetranctl::Main(argc, argv); }
