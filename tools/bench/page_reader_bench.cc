// CPU per listed connection of the two ways the gateway reads a page of
// connections, in one run: the fast reader (connection_page_reader.h), which
// writes each connection's protobuf wire form straight from the JSON, and the
// general path (ParseJsonBody, ScrubJson, ParsePage, ConnectionFromJson, then
// serialized), each from the body's text to the wire form freed again, on
// one thread.
//
//   bazel run -c opt //tools/bench:page_reader_bench --
//       --model=$PWD/server/fivetran/testdata/connection_full.json
//   (one command line)
//
// The page holds --items copies of the model connection (ids and schemas
// made distinct); the credentials to scrub are a key and a secret, as the
// gateway's. Prints one key=value line.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "server/common/secrets.h"
#include "server/fivetran/connection_page_reader.h"
#include "server/fivetran/general_path.h"

ABSL_FLAG(std::string, model, "", "a Fivetran connection envelope (JSON file)");
ABSL_FLAG(int, items, 1000, "connections per page");
ABSL_FLAG(int, rounds, 30, "pages read each way");

namespace {

using fivetran_gateway::CredentialSecrets;
using namespace fivetran_gateway::fivetran;  // NOLINT: a benchmark's main

// Seconds per page of `read`, the best of three runs of `rounds` pages.
template <typename F>
double SecondsPerPage(int rounds, F read) {
  double best = 1e9;
  for (int run = 0; run < 3; ++run) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < rounds; ++i) read();
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    best = std::min(best, took.count() / rounds);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  std::ifstream in(absl::GetFlag(FLAGS_model));
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json model = nlohmann::json::parse(text.str(), nullptr, false);
  if (!model.is_object() || !model["data"].is_object()) {
    std::fprintf(stderr, "page_reader_bench: --model must name a connection envelope\n");
    return 2;
  }
  const int n = absl::GetFlag(FLAGS_items);
  nlohmann::json items = nlohmann::json::array();
  for (int i = 0; i < n; ++i) {
    nlohmann::json c = model["data"];
    c["id"] = absl::StrCat("list_", i);
    c["schema"] = absl::StrCat("list_", i);
    items.push_back(std::move(c));
  }
  const std::string body =
      nlohmann::json{{"code", "Success"}, {"data", {{"items", items}, {"next_cursor", "c2"}}}}
          .dump();
  const std::vector<std::string> secrets = CredentialSecrets("demo_api_key", "demo_api_secret");

  size_t fast_items = 0;
  const double fast = SecondsPerPage(absl::GetFlag(FLAGS_rounds), [&] {
    std::optional<Page<SerializedConnection>> page = ReadConnectionPage(body, secrets);
    fast_items = page.has_value() ? page->items.size() : 0;
  });
  size_t general_items = 0;
  const double general = SecondsPerPage(absl::GetFlag(FLAGS_rounds), [&] {
    std::optional<Page<fivetran::gateway::v1::Connection>> page =
        testing::GeneralConnectionPage(body, secrets);
    general_items = 0;
    if (!page.has_value()) return;
    for (const auto& item : page->items)
      general_items += !SerializedConnection::Of(item).bytes.empty();
  });
  if (fast_items != static_cast<size_t>(n) || general_items != static_cast<size_t>(n)) {
    std::fprintf(stderr, "page_reader_bench: read %zu (fast) and %zu (general) of %d items\n",
                 fast_items, general_items, n);
    return 1;
  }
  std::printf(
      "items=%d bytes_per_item=%zu fast_us_per_item=%.2f general_us_per_item=%.2f "
      "general_over_fast=%.1f\n",
      n, body.size() / n, fast * 1e6 / n, general * 1e6 / n, general / fast);
  return 0;
}
