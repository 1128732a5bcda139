#include "emulator/new_connection.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "emulator/api_error.h"
#include "emulator/ftp_config.h"
#include "emulator/json_fields.h"

namespace fivetran_emulator {
namespace {

using nlohmann::json;

bool IsFileService(absl::string_view service) {
  static const std::set<std::string>* kFile = new std::set<std::string>{
      "ftp",          "sftp", "s3",      "gcs",   "azure_blob_storage", "google_sheets",
      "google_drive", "box",  "dropbox", "email", "share_point"};
  return kFile->count(std::string(service)) > 0;
}

// run_setup_tests (default true), trust_certificates, trust_fingerprints
// (accepted, not stored), paused and pause_after_trial (default false).
absl::Status ParseFlags(const json& body, NewConnection* out) {
  for (const char* field : {"run_setup_tests", "trust_certificates", "trust_fingerprints", "paused",
                            "pause_after_trial"}) {
    absl::StatusOr<std::optional<bool>> b = OptionalBool(body, field, field);
    if (!b.ok()) return b.status();
    const std::string name = field;
    const bool value = b->value_or(name == "run_setup_tests");
    if (name == "run_setup_tests") out->run_setup_tests = value;
    if (name == "paused" || name == "pause_after_trial") out->fields[name] = value;
  }
  return absl::OkStatus();
}

absl::Status ParseSyncFrequency(const json& body, json* c) {
  absl::StatusOr<std::optional<int64_t>> freq =
      OptionalInt(body, "sync_frequency", "sync_frequency");
  if (!freq.ok()) return freq.status();
  static const std::vector<int64_t>* kFreqs =
      new std::vector<int64_t>{1, 5, 15, 30, 60, 120, 180, 360, 480, 720, 1440};
  if (freq->has_value() && std::find(kFreqs->begin(), kFreqs->end(), **freq) == kFreqs->end()) {
    return InvalidInput(absl::StrCat(
        "Invalid value '", **freq,
        "' for field 'sync_frequency'. Allowed values: ", absl::StrJoin(*kFreqs, ", ")));
  }
  (*c)["sync_frequency"] = freq->value_or(360);
  return absl::OkStatus();
}

// schedule_type, data_delay_sensitivity, networking_method and
// destination_schema_names, then data_delay_threshold.
absl::Status ParseEnumsAndThreshold(const json& body, json* c) {
  struct EnumField {
    const char* name;
    std::vector<std::string> values;
    const char* fallback;
  };
  static const std::vector<EnumField>* kEnums = new std::vector<EnumField>{
      {"schedule_type", {"auto", "manual"}, "auto"},
      {"data_delay_sensitivity", {"LOW", "NORMAL", "HIGH", "CUSTOM", "SYNC_FREQUENCY"}, "NORMAL"},
      {"networking_method", {"Directly", "PrivateLink", "SshTunnel", "ProxyAgent"}, "Directly"},
      {"destination_schema_names", {"FIVETRAN_NAMING", "SOURCE_NAMING"}, "FIVETRAN_NAMING"},
  };
  for (const EnumField& f : *kEnums) {
    absl::StatusOr<std::optional<std::string>> v = OptionalEnum(body, f.name, f.name, f.values);
    if (!v.ok()) return v.status();
    (*c)[f.name] = v->value_or(f.fallback);
  }
  absl::StatusOr<std::optional<int64_t>> threshold =
      OptionalInt(body, "data_delay_threshold", "data_delay_threshold");
  if (!threshold.ok()) return threshold.status();
  if (threshold->has_value() && **threshold < 0) {
    return InvalidInput("Invalid value for field 'data_delay_threshold': must be >= 0");
  }
  (*c)["data_delay_threshold"] = threshold->value_or(0);
  return absl::OkStatus();
}

// "HH:00", 00:00 to 23:00, or null.
absl::Status ParseDailySyncTime(const json& body, json* c) {
  absl::StatusOr<std::optional<std::string>> daily =
      OptionalString(body, "daily_sync_time", "daily_sync_time");
  if (!daily.ok()) return daily.status();
  if (!daily->has_value()) {
    (*c)["daily_sync_time"] = nullptr;
    return absl::OkStatus();
  }
  const std::string& d = **daily;
  int hour = -1;
  if (d.size() != 5 || d.substr(2) != ":00" || !absl::SimpleAtoi(d.substr(0, 2), &hour) ||
      !absl::ascii_isdigit(static_cast<unsigned char>(d[0])) || hour < 0 || hour > 23) {
    return InvalidInput(absl::StrCat("Invalid value '", Echo(d),
                                     "' for field 'daily_sync_time'. Expected HH:00, 00:00 to "
                                     "23:00"));
  }
  (*c)["daily_sync_time"] = d;
  return absl::OkStatus();
}

// Optional ids and objects stored as given; `auth` is checked, not stored.
absl::Status ParseAttachments(const json& body, json* c) {
  for (const char* field : {"proxy_agent_id", "private_link_id", "hybrid_deployment_agent_id",
                            "external_secrets_manager_id"}) {
    absl::StatusOr<std::optional<std::string>> s = OptionalString(body, field, field);
    if (!s.ok()) return s.status();
    if (s->has_value()) (*c)[field] = **s;
  }
  absl::StatusOr<std::optional<json>> dest =
      OptionalObject(body, "destination_configuration", "destination_configuration");
  if (!dest.ok()) return dest.status();
  if (dest->has_value()) (*c)["destination_configuration"] = **dest;
  absl::StatusOr<std::optional<json>> card =
      OptionalObject(body, "connect_card_config", "connect_card_config");
  if (!card.ok()) return card.status();
  if (card->has_value()) {
    absl::StatusOr<std::string> uri =
        RequiredString(**card, "redirect_uri", "connect_card_config.redirect_uri");
    if (!uri.ok()) return uri.status();
    (*c)["connect_card_config"] = **card;
  }
  absl::StatusOr<std::optional<json>> auth = OptionalObject(body, "auth", "auth");
  if (!auth.ok()) return auth.status();
  return absl::OkStatus();
}

// `config` with its required `schema`; FTP rules for service "ftp".
absl::Status ParseConfig(const json& body, absl::string_view service, NewConnection* out) {
  absl::StatusOr<std::optional<json>> config_in = OptionalObject(body, "config", "config");
  if (!config_in.ok()) return config_in.status();
  json config = config_in->value_or(json::object());
  absl::StatusOr<std::string> schema = RequiredString(config, "schema", "schema");
  if (!schema.ok()) return schema.status();
  if (!IsIdentifier(*schema, 128)) {
    return InvalidInput(absl::StrCat("Invalid value '", Echo(*schema),
                                     "' for field 'schema': use letters, digits and '_'"));
  }
  if (service == "ftp") {
    absl::Status ftp = ValidateFtpConfig(&config);
    if (!ftp.ok()) return ftp;
  }
  out->schema_name = *schema;
  if (IsFileService(service)) {
    std::string table = StringOr(config, "table");
    if (table.empty()) table = StringOr(config, "table_group_name");
    if (!table.empty()) absl::StrAppend(&out->schema_name, ".", table);
  }
  out->config = std::move(config);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<CreateTarget> ParseCreateTarget(const json& body) {
  if (!body.is_object()) return InvalidInput("Request body must be a JSON object");
  absl::StatusOr<std::string> group_id = RequiredString(body, "group_id", "group_id");
  if (!group_id.ok()) return group_id.status();
  absl::StatusOr<std::string> service = RequiredString(body, "service", "service");
  if (!service.ok()) return service.status();
  if (!IsIdentifier(*service, 64) || absl::AsciiStrToLower(*service) != *service) {
    return InvalidInput(absl::StrCat("Unsupported service '", Echo(*service), "'"));
  }
  return CreateTarget{*std::move(group_id), *std::move(service)};
}

absl::StatusOr<NewConnection> ParseNewConnection(const json& body, absl::string_view service) {
  NewConnection out;
  out.fields = json::object();
  if (absl::Status s = ParseFlags(body, &out); !s.ok()) return s;
  if (absl::Status s = ParseSyncFrequency(body, &out.fields); !s.ok()) return s;
  if (absl::Status s = ParseEnumsAndThreshold(body, &out.fields); !s.ok()) return s;
  if (absl::Status s = ParseDailySyncTime(body, &out.fields); !s.ok()) return s;
  if (absl::Status s = ParseAttachments(body, &out.fields); !s.ok()) return s;
  if (absl::Status s = ParseConfig(body, service, &out); !s.ok()) return s;
  return out;
}

}  // namespace fivetran_emulator
