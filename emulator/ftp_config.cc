#include "emulator/ftp_config.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "emulator/api_error.h"
#include "emulator/json_fields.h"

namespace fivetran_emulator {
namespace {

using nlohmann::json;

// FTP config keys of the 2019 example script, mapped to today's names.
void NormalizeFtpAliases(json* config) {
  static const std::vector<std::pair<std::string, std::string>>* kAliases =
      new std::vector<std::pair<std::string, std::string>>{
          {"isSecure", "is_secure"},
          {"fileType", "file_type"},
          {"onError", "on_error"},
          {"appendFileOption", "append_file_option"},
          {"archivePattern", "archive_pattern"},
          {"nullSequence", "null_sequence"},
          {"escapeChar", "escape_char"},
          {"skipBefore", "skip_before"},
          {"skipAfter", "skip_after"}};
  for (const auto& [old_name, new_name] : *kAliases) {
    auto it = config->find(old_name);
    if (it == config->end()) continue;
    if (config->find(new_name) == config->end()) (*config)[new_name] = *it;
    config->erase(old_name);
  }
}

// host, user, password and port (default 21).
absl::Status CheckServer(json* config) {
  for (const char* field : {"host", "user", "password"}) {
    absl::StatusOr<std::string> s = RequiredString(*config, field, field);
    if (!s.ok()) return s.status();
  }
  absl::StatusOr<std::optional<int64_t>> port = OptionalInt(*config, "port", "port");
  if (!port.ok()) return port.status();
  if (port->has_value() && (**port < 1 || **port > 65535)) {
    return InvalidInput("Invalid value for field 'port': it must be between 1 and 65535");
  }
  if (!port->has_value()) (*config)["port"] = 21;
  return absl::OkStatus();
}

// Enum, boolean, integer and string fields.
absl::Status CheckFieldTypes(const json& config) {
  struct EnumField {
    const char* name;
    std::vector<std::string> values;
  };
  static const std::vector<EnumField>* kEnums = new std::vector<EnumField>{
      // Current values plus the older infer/log/unstructured ones.
      {"file_type",
       {"csv", "tsv", "json", "jsonl", "avro", "parquet", "xml", "spreadsheet", "infer", "log",
        "unstructured"}},
      {"compression",
       {"infer", "uncompressed", "zip", "gz", "gzip", "bz2", "tar", "tar_gz", "tar_bz2"}},
      {"on_error", {"fail", "skip"}},
      {"append_file_option", {"upsert_file", "append_file", "upsert_file_with_primary_keys"}},
      {"json_delivery_mode", {"Packed", "Unpacked"}},
      {"file_mapping_method", {"DEFINE_PER_TABLE", "EXTRACT_TABLES"}},
  };
  for (const EnumField& f : *kEnums) {
    absl::StatusOr<std::optional<std::string>> v = OptionalEnum(config, f.name, f.name, f.values);
    if (!v.ok()) return v.status();
  }
  for (const char* field :
       {"is_secure", "empty_header", "quote_character_enabled", "use_pgp_encryption_options"}) {
    absl::StatusOr<std::optional<bool>> b = OptionalBool(config, field, field);
    if (!b.ok()) return b.status();
  }
  for (const char* field : {"skip_before", "skip_after"}) {
    absl::StatusOr<std::optional<int64_t>> n = OptionalInt(config, field, field);
    if (!n.ok()) return n.status();
    if (n->has_value() && **n < 0) {
      return InvalidInput(absl::StrCat("Invalid value for field '", field, "': must be >= 0"));
    }
  }
  for (const char* field : {"prefix", "pattern", "archive_pattern", "null_sequence", "delimiter",
                            "escape_char", "line_separator", "quote_char", "selected_range",
                            "extraction_pattern", "table", "table_group_name"}) {
    absl::StatusOr<std::optional<std::string>> s = OptionalString(config, field, field);
    if (!s.ok()) return s.status();
  }
  return absl::OkStatus();
}

// How files map to tables, and the PGP key when PGP is on.
absl::Status CheckMappingAndPgp(const json& config) {
  const std::string mapping = StringOr(config, "file_mapping_method");
  if (mapping == "DEFINE_PER_TABLE") {
    const json* files = FindNonNull(config, "files");
    if (files == nullptr) return Required("files");
    if (!files->is_array() || files->empty()) return WrongType("files", "a non-empty array");
    for (const json& f : *files) {
      if (!f.is_object()) return WrongType("files[]", "an object");
      absl::StatusOr<std::string> t = RequiredString(f, "table_name", "files[].table_name");
      if (!t.ok()) return t.status();
    }
  } else if (mapping == "EXTRACT_TABLES") {
    absl::StatusOr<std::string> p =
        RequiredString(config, "extraction_pattern", "extraction_pattern");
    if (!p.ok()) return p.status();
  } else if (StringOr(config, "table").empty() && StringOr(config, "table_group_name").empty()) {
    return Required("table");
  }

  absl::StatusOr<std::optional<bool>> pgp =
      OptionalBool(config, "use_pgp_encryption_options", "use_pgp_encryption_options");
  if (pgp.ok() && pgp->value_or(false)) {
    absl::StatusOr<std::string> key = RequiredString(config, "pgp_secret_key", "pgp_secret_key");
    if (!key.ok()) return key.status();
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateFtpConfig(json* config) {
  NormalizeFtpAliases(config);
  if (absl::Status s = CheckServer(config); !s.ok()) return s;
  if (absl::Status s = CheckFieldTypes(*config); !s.ok()) return s;
  return CheckMappingAndPgp(*config);
}

}  // namespace fivetran_emulator
