// How a fivetranctl command runs: the global flags, the channel to the gateway and the deadline
// of each RPC, printing in the chosen output format, the error line and exit code of a failed
// RPC, and paged listings.
#ifndef CLIENT_FIVETRANCTL_RUNNER_H_
#define CLIENT_FIVETRANCTL_RUNNER_H_

#include <google/protobuf/arena.h>
#include <google/protobuf/message.h>
#include <google/protobuf/repeated_field.h>
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <functional>
#include <future>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client/fivetranctl/channel.h"
#include "client/fivetranctl/errors.h"
#include "client/fivetranctl/output.h"
#include "client/fivetranctl/proto_json.h"
#include "nlohmann/json.hpp"

namespace fivetranctl {

// The global flags, and what they resolve to.
struct Globals {
  std::string server;
  std::string timeout = "30s";
  std::string output = "table";
  bool quiet = false;
  bool no_headers = false;
  SecurityFlags security_flags;
  // Set by ResolveGlobals.
  Security security;
  absl::Duration deadline;
  bool timeout_given = false;                  // --timeout was on the command line.
  OutputFormat format = OutputFormat::kTable;  // also for -o wide
  TableOptions table;  // the terminal's width (0: not a terminal), headers, wide
};

// Adds --server (default $FIVETRAN_GATEWAY_ADDR, else 127.0.0.1:50051), --timeout, --output,
// --no-headers, --quiet and the security flags (channel.h) to `app`, bound to `g`.
void AddGlobalFlags(CLI::App* app, Globals* g);

// After parsing: the deadline, the output format, TLS and the token. Throws UsageError for an
// unusable value.
void ResolveGlobals(const CLI::App& app, Globals* g);

// A noun of the command line (connections, groups, users): it registers its subcommands on the
// app, and after parsing runs the one that was given.
class Command {
 public:
  virtual ~Command() = default;
  // The exit code of this noun's parsed subcommand; nullopt when none of them was parsed.
  // Throws UsageError for unusable local input, before anything is sent.
  virtual std::optional<int> Run(const Globals& g) = 0;
};

// --page-size, --page-token and --all of a listing.
struct Paging {
  int page_size = 0;
  std::string page_token;
  bool all = false;
};

void AddPagingFlags(CLI::App* cmd, Paging* paging);

// The RPCs of one command, on a channel to --server, each with the --timeout deadline.
class Runner {
 public:
  explicit Runner(const Globals& g);

  const Globals& globals() const { return g_; }
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

  // A context with the deadline of one RPC.
  std::unique_ptr<grpc::ClientContext> Context() const;

  // Prints the error line of a failed RPC; returns its exit code.
  int Fail(const grpc::Status& status) const;

  // The error line of a failed RPC (after "fivetranctl: error: ") and its exit code: a connection
  // that could not be set up is explained (TLS, token), anything else is DescribeError's.
  std::string Describe(const grpc::Status& status) const;
  int ExitCode(const grpc::Status& status) const;

  // A note on stderr, unless --quiet.
  void Note(const std::string& line) const;

  // A single message: JSON, or the table-mode rendering `table`.
  void PrintOne(const google::protobuf::Message& m, const std::function<void()>& table) const;

  // Pages of a listing: `call` fetches one page for a token, `items` extracts its rows. With
  // --all, page k+1 is requested as soon as page k arrives and fetched (on another thread, so
  // `call` must be safe to run there) while page k prints; at most two pages are held, and each
  // page's text is written to stdout at once. An error on any page prints the error line after
  // the pages before it and returns its exit code.
  template <typename Response, typename Item>
  int List(
      const Paging& paging, const std::string& json_key, const std::vector<Column>& columns,
      const std::function<grpc::Status(grpc::ClientContext*, const std::string&, Response*)>& call,
      const std::function<const google::protobuf::RepeatedPtrField<Item>&(const Response&)>& items,
      const std::function<std::vector<std::string>(const Item&)>& row) const;

 private:
  const Globals& g_;
  std::shared_ptr<grpc::Channel> channel_;
};

template <typename Response, typename Item>
int Runner::List(
    const Paging& paging, const std::string& json_key, const std::vector<Column>& columns,
    const std::function<grpc::Status(grpc::ClientContext*, const std::string&, Response*)>& call,
    const std::function<const google::protobuf::RepeatedPtrField<Item>&(const Response&)>& items,
    const std::function<std::vector<std::string>(const Item&)>& row) const {
  // One page: the response lives on the page's arena (cheap to build, freed at once).
  struct Page {
    google::protobuf::Arena arena;
    Response* response = google::protobuf::Arena::CreateMessage<Response>(&arena);
    grpc::Status status;
  };
  auto fetch = [this, &call](const std::string& token) {
    auto page = std::make_unique<Page>();
    page->status = call(Context().get(), token, page->response);
    return page;
  };
  TableWriter table(std::cout, columns, g_.table);
  std::string token = paging.page_token;
  std::set<std::string> seen_tokens;
  bool first_item = true;
  bool first_page = true;
  std::string out;  // The text of one page, written at once.
  std::unique_ptr<Page> page = fetch(token);
  while (true) {
    if (!page->status.ok()) {
      std::cout.flush();
      return Fail(page->status);
    }
    token = page->response->next_page_token();
    const bool more = paging.all && !token.empty();
    const bool repeated = more && !seen_tokens.insert(token).second;
    // The next page is fetched while this one prints: at most two pages are held.
    std::future<std::unique_ptr<Page>> next;
    if (more && !repeated) next = std::async(std::launch::async, fetch, token);
    // Opened once the first page is there: a failed first call prints nothing on stdout.
    if (first_page && g_.format == OutputFormat::kJson)
      out.append("{\"").append(json_key).append("\": [");
    first_page = false;
    for (const Item& item : items(*page->response)) {
      switch (g_.format) {
        case OutputFormat::kTable:
          table.AddRow(row(item));
          break;
        case OutputFormat::kJson:
          out.append(first_item ? "\n  " : ",\n  ");
          AppendProtoJson(item, &out);
          break;
        case OutputFormat::kJsonl:
          AppendProtoJson(item, &out);
          out.push_back('\n');
          break;
      }
      first_item = false;
    }
    if (g_.format == OutputFormat::kTable) table.Flush();
    std::cout.write(out.data(), static_cast<std::streamsize>(out.size()));
    std::cout.flush();
    out.clear();
    if (repeated) {
      std::cerr << "fivetranctl: error: the server repeated page token " << token << std::endl;
      return kExitOther;
    }
    if (!more) break;
    page.reset();
    page = next.get();
  }
  if (g_.format == OutputFormat::kJson) {
    std::cout << (first_item ? "" : "\n")
              << "], \"next_page_token\": " << nlohmann::json(token).dump() << "}" << std::endl;
  } else if (!token.empty()) {
    Note(absl::StrCat("next page: --page-token ", token));
  }
  return kExitOk;
}

}  // namespace fivetranctl

#endif  // CLIENT_FIVETRANCTL_RUNNER_H_
