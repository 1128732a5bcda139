#include "client/fivetranctl/runner.h"

#include <chrono>
#include <cstdlib>
#include <utility>
#include <vector>

#include "client/fivetranctl/input.h"

namespace fivetranctl {
namespace {

constexpr char kDefaultServer[] = "127.0.0.1:50051";
constexpr char kServerEnv[] = "FIVETRAN_GATEWAY_ADDR";

}  // namespace

void AddGlobalFlags(CLI::App* app, Globals* g) {
  // Before add_option, so that the help shows the environment's default.
  const char* env_server = std::getenv(kServerEnv);
  g->server = env_server != nullptr && *env_server != '\0' ? env_server : kDefaultServer;

  app->add_option("--server", g->server,
                  "Gateway address HOST:PORT (default: $FIVETRAN_GATEWAY_ADDR, else " +
                      std::string(kDefaultServer) + ")")
      ->capture_default_str()
      ->type_name("HOST:PORT");
  app->add_option("--timeout", g->timeout, "Deadline of each RPC, e.g. 30s, 500ms, 2m")
      ->capture_default_str()
      ->type_name("DURATION");
  app->add_option("--output,-o", g->output,
                  "Output format: table (fits the terminal), wide (a table of every column), "
                  "json, jsonl")
      ->capture_default_str()
      ->transform(CLI::IsMember({"table", "wide", "json", "jsonl"}, CLI::ignore_case));
  app->add_flag("--no-headers", g->no_headers, "Tables without their header line");
  app->add_flag("--quiet,-q", g->quiet, "Only data and errors: no notes on stderr");
  AddSecurityFlags(app, &g->security_flags);
}

void ResolveGlobals(const CLI::App& app, Globals* g) {
  g->deadline = ParseDurationFlag("--timeout", g->timeout);
  g->timeout_given = app.get_option("--timeout")->count() > 0;
  g->format = g->output == "json"    ? OutputFormat::kJson
              : g->output == "jsonl" ? OutputFormat::kJsonl
                                     : OutputFormat::kTable;
  g->table = TableOptions{StdoutTerminalWidth(), !g->no_headers, g->output == "wide"};
  if (g->server.empty()) throw UsageError("--server: empty address");
  g->security = ResolveSecurity(app, g->security_flags);
}

void AddPagingFlags(CLI::App* cmd, Paging* paging) {
  cmd->add_option("--page-size", paging->page_size,
                  "Items per page (server default 100; with --all, 1000)")
      ->check(CLI::Range(1, 1000));
  CLI::Option* token =
      cmd->add_option("--page-token", paging->page_token, "Token printed by the previous page");
  cmd->add_flag("--all", paging->all, "Fetch every page, printing rows as pages arrive")
      ->excludes(token);
}

Runner::Runner(const Globals& g) : g_(g), channel_(MakeChannel(g.server, g.security)) {
  if (!g.security.token.empty() && !g.security.tls && !IsLoopbackAddress(g.server)) {
    Note(absl::StrCat("fivetranctl: warning: the token goes to ", g.server,
                      " without TLS, readable on the network (use --tls or --ca-file FILE)"));
  }
}

std::unique_ptr<grpc::ClientContext> Runner::Context() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(g_.deadline));
  if (!g_.security.token.empty()) {
    context->AddMetadata("authorization", "Bearer " + g_.security.token);
  }
  return context;
}

std::string Runner::Describe(const grpc::Status& status) const {
  if (auto failure = ExplainConnectFailure(status, g_.server, g_.security.tls)) {
    return failure->line;
  }
  std::string line = DescribeError(status);
  if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED && g_.security.token.empty() &&
      line.find("reason=UNAUTHENTICATED") != std::string::npos) {
    line += " (no token was sent: --token-file FILE or $FIVETRAN_GATEWAY_TOKEN)";
  }
  return line;
}

int Runner::ExitCode(const grpc::Status& status) const {
  if (auto failure = ExplainConnectFailure(status, g_.server, g_.security.tls)) {
    return failure->exit_code;
  }
  return ExitCodeFor(status.error_code());
}

int Runner::Fail(const grpc::Status& status) const {
  std::cerr << "fivetranctl: error: " << Describe(status) << std::endl;
  return ExitCode(status);
}

void Runner::Note(const std::string& line) const {
  if (!g_.quiet) std::cerr << line << std::endl;
}

void Runner::PrintOne(const google::protobuf::Message& m,
                      const std::function<void()>& table) const {
  if (g_.format == OutputFormat::kTable) {
    table();
  } else {
    std::cout << ToJson(m, g_.format == OutputFormat::kJson) << std::endl;
  }
}

std::unique_ptr<ListPage> StartListPage(grpc::GenericStub* stub, const std::string& method,
                                        std::unique_ptr<grpc::ClientContext> context,
                                        const google::protobuf::Message& request) {
  auto page = std::make_unique<ListPage>();
  page->context = std::move(context);
  grpc::Slice slice(request.SerializeAsString());
  page->request = grpc::ByteBuffer(&slice, 1);
  ListPage* p = page.get();
  p->result = p->done.get_future();
  stub->UnaryCall(p->context.get(), method, grpc::StubOptions(), &p->request, &p->response,
                  [p](grpc::Status status) { p->done.set_value(std::move(status)); });
  return page;
}

void FinishListPage(ListPage* page) {
  page->status = page->result.get();
  if (!page->status.ok()) return;
  std::vector<grpc::Slice> slices;
  if (!page->response.Valid() || !page->response.Dump(&slices).ok()) {
    page->status = grpc::Status(grpc::StatusCode::INTERNAL, "No payload");
    return;
  }
  page->wire.clear();
  page->wire.reserve(page->response.Length());
  for (const grpc::Slice& s : slices) {
    page->wire.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  page->response.Clear();
}

}  // namespace fivetranctl
