// Differential fuzz target: a page of connections through the fast path
// (ReadConnectionPage, connection_page_reader.h) and the general path
// (ParseJsonBody -> ScrubJson -> ParsePage -> ConnectionFromJson, as
// connection_page_reader_test's GeneralPath runs it). The fast path may
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

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "server/common/secrets.h"
#include "server/fivetran/connection_page_reader.h"
#include "server/fivetran/mapping.h"

namespace {

namespace ft = fivetran_gateway::fivetran;

// The general path, as GetPage runs it; nullopt where it gives an error.
std::optional<ft::ConnectionPage> GeneralPath(const std::string& body,
                                              const std::vector<std::string>& secrets) {
  absl::StatusOr<nlohmann::json> envelope = ft::ParseJsonBody(body, 200, "application/json");
  if (!envelope.ok()) return std::nullopt;
  fivetran_gateway::ScrubJson(*envelope, secrets);
  absl::StatusOr<ft::RawPage> raw = ft::ParsePage(*std::move(envelope));
  if (!raw.ok()) return std::nullopt;
  ft::ConnectionPage out;
  out.next_cursor = raw->next_cursor;
  for (const nlohmann::json& item : raw->items) {
    absl::StatusOr<fivetran::gateway::v1::Connection> c = ft::ConnectionFromJson(item);
    if (!c.ok()) return std::nullopt;
    out.items.push_back(*std::move(c));
  }
  return out;
}

std::string Bytes(const google::protobuf::Message& m) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    m.SerializeToCodedStream(&coded);
  }
  return out;
}

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

  std::optional<ft::ConnectionPage> fast = ft::ReadConnectionPage(body, secrets);
  if (!fast.has_value()) return 0;  // declining is always allowed
  std::optional<ft::ConnectionPage> general = GeneralPath(body, secrets);
  if (!general.has_value()) Differ("fast path accepted a body the general path refuses");
  if (fast->next_cursor != general->next_cursor) Differ("next_cursor differs");
  if (fast->items.size() != general->items.size()) Differ("number of items differs");
  for (size_t i = 0; i < fast->items.size(); ++i) {
    if (Bytes(fast->items[i]) != Bytes(general->items[i])) Differ("item differs", i);
  }
  return 0;
}
