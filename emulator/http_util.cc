#include "emulator/http_util.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "emulator/api_error.h"
#include "httplib.h"

namespace fivetran_emulator {
namespace {

using nlohmann::json;

// Media type (lower case, no parameters) and its parameters.
struct MediaRange {
  std::string type;
  std::vector<std::pair<std::string, std::string>> params;
};

MediaRange ParseMediaRange(absl::string_view text) {
  MediaRange out;
  std::vector<absl::string_view> parts = absl::StrSplit(text, ';');
  out.type = absl::AsciiStrToLower(absl::StripAsciiWhitespace(parts[0]));
  for (size_t i = 1; i < parts.size(); ++i) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(parts[i], absl::MaxSplits('=', 1));
    out.params.emplace_back(absl::AsciiStrToLower(absl::StripAsciiWhitespace(kv.first)),
                            std::string(absl::StripAsciiWhitespace(kv.second)));
  }
  return out;
}

bool HexDigit(char c, int* v) {
  if (c >= '0' && c <= '9') return *v = c - '0', true;
  if (c >= 'a' && c <= 'f') return *v = c - 'a' + 10, true;
  if (c >= 'A' && c <= 'F') return *v = c - 'A' + 10, true;
  return false;
}

}  // namespace

std::string Cut(absl::string_view s, size_t n) {
  return s.size() <= n ? std::string(s) : absl::StrCat(s.substr(0, n), "...");
}

std::string DumpJson(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

void WriteJson(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(DumpJson(body), kJsonMediaType);
}

void WriteError(httplib::Response& res, int status, absl::string_view code,
                absl::string_view message) {
  WriteJson(res, status, json{{"code", code}, {"message", message}});
}

void WriteStatus(httplib::Response& res, const absl::Status& status) {
  WriteError(res, HttpStatusOf(status), FivetranCodeOf(status), status.message());
}

void WriteSuccess(httplib::Response& res, int status, absl::string_view message,
                  std::optional<json> data) {
  json body{{"code", "Success"}, {"message", message}};
  if (data.has_value()) body["data"] = std::move(*data);
  WriteJson(res, status, body);
}

void WriteSuccessText(httplib::Response& res, int status, absl::string_view message,
                      absl::string_view data_text) {
  // Keys in DumpJson's order: code, data, message.
  res.status = status;
  res.set_content(absl::StrCat(R"({"code":"Success","data":)", data_text, R"(,"message":)",
                               DumpJson(json(std::string(message))), "}"),
                  kJsonMediaType);
}

std::string DecodeSegment(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    int hi = 0;
    int lo = 0;
    if (s[i] == '%' && i + 2 < s.size() && HexDigit(s[i + 1], &hi) && HexDigit(s[i + 2], &lo)) {
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// Checked before parsing so hostile bodies cannot exhaust the stack later.
int JsonDepth(absl::string_view text) {
  int depth = 0;
  int max_depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      max_depth = std::max(max_depth, ++depth);
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return max_depth;
}

absl::StatusOr<json> ParseBody(const std::string& body) {
  if (absl::StripAsciiWhitespace(body).empty()) return json();
  if (JsonDepth(body) > kMaxJsonDepth) {
    return InvalidInput(absl::StrCat("Request body is nested deeper than ", kMaxJsonDepth));
  }
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return InvalidInput("Request body is not valid JSON");
  return parsed;
}

bool AcceptOk(const httplib::Request& req) {
  if (!req.has_header("Accept")) return true;
  const std::string accept = req.get_header_value("Accept");
  if (absl::StripAsciiWhitespace(accept).empty()) return true;
  for (absl::string_view range : absl::StrSplit(accept, ',')) {
    MediaRange m = ParseMediaRange(range);
    if (m.type != "*/*" && m.type != "application/*" && m.type != kJsonMediaType) continue;
    bool ok = true;
    for (const auto& [name, value] : m.params) {
      if (name == "version") {
        ok = ok && (value == "1" || value == "2");
      } else if (name != "charset" && name != "q") {
        ok = false;
      }
    }
    if (ok) return true;
  }
  return false;
}

bool ContentTypeOk(const httplib::Request& req) {
  if (!req.has_header("Content-Type")) return false;
  return ParseMediaRange(req.get_header_value("Content-Type")).type == kJsonMediaType;
}

std::optional<std::string> Param(const httplib::Request& req, const char* name) {
  if (!req.has_param(name)) return std::nullopt;
  return req.get_param_value(name);
}

absl::StatusOr<PageRequest> PageFrom(const httplib::Request& req) {
  PageRequest page;
  absl::StatusOr<int> limit = ParseLimit(Param(req, "limit"));
  if (!limit.ok()) return limit.status();
  page.limit = *limit;
  page.cursor = Param(req, "cursor").value_or("");
  return page;
}

absl::StatusOr<std::optional<int64_t>> OptInt(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::optional<int64_t>();
  if (it->is_number_integer()) return std::optional<int64_t>(it->get<int64_t>());
  if (it->is_number_unsigned() && it->get<uint64_t>() < (uint64_t{1} << 62)) {
    return std::optional<int64_t>(static_cast<int64_t>(it->get<uint64_t>()));
  }
  return InvalidInput(absl::StrCat("Field '", key, "' must be an integer"));
}

absl::StatusOr<std::optional<std::string>> OptString(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::optional<std::string>();
  if (it->is_string()) return std::optional<std::string>(it->get<std::string>());
  return InvalidInput(absl::StrCat("Field '", key, "' must be a string"));
}

}  // namespace fivetran_emulator
