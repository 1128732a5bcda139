#include "emulator/pagination.h"

#include <cstdint>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "emulator/api_error.h"
#include "nlohmann/json.hpp"

namespace fivetran_emulator {
namespace {

constexpr size_t kMaxCursorLength = 2048;

// FNV-1a, so fingerprints are short and stable across builds.
std::string Fingerprint(absl::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return absl::StrCat(absl::Hex(h, absl::kZeroPad16));
}

}  // namespace

absl::StatusOr<int> ParseLimit(const std::optional<std::string>& raw_limit) {
  if (!raw_limit.has_value()) return kDefaultPageSize;
  const std::string& raw = *raw_limit;
  bool digits_only = !raw.empty() && raw.size() <= 9;
  for (char c : raw)
    digits_only = digits_only && absl::ascii_isdigit(static_cast<unsigned char>(c));
  int value = 0;
  if (!digits_only || !absl::SimpleAtoi(raw, &value) || value < 1 || value > kMaxPageSize) {
    return InvalidInput(
        absl::StrCat("Invalid value for query parameter 'limit': it must be an integer between 1 "
                     "and ",
                     kMaxPageSize));
  }
  return value;
}

std::string EncodeCursor(absl::string_view after_id, absl::string_view fingerprint) {
  nlohmann::json j = {{"after", std::string(after_id)}, {"fp", Fingerprint(fingerprint)}};
  return absl::WebSafeBase64Escape(j.dump());
}

absl::StatusOr<std::string> DecodeCursor(absl::string_view cursor, absl::string_view fingerprint) {
  const absl::Status invalid = InvalidInput("Invalid value for query parameter 'cursor'");
  if (cursor.size() > kMaxCursorLength) return invalid;
  std::string decoded;
  if (!absl::WebSafeBase64Unescape(cursor, &decoded)) return invalid;
  nlohmann::json j = nlohmann::json::parse(decoded, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return invalid;
  auto after = j.find("after");
  auto fp = j.find("fp");
  if (after == j.end() || fp == j.end() || !after->is_string() || !fp->is_string()) return invalid;
  if (fp->get<std::string>() != Fingerprint(fingerprint)) {
    return InvalidInput(
        "Invalid value for query parameter 'cursor': it belongs to a different listing or "
        "filter");
  }
  return after->get<std::string>();
}

}  // namespace fivetran_emulator
