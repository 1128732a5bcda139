// Internal to the mapping library: typed, null-safe reading of Fivetran's
// JSON (Reader) and the helpers its messages use. Shared by the response
// mapping and the envelope parsing; not part of mapping.h.
#ifndef FIVETRAN_GATEWAY_SERVER_FIVETRAN_JSON_READER_H_
#define FIVETRAN_GATEWAY_SERVER_FIVETRAN_JSON_READER_H_

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/time_util.h"
#include "server/common/secrets.h"
#include "server/fivetran/mapping.h"
#include "wire/json_value.h"
#include "wire/snippet.h"

namespace fivetran_gateway::fivetran::mapping_internal {

using ::fivetran_gateway::wire::Sanitize;
using ::google::protobuf::Struct;
using ::google::protobuf::Timestamp;
using ::google::protobuf::Value;
using ::nlohmann::json;

inline constexpr size_t kSnippetChars = 40;  // values quoted in response errors

// Cuts `s` to at most `max` bytes without splitting a UTF-8 sequence.
void TruncateUtf8(std::string* s, size_t max);
std::string Dump(const json& j);
// "string \"abc\"", "integer 5", "object"; never the value of a secret key.
std::string Describe(const json& j, absl::string_view key);
// Depth of nesting, iteratively (no recursion on untrusted input).
bool DeeperThan(const json& root, int limit);
// Guards a top-level mapper: the input must be an object.
absl::Status RequireObject(const json& j, absl::string_view what);

// JSON text that RFC 8259 allows (or that is merely damaged) but
// nlohmann::json refuses, made acceptable in one linear pass: a \u escape of
// a lone surrogate (Java services emit them for damaged strings) becomes
// U+FFFD, a valid pair (\ud83d\ude00) is kept, and every maximal run of bytes
// that is not well-formed UTF-8 (RFC 3629: no overlongs, no encoded
// surrogates, nothing above U+10FFFF) becomes one U+FFFD. Everything else is
// copied as it is, so text that was not JSON stays not JSON. nullopt when
// nothing needed replacing.
std::optional<std::string> RepairJsonText(absl::string_view text);

// Response reader: typed, null-safe access to one JSON object; remembers the
// first error.
template <typename E>
struct EnumField {
  E value;
  std::string raw;
};

class Reader {
 public:
  Reader(const json& obj, std::string path, absl::Status* status)
      : obj_(obj), path_(std::move(path)), status_(status) {}

  std::string Path(absl::string_view key) const { return absl::StrCat(path_, ".", key); }

  // The member, or nullptr when absent or null.
  const json* Get(const char* key) const {
    auto it = obj_.find(key);
    if (it == obj_.end() || it->is_null()) return nullptr;
    return &*it;
  }

  void Fail(absl::string_view path, absl::string_view key, absl::string_view expected,
            const json& got) {
    if (!status_->ok()) return;
    *status_ = absl::InternalError(
        absl::StrCat(path, ": expected ", expected, ", got ", Describe(got, key)));
  }
  void Fail(const char* key, absl::string_view expected, const json& got) {
    Fail(Path(key), key, expected, got);
  }

  // Required non-empty string `id`.
  std::string Id() {
    auto it = obj_.find("id");
    if (it == obj_.end()) {
      if (status_->ok()) *status_ = absl::InternalError(absl::StrCat(Path("id"), " is missing"));
      return "";
    }
    if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
      Fail("id", "a non-empty string", *it);
      return "";
    }
    return it->get<std::string>();
  }

  std::optional<std::string> String(const char* key) {
    const json* j = Get(key);
    if (j == nullptr) return std::nullopt;
    if (j->is_string()) return j->get<std::string>();
    if (j->is_number() || j->is_boolean()) return Dump(*j);
    Fail(key, "a string", *j);
    return std::nullopt;
  }

  std::optional<int32_t> Int32(const char* key) {
    const json* j = Get(key);
    if (j == nullptr) return std::nullopt;
    constexpr int64_t kMin = std::numeric_limits<int32_t>::min();
    constexpr int64_t kMax = std::numeric_limits<int32_t>::max();
    switch (j->type()) {
      case json::value_t::number_integer: {
        const int64_t v = j->get<int64_t>();
        if (v >= kMin && v <= kMax) return static_cast<int32_t>(v);
        break;
      }
      case json::value_t::number_unsigned: {
        const uint64_t v = j->get<uint64_t>();
        if (v <= static_cast<uint64_t>(kMax)) return static_cast<int32_t>(v);
        break;
      }
      case json::value_t::number_float: {
        const double d = j->get<double>();
        if (std::trunc(d) == d && d >= kMin && d <= kMax) return static_cast<int32_t>(d);
        break;
      }
      case json::value_t::string: {
        const auto& s = j->get_ref<const std::string&>();
        if (WithheldValue(s)) return std::nullopt;
        int32_t v;
        if (absl::SimpleAtoi(s, &v)) return v;
        break;
      }
      default:
        break;
    }
    Fail(key, "a 32-bit integer", *j);
    return std::nullopt;
  }

  std::optional<bool> Bool(const char* key) {
    const json* j = Get(key);
    if (j == nullptr) return std::nullopt;
    if (j->is_boolean()) return j->get<bool>();
    if (j->is_string()) {
      const auto& s = j->get_ref<const std::string&>();
      if (WithheldValue(s)) return std::nullopt;
      if (absl::EqualsIgnoreCase(s, "true")) return true;
      if (absl::EqualsIgnoreCase(s, "false")) return false;
    }
    Fail(key, "a boolean", *j);
    return std::nullopt;
  }

  // Sets *out and returns true when the member is a valid timestamp.
  bool Time(const char* key, Timestamp* out) {
    const json* j = Get(key);
    if (j == nullptr) return false;
    if (j->is_string()) {
      const auto& s = j->get_ref<const std::string&>();
      if (WithheldValue(s)) return false;
      auto ts = ParseTimestamp(s);
      if (ts.ok()) {
        *out = *ts;
        return true;
      }
    }
    Fail(key, "an RFC 3339 timestamp", *j);
    return false;
  }

  template <typename E>
  std::optional<EnumField<E>> Enum(const char* key) {
    const json* j = Get(key);
    if (j == nullptr) return std::nullopt;
    if (!j->is_string()) {
      Fail(key, "a string", *j);
      return std::nullopt;
    }
    EnumField<E> f{static_cast<E>(0), j->get<std::string>()};
    ParseFivetranEnum(f.raw, &f.value);
    return f;
  }

  // The member if it is an object; nullptr when absent/null (or wrong type: error recorded).
  const json* Object(const char* key) {
    const json* j = Get(key);
    if (j == nullptr) return nullptr;
    if (j->is_object()) return j;
    Fail(key, "an object", *j);
    return nullptr;
  }

  // The member if it is an array whose elements are all objects.
  const json* ArrayOfObjects(const char* key) {
    const json* j = Get(key);
    if (j == nullptr) return nullptr;
    if (!j->is_array()) {
      Fail(key, "an array", *j);
      return nullptr;
    }
    for (size_t i = 0; i < j->size(); ++i) {
      if (!(*j)[i].is_object()) {
        Fail(absl::StrCat(Path(key), "[", i, "]"), key, "an object", (*j)[i]);
        return nullptr;
      }
    }
    return j;
  }

  bool ok() const { return status_->ok(); }
  absl::Status* status() const { return status_; }

 private:
  const json& obj_;
  std::string path_;
  absl::Status* status_;
};

}  // namespace fivetran_gateway::fivetran::mapping_internal

#endif  // FIVETRAN_GATEWAY_SERVER_FIVETRAN_JSON_READER_H_
