// Typed reads of request and seed JSON with Fivetran's InvalidInput messages
// ("Field 'x' is required", "Field 'x' must be a string", ...). Missing and
// explicit null are the same thing for optional fields.
#ifndef EMULATOR_JSON_FIELDS_H_
#define EMULATOR_JSON_FIELDS_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace fivetran_emulator {

// User-supplied text echoed in messages, cut short (200 characters and "...").
std::string Echo(absl::string_view s);

// The member `key` of `obj`, or nullptr (also when `obj` is not an object).
const nlohmann::json* Find(const nlohmann::json& obj, absl::string_view key);
// As Find, but an explicit null is nullptr too.
const nlohmann::json* FindNonNull(const nlohmann::json& obj, absl::string_view key);
// The string member `key`, or `fallback` when missing or not a string.
std::string StringOr(const nlohmann::json& obj, absl::string_view key,
                     absl::string_view fallback = "");

// InvalidInput "Field '<field>' is required" / "Field '<field>' must be <type>".
absl::Status Required(absl::string_view field);
absl::Status WrongType(absl::string_view field, absl::string_view type);

// A non-empty string; `label` names the field in messages.
absl::StatusOr<std::string> RequiredString(const nlohmann::json& obj, absl::string_view field,
                                           absl::string_view label);
absl::StatusOr<std::optional<std::string>> OptionalString(const nlohmann::json& obj,
                                                          absl::string_view field,
                                                          absl::string_view label);
// Booleans, tolerating "true"/"false" strings (the 2019 example scripts send
// them).
absl::StatusOr<std::optional<bool>> OptionalBool(const nlohmann::json& obj, absl::string_view field,
                                                 absl::string_view label);
// Integers, tolerating integral floats and decimal strings.
absl::StatusOr<std::optional<int64_t>> OptionalInt(const nlohmann::json& obj,
                                                   absl::string_view field,
                                                   absl::string_view label);
// A string that must be one of `allowed` (message lists them).
absl::StatusOr<std::optional<std::string>> OptionalEnum(const nlohmann::json& obj,
                                                        absl::string_view field,
                                                        absl::string_view label,
                                                        const std::vector<std::string>& allowed);
absl::StatusOr<std::optional<nlohmann::json>> OptionalObject(const nlohmann::json& obj,
                                                             absl::string_view field,
                                                             absl::string_view label);

// Letters, digits and '_', 1..max_len characters.
bool IsIdentifier(absl::string_view s, size_t max_len);

// An RFC 3339 UTC timestamp ("...Z", any number of fraction digits).
absl::StatusOr<absl::Time> ParseTs(const nlohmann::json& v);

}  // namespace fivetran_emulator

#endif  // EMULATOR_JSON_FIELDS_H_
