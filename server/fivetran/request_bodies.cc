// Requests: bodies of POST /v1/connections, validated (mapping.h).
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/time_util.h"
#include "server/common/safe_text.h"
#include "server/fivetran/mapping.h"
#include "wire/json_value.h"

namespace fivetran_gateway::fivetran {
namespace {

using ::google::protobuf::Struct;
using ::google::protobuf::Value;
using ::nlohmann::json;

absl::Status Violation(FieldViolation* violation, absl::string_view field,
                       absl::string_view description) {
  if (violation != nullptr) {
    violation->field = std::string(field);
    violation->description = std::string(description);
  }
  return absl::InvalidArgumentError(description);
}

absl::Status Required(FieldViolation* violation, absl::string_view field) {
  return Violation(violation, field, absl::StrCat(field, " is required"));
}

template <typename E>
absl::Status CheckEnum(FieldViolation* violation, absl::string_view field, E v) {
  if (v == static_cast<E>(0) || !FivetranEnumString(v).empty()) return absl::OkStatus();
  return Violation(violation, field,
                   absl::StrCat(field, " has an unknown value ", static_cast<int>(v)));
}

template <typename E>
void PutEnum(json* obj, const char* key, E v) {
  const absl::string_view name = FivetranEnumString(v);
  if (!name.empty()) (*obj)[key] = std::string(name);
}

void PutString(json* obj, const char* key, const std::string& v) {
  if (!v.empty()) (*obj)[key] = v;
}

// Longest daily_sync_time sent: Fivetran decides which times it accepts
// ("HH:00" today); the gateway only bounds the size.
constexpr size_t kMaxDailySyncTimeBytes = 32;

// Validates `options` and adds its members to `body`.
absl::Status AddOptions(const v1::CreateConnectionOptions& o, FieldViolation* violation,
                        json* body) {
  json& b = *body;
  b["run_setup_tests"] = o.has_run_setup_tests() ? o.run_setup_tests() : true;
  if (o.has_trust_certificates()) b["trust_certificates"] = o.trust_certificates();
  if (o.has_trust_fingerprints()) b["trust_fingerprints"] = o.trust_fingerprints();
  if (o.has_paused()) b["paused"] = o.paused();
  if (o.has_pause_after_trial()) b["pause_after_trial"] = o.pause_after_trial();

  // Values Fivetran accepts are Fivetran's to decide (it added 1 before):
  // anything positive is sent, and Fivetran's 400 is INVALID_ARGUMENT.
  if (o.has_sync_frequency()) {
    if (o.sync_frequency() <= 0) {
      return Violation(violation, "options.sync_frequency",
                       "options.sync_frequency must be a positive number of minutes");
    }
    b["sync_frequency"] = o.sync_frequency();
  }
  if (o.has_daily_sync_time() && !o.daily_sync_time().empty()) {
    if (o.daily_sync_time().size() > kMaxDailySyncTimeBytes) {
      return Violation(violation, "options.daily_sync_time",
                       absl::StrCat("options.daily_sync_time is longer than ",
                                    kMaxDailySyncTimeBytes, " bytes"));
    }
    // Fivetran ignores it with any other frequency and echoes it empty
    // (field report N9): refused rather than silently dropped.
    if (!o.has_sync_frequency() || o.sync_frequency() != 1440) {
      return Violation(violation, "options.daily_sync_time",
                       "options.daily_sync_time requires options.sync_frequency 1440");
    }
    b["daily_sync_time"] = o.daily_sync_time();
  }

  if (auto s = CheckEnum(violation, "options.schedule_type", o.schedule_type()); !s.ok()) return s;
  PutEnum(&b, "schedule_type", o.schedule_type());
  if (auto s = CheckEnum(violation, "options.data_delay_sensitivity", o.data_delay_sensitivity());
      !s.ok()) {
    return s;
  }
  PutEnum(&b, "data_delay_sensitivity", o.data_delay_sensitivity());
  if (o.has_data_delay_threshold()) {
    if (o.data_delay_threshold() < 0) {
      return Violation(violation, "options.data_delay_threshold",
                       "options.data_delay_threshold must be >= 0");
    }
    b["data_delay_threshold"] = o.data_delay_threshold();
  }

  if (auto s = CheckEnum(violation, "options.networking_method", o.networking_method()); !s.ok()) {
    return s;
  }
  PutEnum(&b, "networking_method", o.networking_method());
  PutString(&b, "proxy_agent_id", o.proxy_agent_id());
  PutString(&b, "private_link_id", o.private_link_id());
  PutString(&b, "hybrid_deployment_agent_id", o.hybrid_deployment_agent_id());
  PutString(&b, "external_secrets_manager_id", o.external_secrets_manager_id());

  if (auto s =
          CheckEnum(violation, "options.destination_schema_names", o.destination_schema_names());
      !s.ok()) {
    return s;
  }
  PutEnum(&b, "destination_schema_names", o.destination_schema_names());

  if (o.has_destination_configuration() && o.destination_configuration().has_virtual_warehouse() &&
      !o.destination_configuration().virtual_warehouse().empty()) {
    b["destination_configuration"] = {
        {"virtual_warehouse", o.destination_configuration().virtual_warehouse()}};
  }

  if (o.has_connect_card_config()) {
    const auto& c = o.connect_card_config();
    if (c.redirect_uri().empty()) {
      return Required(violation, "options.connect_card_config.redirect_uri");
    }
    json cc = {{"redirect_uri", c.redirect_uri()}};
    if (c.has_hide_setup_guide()) cc["hide_setup_guide"] = c.hide_setup_guide();
    if (c.has_all_fields()) cc["all_fields"] = c.all_fields();
    b["connect_card_config"] = std::move(cc);
  }
  return absl::OkStatus();
}

absl::Status ValidateFtpConfig(const v1::FtpConfig& c, FieldViolation* violation) {
  if (c.schema().empty()) return Required(violation, "config.schema");
  if (c.host().empty()) return Required(violation, "config.host");
  if (c.user().empty()) return Required(violation, "config.user");
  if (c.password().empty()) return Required(violation, "config.password");
  if (auto s = CheckEnum(violation, "config.file_mapping_method", c.file_mapping_method());
      !s.ok()) {
    return s;
  }
  if (c.file_mapping_method() == v1::FTP_FILE_MAPPING_METHOD_UNSPECIFIED && c.table().empty() &&
      c.table_group_name().empty()) {
    return Violation(violation, "config.table",
                     "config.table or config.table_group_name is required unless "
                     "config.file_mapping_method is set");
  }
  if (c.file_mapping_method() == v1::FTP_FILE_MAPPING_METHOD_DEFINE_PER_TABLE) {
    if (c.files().empty()) {
      return Violation(violation, "config.files",
                       "config.files is required with file_mapping_method DEFINE_PER_TABLE");
    }
    for (int i = 0; i < c.files_size(); ++i) {
      if (c.files(i).table_name().empty()) {
        return Required(violation, absl::StrCat("config.files[", i, "].table_name"));
      }
    }
  }
  if (c.file_mapping_method() == v1::FTP_FILE_MAPPING_METHOD_EXTRACT_TABLES &&
      c.extraction_pattern().empty()) {
    return Violation(violation, "config.extraction_pattern",
                     "config.extraction_pattern is required with file_mapping_method "
                     "EXTRACT_TABLES");
  }
  if (c.has_port() && (c.port() < 1 || c.port() > 65535)) {
    return Violation(violation, "config.port", "config.port must be in 1..65535");
  }
  if (c.has_skip_before() && c.skip_before() < 0) {
    return Violation(violation, "config.skip_before", "config.skip_before must be >= 0");
  }
  if (c.has_skip_after() && c.skip_after() < 0) {
    return Violation(violation, "config.skip_after", "config.skip_after must be >= 0");
  }
  if (c.has_use_pgp_encryption_options() && c.use_pgp_encryption_options() &&
      c.pgp_secret_key().empty()) {
    return Violation(violation, "config.pgp_secret_key",
                     "config.pgp_secret_key is required with use_pgp_encryption_options");
  }
  absl::Status s;
  if (s = CheckEnum(violation, "config.file_type", c.file_type()); !s.ok()) return s;
  if (s = CheckEnum(violation, "config.compression", c.compression()); !s.ok()) return s;
  if (s = CheckEnum(violation, "config.on_error", c.on_error()); !s.ok()) return s;
  if (s = CheckEnum(violation, "config.append_file_option", c.append_file_option()); !s.ok()) {
    return s;
  }
  if (s = CheckEnum(violation, "config.json_delivery_mode", c.json_delivery_mode()); !s.ok()) {
    return s;
  }
  return absl::OkStatus();
}

// Keys are cut to this many bytes in the field paths of violations, so a
// huge key is never echoed whole.
constexpr size_t kMaxPathKeyBytes = 40;

// Checks the free-form `config` and `auth` of a create request in one
// iterative pass, linear in their size (no path is built unless a check
// fails, no copy of the structs):
//   * the size first: the bytes of every key and string cannot shrink in
//     JSON, so once they alone exceed kMaxRequestBodyBytes the request is
//     refused at once, before any other work (the exact size of the body is
//     checked after it is built);
//   * the nesting, at most kMaxConfigDepth levels;
//   * numbers: JSON has no NaN or infinity (nlohmann would silently send null).
class FreeFormCheck {
 public:
  explicit FreeFormCheck(FieldViolation* violation) : violation_(violation) {}

