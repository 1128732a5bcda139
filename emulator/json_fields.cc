#include "emulator/json_fields.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "emulator/api_error.h"

namespace fivetran_emulator {

using nlohmann::json;

namespace {
constexpr size_t kMaxEchoedLength = 200;
}  // namespace

std::string Echo(absl::string_view s) {
  if (s.size() <= kMaxEchoedLength) return std::string(s);
  return absl::StrCat(s.substr(0, kMaxEchoedLength), "...");
}

const json* Find(const json& obj, absl::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(std::string(key));
  return it == obj.end() ? nullptr : &*it;
}

const json* FindNonNull(const json& obj, absl::string_view key) {
  const json* v = Find(obj, key);
  return (v == nullptr || v->is_null()) ? nullptr : v;
}

std::string StringOr(const json& obj, absl::string_view key, absl::string_view fallback) {
  const json* v = Find(obj, key);
  if (v == nullptr || !v->is_string()) return std::string(fallback);
  return v->get<std::string>();
}

absl::Status Required(absl::string_view field) {
  return InvalidInput(absl::StrCat("Field '", field, "' is required"));
}

absl::Status WrongType(absl::string_view field, absl::string_view type) {
  return InvalidInput(absl::StrCat("Field '", field, "' must be ", type));
}

absl::StatusOr<std::string> RequiredString(const json& obj, absl::string_view field,
                                           absl::string_view label) {
  const json* v = FindNonNull(obj, field);
  if (v == nullptr) return Required(label);
  if (!v->is_string()) return WrongType(label, "a string");
  std::string s = v->get<std::string>();
  if (s.empty()) return Required(label);
  return s;
}

absl::StatusOr<std::optional<std::string>> OptionalString(const json& obj, absl::string_view field,
                                                          absl::string_view label) {
  const json* v = FindNonNull(obj, field);
  if (v == nullptr) return std::optional<std::string>();
  if (!v->is_string()) return WrongType(label, "a string");
  return std::optional<std::string>(v->get<std::string>());
}

absl::StatusOr<std::optional<bool>> OptionalBool(const json& obj, absl::string_view field,
                                                 absl::string_view label) {
  const json* v = FindNonNull(obj, field);
  if (v == nullptr) return std::optional<bool>();
  if (v->is_boolean()) return std::optional<bool>(v->get<bool>());
  if (v->is_string()) {
    const std::string s = absl::AsciiStrToLower(v->get<std::string>());
    if (s == "true") return std::optional<bool>(true);
    if (s == "false") return std::optional<bool>(false);
  }
  return WrongType(label, "a boolean");
}

absl::StatusOr<std::optional<int64_t>> OptionalInt(const json& obj, absl::string_view field,
                                                   absl::string_view label) {
  const json* v = FindNonNull(obj, field);
  if (v == nullptr) return std::optional<int64_t>();
  if (v->is_number_integer()) return std::optional<int64_t>(v->get<int64_t>());
  if (v->is_number_unsigned()) {
    uint64_t u = v->get<uint64_t>();
    if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return std::optional<int64_t>(static_cast<int64_t>(u));
    }
  }
  if (v->is_number_float()) {
    double d = v->get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e15) {
      return std::optional<int64_t>(static_cast<int64_t>(d));
    }
  }
  if (v->is_string()) {
    int64_t parsed = 0;
    if (absl::SimpleAtoi(v->get<std::string>(), &parsed)) return std::optional<int64_t>(parsed);
  }
  return WrongType(label, "an integer");
}

absl::StatusOr<std::optional<std::string>> OptionalEnum(const json& obj, absl::string_view field,
                                                        absl::string_view label,
                                                        const std::vector<std::string>& allowed) {
  absl::StatusOr<std::optional<std::string>> s = OptionalString(obj, field, label);
  if (!s.ok() || !s->has_value()) return s;
  if (std::find(allowed.begin(), allowed.end(), **s) == allowed.end()) {
    return InvalidInput(absl::StrCat("Invalid value '", Echo(**s), "' for field '", label,
                                     "'. Allowed values: ", absl::StrJoin(allowed, ", ")));
  }
  return s;
}

absl::StatusOr<std::optional<json>> OptionalObject(const json& obj, absl::string_view field,
                                                   absl::string_view label) {
  const json* v = FindNonNull(obj, field);
  if (v == nullptr) return std::optional<json>();
  if (!v->is_object()) return WrongType(label, "an object");
  return std::optional<json>(*v);
}

bool IsIdentifier(absl::string_view s, size_t max_len) {
  if (s.empty() || s.size() > max_len) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}
absl::StatusOr<absl::Time> ParseTs(const json& v) {
  if (!v.is_string()) return absl::InvalidArgumentError("not a timestamp");
  absl::Time t;
  std::string err;
  if (!absl::ParseTime("%Y-%m-%dT%H:%M:%E*SZ", v.get<std::string>(), absl::UTCTimeZone(), &t,
                       &err)) {
    return absl::InvalidArgumentError(err);
  }
  return t;
}

}  // namespace fivetran_emulator
