// Envelopes: response bodies, `data`, pages and Fivetran's error body
// (mapping.h).
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "server/fivetran/json_reader.h"
#include "server/fivetran/mapping.h"

namespace fivetran_gateway::fivetran {
namespace {

using mapping_internal::DeeperThan;
using mapping_internal::Describe;
using mapping_internal::json;
using mapping_internal::Reader;
using mapping_internal::RepairJsonText;
using mapping_internal::Sanitize;
using mapping_internal::TruncateUtf8;

constexpr int kMaxDepth = 100;  // ParseJsonBody
constexpr size_t kBodySnippetChars = 80;
constexpr size_t kMaxErrorMessage = 1000;

// nlohmann::json without exceptions: a discarded value when `text` is not JSON.
json ParseStrict(absl::string_view text) {
  try {
    return json::parse(text.begin(), text.end(), /*cb=*/nullptr, /*allow_exceptions=*/false);
  } catch (const std::exception&) {  // parse() should not throw with allow_exceptions=false.
    return json(json::value_t::discarded);
  }
}

// The strict parse first: a valid body costs one parse, nothing more. Only a
// body the strict parser refuses pays for the linear repair pass and a second
// parse (RepairJsonText: lone surrogate escapes, bytes that are not UTF-8).
json ParseTolerant(absl::string_view body) {
  json doc = ParseStrict(body);
  if (!doc.is_discarded()) return doc;
  std::optional<std::string> repaired = RepairJsonText(body);
  if (!repaired.has_value()) return doc;
  return ParseStrict(*repaired);
}

}  // namespace

absl::StatusOr<nlohmann::json> ParseJsonBody(absl::string_view body, int http_status,
                                             absl::string_view content_type) {
  json doc = ParseTolerant(body);
  if (doc.is_object() && !DeeperThan(doc, kMaxDepth)) return doc;
  const std::string ct = content_type.empty() ? "no content type" : Sanitize(content_type, 60);
  // Text that is not JSON (an HTML error page, a proxy's message) is quoted
  // up to where anything JSON-like starts ({, [ or "): it says what went
  // wrong. JSON, or text that holds some, is only described: its members
  // may be secrets (a config's password), whatever comes before them (a
  // byte-order mark, an XSSI prefix, a comment).
  std::string what;
  if (body.empty()) {
    what = "<empty>";
  } else if (doc.is_object()) {
    what = absl::StrCat("a JSON object nested deeper than ", kMaxDepth, " levels (", body.size(),
                        " bytes, not shown)");
  } else if (!doc.is_discarded()) {
    what = absl::StrCat("a JSON ", doc.type_name(), ", not an object (", body.size(),
                        " bytes, not shown)");
  } else {
    const size_t json_like = body.find_first_of("{[\"");
    const absl::string_view before = body.substr(0, json_like);
    if (json_like == absl::string_view::npos) {
      what = Sanitize(body, kBodySnippetChars);
    } else if (absl::StripAsciiWhitespace(absl::StripPrefix(before, "\xEF\xBB\xBF")).empty()) {
      what = absl::StrCat("JSON that does not parse, invalid or cut short (", body.size(),
                          " bytes, not shown)");
    } else {
      what = absl::StrCat(Sanitize(before, kBodySnippetChars), " ... (", body.size(),
                          " bytes, the rest not shown)");
    }
  }
  return absl::InternalError(
      absl::StrCat("Fivetran returned a non-JSON body (HTTP ", http_status, ", ", ct, "): ", what));
}

void ScrubEnvelope(nlohmann::json& envelope, absl::Span<const std::string> secrets) {
  std::vector<std::pair<const char*, std::string>> cursors;
  auto data = envelope.find("data");
  const bool has_data = data != envelope.end() && data->is_object();
  if (has_data) {
    for (const char* key : {"next_cursor", "nextCursor"}) {
      auto it = data->find(key);
      if (it != data->end() && it->is_string()) cursors.emplace_back(key, it->get<std::string>());
    }
  }
  ScrubJson(envelope, secrets);
  for (auto& [key, cursor] : cursors) envelope["data"][key] = std::move(cursor);
}

absl::StatusOr<nlohmann::json> DataObject(nlohmann::json envelope) {
  if (!envelope.is_object()) {
    return absl::InternalError(
        absl::StrCat("response: expected an object, got ", wire::JsonTypeName(envelope)));
  }
  auto it = envelope.find("data");
  if (it == envelope.end()) return absl::InternalError("response.data is missing");
  if (!it->is_object()) {
    return absl::InternalError(
        absl::StrCat("response.data: expected an object, got ", Describe(*it, "data")));
  }
  return std::move(*it);
}

absl::StatusOr<RawPage> ParsePage(nlohmann::json envelope) {
  auto data = DataObject(std::move(envelope));
  if (!data.ok()) return data.status();
  RawPage page;
  absl::Status status;
  Reader r(*data, "response.data", &status);
  if (r.ArrayOfObjects("items") != nullptr) {
    page.items = std::move((*data)["items"].get_ref<json::array_t&>());
  } else if (status.ok()) {
    // Without `items` an empty page would look like the end of the list.
    return absl::InternalError("response.data.items: expected an array, got none");
  }
  for (const char* key : {"next_cursor", "nextCursor"}) {
    if (!page.next_cursor.empty()) break;
    if (const json* c = r.Get(key)) {
      if (c->is_string()) {
        page.next_cursor = c->get<std::string>();
      } else {
        r.Fail(key, "a string", *c);
      }
    }
  }
  if (!status.ok()) return status;
  return page;
}

FivetranError ParseFivetranError(absl::string_view body) {
  FivetranError e;
  json doc = ParseTolerant(body);
  if (!doc.is_object()) return e;
  if (auto it = doc.find("code"); it != doc.end() && it->is_string()) {
    e.code = it->get<std::string>();
    TruncateUtf8(&e.code, kMaxErrorMessage);
  }
  if (auto it = doc.find("message"); it != doc.end() && it->is_string()) {
    e.message = it->get<std::string>();
    TruncateUtf8(&e.message, kMaxErrorMessage);
  }
  return e;
}

}  // namespace fivetran_gateway::fivetran