  absl::Status Check(const Struct& st, absl::string_view root) {
    nodes_.clear();
    stack_.clear();
    nodes_.push_back({-1, root, -1});
    if (absl::Status s = CountKeys(st); !s.ok()) return s;
    Push(st, 0, 1);
    while (!stack_.empty()) {
      const Item item = stack_.back();
      stack_.pop_back();
      const Value& v = *item.value;
      if (item.depth > kMaxConfigDepth) {
        const std::string path = Path(item.node);
        return Violation(
            violation_, path,
            absl::StrCat(path, " is nested more than ", kMaxConfigDepth, " levels deep"));
      }
      switch (v.kind_case()) {
        case Value::kNumberValue:
          if (!std::isfinite(v.number_value())) {
            const std::string path = Path(item.node);
            return Violation(violation_, path, absl::StrCat(path, " must be a finite number"));
          }
          break;
        case Value::kStringValue:
          if (absl::Status s = Count(v.string_value().size()); !s.ok()) return s;
          break;
        case Value::kStructValue:
          if (absl::Status s = CountKeys(v.struct_value()); !s.ok()) return s;
          Push(v.struct_value(), item.node, item.depth + 1);
          break;
        case Value::kListValue: {
          const auto& values = v.list_value().values();
          for (int i = values.size() - 1; i >= 0; --i) {
            nodes_.push_back({item.node, {}, i});
            stack_.push_back({&values[i], static_cast<int>(nodes_.size()) - 1, item.depth + 1});
          }
          break;
        }
        default:
          break;
      }
    }
    return absl::OkStatus();
  }

