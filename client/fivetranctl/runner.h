// How a fivetranctl command runs: the global flags, the channel to the gateway and the deadline
// of each RPC, printing in the chosen output format, the error line and exit code of a failed
// RPC, and paged listings.
#ifndef CLIENT_FIVETRANCTL_RUNNER_H_
#define CLIENT_FIVETRANCTL_RUNNER_H_

#include <google/protobuf/arena.h>
#include <google/protobuf/message.h>
#include <google/protobuf/repeated_field.h>
#include <grpcpp/generic/generic_stub.h>
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
#include "absl/strings/string_view.h"
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

// The page size --all asks for when --page-size is not given: the largest the gateway (and
// Fivetran's list endpoints) serve, so a listing costs as few requests of the account's hourly
// budget as it can.
inline constexpr int kAllPageSize = 1000;

// --page-size, --page-token and --all of a listing.
struct Paging {
  int page_size = 0;  // 0: not given.
  std::string page_token;
  bool all = false;

  // The page_size to send: --page-size when given, else kAllPageSize with --all, else 0 (the
  // server's default, 100).
  int RequestPageSize() const { return page_size > 0 ? page_size : all ? kAllPageSize : 0; }
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

  // Pages of a listing: `method` ("/package.Service/Method") called with `request(token)`
  // for each page; `items` extracts the rows of a parsed Response. With --all, page k+1 is
  // requested as soon as page k arrives, so it is on its way while page k prints; at most two
  // pages are held, and each page's text is written to stdout at once. JSON and JSON lines are
  // printed straight from the response's wire form (AppendProtoJsonFromWire), tables from the
  // parsed page. An error on any page prints the error line after the pages before it and
  // returns its exit code.
  template <typename Request, typename Response, typename Item>
  int List(
      const Paging& paging, const std::string& json_key, const std::vector<Column>& columns,
      const std::string& method, const std::function<Request(const std::string& token)>& request,
      const std::function<const google::protobuf::RepeatedPtrField<Item>&(const Response&)>& items,
      const std::function<std::vector<std::string>(const Item&)>& row) const;

 private:
  const Globals& g_;
  std::shared_ptr<grpc::Channel> channel_;
};

// One page of a listing: its call, from the request on, and its answer.
struct ListPage {
  ListPage() = default;
  ListPage(const ListPage&) = delete;
  ListPage& operator=(const ListPage&) = delete;
  // A call still under way (a page fetched ahead, then not needed) is cancelled and waited for.
  ~ListPage() {
    if (result.valid()) {
      context->TryCancel();
      result.wait();
    }
  }

  std::unique_ptr<grpc::ClientContext> context;
  grpc::ByteBuffer request;
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  std::future<grpc::Status> result;  // valid until FinishListPage
  grpc::Status status;
  std::string wire;  // The response, in one piece.
  google::protobuf::Arena arena;
};

// Starts the call of one page on `stub`.
std::unique_ptr<ListPage> StartListPage(grpc::GenericStub* stub, const std::string& method,
                                        std::unique_ptr<grpc::ClientContext> context,
                                        const google::protobuf::Message& request);

// Waits for the answer of `page`: its status, and its response in `wire`.
void FinishListPage(ListPage* page);

template <typename Request, typename Response, typename Item>
int Runner::List(
    const Paging& paging, const std::string& json_key, const std::vector<Column>& columns,
    const std::string& method, const std::function<Request(const std::string& token)>& request,
    const std::function<const google::protobuf::RepeatedPtrField<Item>&(const Response&)>& items,
    const std::function<std::vector<std::string>(const Item&)>& row) const {
  grpc::GenericStub stub(channel_);
  auto start = [&](const std::string& token) {
    return StartListPage(&stub, method, Context(), request(token));
  };
  const google::protobuf::Descriptor* response_type = Response::descriptor();
  const google::protobuf::FieldDescriptor* items_field = nullptr;
  for (int i = 0; i < response_type->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* f = response_type->field(i);
    if (f->is_repeated() && f->message_type() == Item::descriptor()) items_field = f;
  }
  const google::protobuf::FieldDescriptor* token_field =
      response_type->FindFieldByName("next_page_token");
  TableWriter table(std::cout, columns, g_.table);
  std::string token = paging.page_token;
  std::set<std::string> seen_tokens;
  bool first_item = true;
  bool first_page = true;
  std::string out;  // The text of one page, written at once.
  std::vector<absl::string_view> item_wires;
  std::unique_ptr<ListPage> page = start(token);
  while (true) {
    FinishListPage(page.get());
    if (!page->status.ok()) {
      std::cout.flush();
      return Fail(page->status);
    }
    // JSON: from the wire when it reads as the parser would, else from the parsed page.
    const bool from_wire = g_.format != OutputFormat::kTable &&
                           SplitListPage(page->wire, items_field, token_field, &item_wires, &token);
    const Response* parsed = nullptr;
    if (!from_wire) {
      Response* response = google::protobuf::Arena::CreateMessage<Response>(&page->arena);
      if (!response->ParseFromString(page->wire)) {  // As gRPC's own deserializer says it.
        std::cout.flush();
        return Fail(
            grpc::Status(grpc::StatusCode::INTERNAL, response->InitializationErrorString()));
      }
      parsed = response;
      token = response->next_page_token();
    }
    const bool more = paging.all && !token.empty();
    const bool repeated = more && !seen_tokens.insert(token).second;
    // The next page is on its way while this one prints: at most two pages are held.
    std::unique_ptr<ListPage> next;
    if (more && !repeated) next = start(token);
    // Opened once the first page is there: a failed first call prints nothing on stdout.
    if (first_page && g_.format == OutputFormat::kJson) {
      out.append("{\"").append(json_key).append("\": [");
    }
    first_page = false;
    if (from_wire) {
      const size_t mark = out.size();
      bool first = first_item;
      bool ok = true;
      for (absl::string_view item : item_wires) {
        if (g_.format == OutputFormat::kJson) out.append(first ? "\n  " : ",\n  ");
        if (!AppendProtoJsonFromWire(Item::descriptor(), item, &out)) {
          ok = false;
          break;
        }
        if (g_.format == OutputFormat::kJsonl) out.push_back('\n');
        first = false;
      }
      if (ok) {
        first_item = first;
      } else {  // An item the parser would read otherwise (or not at all): the parsed page.
        out.resize(mark);
        Response* response = google::protobuf::Arena::CreateMessage<Response>(&page->arena);
        if (!response->ParseFromString(page->wire)) {
          std::cout.flush();
          return Fail(
              grpc::Status(grpc::StatusCode::INTERNAL, response->InitializationErrorString()));
        }
        parsed = response;
      }
    }
    if (parsed != nullptr) {
      for (const Item& item : items(*parsed)) {
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
    page = std::move(next);
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
