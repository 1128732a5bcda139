// Differential fuzz target: a page of connections through the fast path
// (ReadConnectionPage, connection_page_reader.h) and the general path
// (ParseJsonBody -> ScrubJson -> ParsePage -> ConnectionFromJson, as
// general_path.h). The fast path may
// decline any body; when it accepts one, the general path must accept it too
// and give the same next_cursor and the same items (deterministic
// serialization bytes). Otherwise it abort()s with a note on stderr.
//
// Input: a body, optionally preceded by a request secret.
//  - first byte 0x01..0x1f: a secret of that many bytes (fewer when the
//    input is shorter) follows, then the body;
//  - first byte 0x00: no secret, the body is the rest;
//  - any other first byte: no secret, the whole input is the body (so plain
//    JSON seeds work as they are).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "server/fivetran/connection_page_reader.h"
#include "server/fivetran/general_path.h"

namespace {

namespace ft = fivetran_gateway::fivetran;

constexpr size_t kNoItem = static_cast<size_t>(-1);

// Notes what differed (never the values: one side may hold what the other
// scrubbed) and aborts.
[[noreturn]] void Differ(const char* what, size_t item = kNoItem) {
  if (item == kNoItem) {
    std::fprintf(stderr, "connection_page_fuzzer: %s\n", what);
  } else {
    std::fprintf(stderr, "connection_page_fuzzer: %s (item %zu)\n", what, item);
  }
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const char* p = reinterpret_cast<const char*>(data);
  std::vector<std::string> secrets;
  std::string body;
  if (size > 0 && data[0] < 0x20) {
    size_t n = data[0];
    if (n > size - 1) n = size - 1;
    if (n > 0) secrets.emplace_back(p + 1, n);
    body.assign(p + 1 + n, size - 1 - n);
  } else {
    body.assign(p, size);
  }

  std::optional<ft::Page<ft::SerializedConnection>> fast = ft::ReadConnectionPage(body, secrets);
  if (!fast.has_value()) return 0;  // declining is always allowed
  std::optional<ft::Page<fivetran::gateway::v1::Connection>> general =
      ft::testing::GeneralConnectionPage(body, secrets);
  if (!general.has_value()) Differ("fast path accepted a body the general path refuses");
  if (fast->next_cursor != general->next_cursor) Differ("next_cursor differs");
  if (fast->items.size() != general->items.size()) Differ("number of items differs");
  for (size_t i = 0; i < fast->items.size(); ++i) {
    fivetran::gateway::v1::Connection item;
    if (!ft::SerializedConnection::ParseInto(fast->items[i].bytes, &item)) {
      Differ("item's bytes do not parse", i);
    }
    if (ft::testing::DeterministicBytes(item) != ft::testing::DeterministicBytes(general->items[i]))
      Differ("item differs", i);
  }
  return 0;
}