 private:
  struct Node {
    int parent;             // index in nodes_, -1 for the root
    absl::string_view key;  // member name, or empty for a list element
    int index;              // list index, or -1 for a member
  };
  struct Item {
    const Value* value;
    int node;
    int depth;  // of `value`: the members of `config` are at depth 1
  };

  void Push(const Struct& st, int parent, int depth) {
    for (const auto& [k, child] : st.fields()) {
      nodes_.push_back({parent, k, -1});
      stack_.push_back({&child, static_cast<int>(nodes_.size()) - 1, depth});
    }
  }

  // Counts the member names of a struct.
  absl::Status CountKeys(const Struct& st) {
    for (const auto& [k, child] : st.fields()) {
      if (absl::Status s = Count(k.size()); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  absl::Status Count(size_t bytes) {
    text_bytes_ += bytes;
    if (text_bytes_ <= kMaxRequestBodyBytes) return absl::OkStatus();
    return Violation(
        violation_, "config",
        absl::StrCat("config and auth together exceed ", kMaxRequestBodyBytes, " bytes of JSON"));
  }

  // "config.a.b[3]", keys escaped and cut to kMaxPathKeyBytes.
  std::string Path(int node) const {
    std::vector<int> chain;
    for (int n = node; n >= 0; n = nodes_[n].parent) chain.push_back(n);
    std::string out;
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      const Node& n = nodes_[*it];
      if (n.index >= 0) {
        absl::StrAppend(&out, "[", n.index, "]");
        continue;
      }
      if (n.parent >= 0) out.push_back('.');
      // Escaped (no control characters reach a message or the log) and cut.
      out.append(SafeText(n.key, kMaxPathKeyBytes));
    }
    return out;
  }

  FieldViolation* violation_;
  std::vector<Node> nodes_;
  std::vector<Item> stack_;
  // Bytes of keys and strings seen so far, over config and auth together.
  size_t text_bytes_ = 0;
};

}  // namespace

absl::StatusOr<nlohmann::json> CreateConnectionBody(const v1::CreateConnectionRequest& req,
                                                    FieldViolation* violation) {
  if (req.group_id().empty()) return Required(violation, "group_id");
  if (req.service().empty()) return Required(violation, "service");
  const auto& fields = req.config().fields();
  auto schema = fields.find("schema");
  if (schema == fields.end() || schema->second.kind_case() != Value::kStringValue ||
      schema->second.string_value().empty()) {
    return Violation(violation, "config.schema", "config.schema is required (a non-empty string)");
  }
  FreeFormCheck check(violation);
  if (auto s = check.Check(req.config(), "config"); !s.ok()) return s;
  if (auto s = check.Check(req.auth(), "auth"); !s.ok()) return s;
  json body = json::object();
  body["group_id"] = req.group_id();
  body["service"] = req.service();
  if (auto s = AddOptions(req.options(), violation, &body); !s.ok()) return s;
  body["config"] = JsonFromStruct(req.config());
  if (req.has_auth()) body["auth"] = JsonFromStruct(req.auth());
  if (body.dump().size() > kMaxRequestBodyBytes) {
    return Violation(
        violation, "config",
        absl::StrCat("config and auth together exceed ", kMaxRequestBodyBytes, " bytes of JSON"));
  }
  return body;
}

absl::StatusOr<nlohmann::json> CreateFtpConnectionBody(const v1::CreateFtpConnectionRequest& req,
                                                       FieldViolation* violation) {
  if (req.group_id().empty()) return Required(violation, "group_id");
  if (!req.has_config()) return Required(violation, "config");
  if (auto s = ValidateFtpConfig(req.config(), violation); !s.ok()) return s;
  json body = json::object();
  body["group_id"] = req.group_id();
  body["service"] = "ftp";
  if (auto s = AddOptions(req.options(), violation, &body); !s.ok()) return s;
  body["config"] = FtpConfigToJson(req.config());
  return body;
}

nlohmann::json FtpConfigToJson(const v1::FtpConfig& c) {
  json o = json::object();
  auto opt_string = [&o](const char* key, bool has, const std::string& v) {
    if (has && !v.empty()) o[key] = v;
  };
  PutString(&o, "schema", c.schema());
  PutString(&o, "table", c.table());
  PutString(&o, "table_group_name", c.table_group_name());
  PutString(&o, "host", c.host());
  if (c.has_port()) o["port"] = c.port();
  PutString(&o, "user", c.user());
  PutString(&o, "password", c.password());
  if (c.has_is_secure()) o["is_secure"] = c.is_secure();
  PutString(&o, "prefix", c.prefix());
  PutString(&o, "pattern", c.pattern());
  PutEnum(&o, "file_type", c.file_type());
  PutEnum(&o, "compression", c.compression());
  PutEnum(&o, "on_error", c.on_error());
  PutEnum(&o, "append_file_option", c.append_file_option());
  PutString(&o, "archive_pattern", c.archive_pattern());
  opt_string("null_sequence", c.has_null_sequence(), c.null_sequence());
  opt_string("delimiter", c.has_delimiter(), c.delimiter());
  opt_string("escape_char", c.has_escape_char(), c.escape_char());
  if (c.has_skip_before()) o["skip_before"] = c.skip_before();
  if (c.has_skip_after()) o["skip_after"] = c.skip_after();
  if (c.has_empty_header()) o["empty_header"] = c.empty_header();
  opt_string("line_separator", c.has_line_separator(), c.line_separator());
  opt_string("quote_char", c.has_quote_char(), c.quote_char());
  if (c.has_quote_character_enabled()) o["quote_character_enabled"] = c.quote_character_enabled();
  PutEnum(&o, "json_delivery_mode", c.json_delivery_mode());
  PutString(&o, "selected_range", c.selected_range());
  if (c.has_use_pgp_encryption_options()) {
    o["use_pgp_encryption_options"] = c.use_pgp_encryption_options();
  }
  PutString(&o, "pgp_secret_key", c.pgp_secret_key());
  PutString(&o, "pgp_pass_phrase", c.pgp_pass_phrase());
  PutString(&o, "signer_public_key", c.signer_public_key());
  PutEnum(&o, "file_mapping_method", c.file_mapping_method());
  if (c.files_size() > 0) {
    json files = json::array();
    for (const auto& f : c.files()) {
      json e = json::object();
      PutString(&e, "table_name", f.table_name());
      PutString(&e, "file_pattern", f.file_pattern());
      PutString(&e, "archive_pattern", f.archive_pattern());
      PutString(&e, "selected_range", f.selected_range());
      files.push_back(std::move(e));
    }
    o["files"] = std::move(files);
  }
  PutString(&o, "extraction_pattern", c.extraction_pattern());
  return o;
}

}  // namespace fivetran_gateway::fivetran
