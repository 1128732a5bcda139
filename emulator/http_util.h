// HTTP helpers shared by the emulator's API and admin handlers: the JSON
// envelope, request bodies, media types, query parameters, paging and typed
// reads of optional JSON fields.
#ifndef EMULATOR_HTTP_UTIL_H_
#define EMULATOR_HTTP_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "emulator/pagination.h"
#include "nlohmann/json.hpp"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace fivetran_emulator {

inline constexpr char kJsonMediaType[] = "application/json";
// Longest request path echoed back in an error message.
inline constexpr size_t kMaxEchoedPath = 200;
// Deepest JSON nesting accepted in a request body.
inline constexpr int kMaxJsonDepth = 64;

// `s` cut to `n` characters, with "..." appended when it was cut.
std::string Cut(absl::string_view s, size_t n);

// `value` as every response shows JSON: compact, keys in order, invalid
// UTF-8 replaced by U+FFFD.
std::string DumpJson(const nlohmann::json& value);

// Answers `status` with `body` as application/json.
void WriteJson(httplib::Response& res, int status, const nlohmann::json& body);
// Answers the error envelope {"code": code, "message": message}.
void WriteError(httplib::Response& res, int status, absl::string_view code,
                absl::string_view message);
// Answers the error envelope for an ApiError status (see api_error.h).
void WriteStatus(httplib::Response& res, const absl::Status& status);
// Answers {"code":"Success","message":...,"data":...} (no "data" when unset).
void WriteSuccess(httplib::Response& res, int status, absl::string_view message,
                  std::optional<nlohmann::json> data);
// The same with `data_text`, the JSON text of "data" as DumpJson writes it;
// the body is byte for byte what WriteSuccess would write.
void WriteSuccessText(httplib::Response& res, int status, absl::string_view message,
                      absl::string_view data_text);

// Percent-decodes one path segment; malformed escapes stay literal.
std::string DecodeSegment(absl::string_view s);

// Nesting depth of a JSON text, ignoring brackets inside strings.
int JsonDepth(absl::string_view text);

// Parses a request body: empty (or blank) is a null json; deeper than
// kMaxJsonDepth or not JSON is InvalidInput.
absl::StatusOr<nlohmann::json> ParseBody(const std::string& body);

// Missing, */*, application/*, application/json (optionally ;version=1|2,
// ;charset=..., ;q=...) are acceptable; the header may list several ranges.
bool AcceptOk(const httplib::Request& req);

// The Content-Type's media type is application/json (any parameters).
bool ContentTypeOk(const httplib::Request& req);

// A query parameter, or nullopt when absent.
std::optional<std::string> Param(const httplib::Request& req, const char* name);

// The `limit` and `cursor` query parameters (InvalidInput for a bad limit).
absl::StatusOr<PageRequest> PageFrom(const httplib::Request& req);

// Optional fields of a JSON object body: absent or null is nullopt, a value
// of another type is InvalidInput naming the field.
absl::StatusOr<std::optional<int64_t>> OptInt(const nlohmann::json& body, const char* key);
absl::StatusOr<std::optional<std::string>> OptString(const nlohmann::json& body, const char* key);

}  // namespace fivetran_emulator

#endif  // EMULATOR_HTTP_UTIL_H_
