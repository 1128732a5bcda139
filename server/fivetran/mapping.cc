#include "server/fivetran/mapping.h"

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
#include "wire/json_value.h"
#include "wire/snippet.h"

namespace fivetran_gateway::fivetran {
namespace {

using ::fivetran_gateway::wire::Sanitize;

using ::google::protobuf::Struct;
using ::google::protobuf::Timestamp;
using ::google::protobuf::Value;
using ::nlohmann::json;

constexpr int kMaxDepth = 100;        // ParseJsonBody
constexpr size_t kSnippetChars = 40;  // values quoted in response errors
constexpr size_t kBodySnippetChars = 80;
constexpr size_t kMaxErrorMessage = 1000;

// ---------------------------------------------------------------------------------------------
// Small helpers.

void TruncateUtf8(std::string* s, size_t max) {
  if (s->size() <= max) return;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>((*s)[n]) & 0xC0) == 0x80) --n;
  s->resize(n);
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string Describe(const json& j, absl::string_view key) {
  std::string out = wire::JsonTypeName(j);
  if (IsSecretKey(key)) return out;
  if (j.is_string()) {
    absl::StrAppend(&out, " \"", Sanitize(j.get_ref<const std::string&>(), kSnippetChars), "\"");
  } else if (j.is_number() || j.is_boolean()) {
    absl::StrAppend(&out, " ", Sanitize(Dump(j), kSnippetChars));
  }
  return out;
}

// Depth of nesting, iteratively (no recursion on untrusted input).
bool DeeperThan(const json& root, int limit) {
  std::vector<std::pair<const json*, int>> stack = {{&root, 1}};
  while (!stack.empty()) {
    auto [j, depth] = stack.back();
    stack.pop_back();
    if (!j->is_structured()) continue;
    if (depth > limit) return true;
    for (const auto& child : *j) stack.emplace_back(&child, depth + 1);
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Response reader: typed, null-safe access to one JSON object; remembers the first error.

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
        if (s.empty()) return std::nullopt;
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
      if (s.empty()) return std::nullopt;
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
      if (s.empty()) return false;
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

// Guards a top-level mapper: the input must be an object.
absl::Status RequireObject(const json& j, absl::string_view what) {
  if (j.is_object()) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(what, ": expected an object, got ", Describe(j, what)));
}

void ReadAlert(const json& j, const std::string& path, absl::Status* status,
               v1::ConnectionAlert* a) {
  Reader r(j, path, status);
  if (auto v = r.String("code")) a->set_code(*v);
  if (auto v = r.String("message")) a->set_message(*v);
  if (const json* d = r.Get("details")) *a->mutable_details() = ValueFromJson(*d);
}

void ReadStatus(const json& j, const std::string& path, absl::Status* status,
                v1::ConnectionStatus* s) {
  Reader r(j, path, status);
  if (auto e = r.Enum<v1::SetupState>("setup_state")) {
    s->set_setup_state(e->value);
    s->set_setup_state_raw(e->raw);
  }
  if (auto e = r.Enum<v1::SyncState>("sync_state")) {
    s->set_sync_state(e->value);
    s->set_sync_state_raw(e->raw);
  }
  if (auto e = r.Enum<v1::UpdateState>("update_state")) {
    s->set_update_state(e->value);
    s->set_update_state_raw(e->raw);
  }
  if (auto v = r.Bool("is_historical_sync")) s->set_is_historical_sync(*v);
  if (auto v = r.String("schema_status")) s->set_schema_status(*v);
  Timestamp ts;
  if (r.Time("rescheduled_for", &ts)) *s->mutable_rescheduled_for() = ts;
  if (const json* a = r.ArrayOfObjects("tasks")) {
    for (size_t i = 0; i < a->size(); ++i) {
      ReadAlert((*a)[i], absl::StrCat(r.Path("tasks"), "[", i, "]"), status, s->add_tasks());
    }
  }
  if (const json* a = r.ArrayOfObjects("warnings")) {
    for (size_t i = 0; i < a->size(); ++i) {
      ReadAlert((*a)[i], absl::StrCat(r.Path("warnings"), "[", i, "]"), status, s->add_warnings());
    }
  }
}

void ReadSetupTest(const json& j, const std::string& path, absl::Status* status,
                   v1::SetupTestResult* t) {
  Reader r(j, path, status);
  if (auto v = r.String("title")) t->set_title(*v);
  if (auto e = r.Enum<v1::SetupTestStatus>("status")) {
    t->set_status(e->value);
    t->set_status_raw(e->raw);
  }
  if (auto v = r.String("message")) t->set_message(*v);
  if (const json* d = r.Get("details")) *t->mutable_details() = ValueFromJson(*d);
}

// ---------------------------------------------------------------------------------------------
// Request validation.

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

constexpr int kSyncFrequencies[] = {1, 5, 15, 30, 60, 120, 180, 360, 480, 720, 1440};

bool IsHourTime(absl::string_view s) {
  if (s.size() != 5 || s.substr(2) != ":00") return false;
  if (!absl::ascii_isdigit(s[0]) || !absl::ascii_isdigit(s[1])) return false;
  return (s[0] - '0') * 10 + (s[1] - '0') <= 23;
}

// Validates `options` and adds its members to `body`.
absl::Status AddOptions(const v1::CreateConnectionOptions& o, FieldViolation* violation,
                        json* body) {
  json& b = *body;
  b["run_setup_tests"] = o.has_run_setup_tests() ? o.run_setup_tests() : true;
  if (o.has_trust_certificates()) b["trust_certificates"] = o.trust_certificates();
  if (o.has_trust_fingerprints()) b["trust_fingerprints"] = o.trust_fingerprints();
  if (o.has_paused()) b["paused"] = o.paused();
  if (o.has_pause_after_trial()) b["pause_after_trial"] = o.pause_after_trial();

  if (o.has_sync_frequency()) {
    bool allowed = false;
    for (int f : kSyncFrequencies) allowed = allowed || f == o.sync_frequency();
    if (!allowed) {
      return Violation(violation, "options.sync_frequency",
                       absl::StrCat("options.sync_frequency must be one of ",
                                    absl::StrJoin(kSyncFrequencies, ", ")));
    }
    b["sync_frequency"] = o.sync_frequency();
  }
  if (o.has_daily_sync_time() && !o.daily_sync_time().empty()) {
    if (!IsHourTime(o.daily_sync_time())) {
      return Violation(violation, "options.daily_sync_time",
                       "options.daily_sync_time must be HH:00");
    }
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
  if (o.networking_method() == v1::NETWORKING_METHOD_UNMANAGED_PROXY_AGENT ||
      o.networking_method() == v1::NETWORKING_METHOD_UNKNOWN) {
    const std::string name = o.networking_method() == v1::NETWORKING_METHOD_UNKNOWN
                                 ? "UNKNOWN"
                                 : "UNMANAGED_PROXY_AGENT";
    return Violation(violation, "options.networking_method",
                     absl::StrCat("options.networking_method ", name, " cannot be requested"));
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
    if (!absl::StartsWith(c.redirect_uri(), "https://") &&
        !absl::StartsWith(c.redirect_uri(), "http://")) {
      return Violation(violation, "options.connect_card_config.redirect_uri",
                       "options.connect_card_config.redirect_uri must start with https:// or "
                       "http://");
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

}  // namespace

// ---------------------------------------------------------------------------------------------
// Responses.

absl::StatusOr<v1::Connection> ConnectionFromJson(const nlohmann::json& j) {
  if (auto s = RequireObject(j, "connection"); !s.ok()) return s;
  absl::Status status;
  Reader r(j, "connection", &status);
  v1::Connection c;
  try {
    c.set_id(r.Id());
    if (auto v = r.String("group_id")) c.set_group_id(*v);
    if (auto v = r.String("service")) c.set_service(*v);
    if (auto v = r.Int32("service_version")) c.set_service_version(*v);
    if (auto v = r.String("schema")) c.set_schema(*v);
    if (auto v = r.String("connected_by")) c.set_connected_by(*v);
    Timestamp ts;
    if (r.Time("created_at", &ts)) *c.mutable_created_at() = ts;
    if (r.Time("succeeded_at", &ts)) *c.mutable_succeeded_at() = ts;
    if (r.Time("failed_at", &ts)) *c.mutable_failed_at() = ts;
    if (auto v = r.Bool("paused")) c.set_paused(*v);
    if (auto v = r.Bool("pause_after_trial")) c.set_pause_after_trial(*v);
    if (auto v = r.Int32("sync_frequency")) c.set_sync_frequency(*v);
    if (auto v = r.String("daily_sync_time")) c.set_daily_sync_time(*v);
    if (auto e = r.Enum<v1::ScheduleType>("schedule_type")) {
      c.set_schedule_type(e->value);
      c.set_schedule_type_raw(e->raw);
    }
    if (auto e = r.Enum<v1::DataDelaySensitivity>("data_delay_sensitivity")) {
      c.set_data_delay_sensitivity(e->value);
      c.set_data_delay_sensitivity_raw(e->raw);
    }
    if (auto v = r.Int32("data_delay_threshold")) c.set_data_delay_threshold(*v);
    if (auto e = r.Enum<v1::NetworkingMethod>("networking_method")) {
      c.set_networking_method(e->value);
      c.set_networking_method_raw(e->raw);
    }
    if (auto v = r.String("proxy_agent_id")) c.set_proxy_agent_id(*v);
    if (auto v = r.String("private_link_id")) c.set_private_link_id(*v);
    if (auto v = r.String("hybrid_deployment_agent_id")) c.set_hybrid_deployment_agent_id(*v);
    if (auto v = r.String("external_secrets_manager_id")) c.set_external_secrets_manager_id(*v);
    if (auto e = r.Enum<v1::DestinationSchemaNames>("destination_schema_names")) {
      c.set_destination_schema_names(e->value);
      c.set_destination_schema_names_raw(e->raw);
    }
    if (const json* o = r.Object("destination_configuration")) {
      Reader d(*o, r.Path("destination_configuration"), &status);
      auto* dc = c.mutable_destination_configuration();
      if (auto v = d.String("virtual_warehouse")) dc->set_virtual_warehouse(*v);
    }
    if (const json* o = r.Object("status")) {
      ReadStatus(*o, r.Path("status"), &status, c.mutable_status());
    }
    if (const json* a = r.ArrayOfObjects("setup_tests")) {
      for (size_t i = 0; i < a->size(); ++i) {
        ReadSetupTest((*a)[i], absl::StrCat(r.Path("setup_tests"), "[", i, "]"), &status,
                      c.add_setup_tests());
      }
    }
    if (const json* o = r.Get("source_sync_details"); o != nullptr && o->is_object()) {
      *c.mutable_source_sync_details() = std::move(*ValueFromJson(*o).mutable_struct_value());
    }
    if (const json* o = r.Object("connect_card")) {
      Reader cc(*o, r.Path("connect_card"), &status);
      auto* card = c.mutable_connect_card();
      if (auto v = cc.String("token")) card->set_token(*v);
      if (auto v = cc.String("uri")) card->set_uri(*v);
    }
    if (const json* o = r.Object("connect_card_config")) {
      Reader cc(*o, r.Path("connect_card_config"), &status);
      auto* cfg = c.mutable_connect_card_config();
      if (auto v = cc.String("redirect_uri")) cfg->set_redirect_uri(*v);
      if (auto v = cc.Bool("hide_setup_guide")) cfg->set_hide_setup_guide(*v);
      if (auto v = cc.Bool("all_fields")) cfg->set_all_fields(*v);
    }
    if (const json* o = r.Object("config")) {
      *c.mutable_config() = std::move(*ValueFromJson(*o).mutable_struct_value());
    }
  } catch (const std::exception&) {  // Defensive: the reader checks types before reading.
    return absl::InternalError("connection: unexpected JSON shape");
  }
  if (!status.ok()) return status;
  return c;
}

absl::StatusOr<v1::Group> GroupFromJson(const nlohmann::json& j) {
  if (auto s = RequireObject(j, "group"); !s.ok()) return s;
  absl::Status status;
  Reader r(j, "group", &status);
  v1::Group g;
  try {
    g.set_id(r.Id());
    if (auto v = r.String("name")) g.set_name(*v);
    Timestamp ts;
    if (r.Time("created_at", &ts)) *g.mutable_created_at() = ts;
  } catch (const std::exception&) {
    return absl::InternalError("group: unexpected JSON shape");
  }
  if (!status.ok()) return status;
  return g;
}

absl::StatusOr<v1::User> UserFromJson(const nlohmann::json& j) {
  if (auto s = RequireObject(j, "user"); !s.ok()) return s;
  absl::Status status;
  Reader r(j, "user", &status);
  v1::User u;
  try {
    u.set_id(r.Id());
    if (auto v = r.String("email")) u.set_email(*v);
    if (auto v = r.String("given_name")) u.set_given_name(*v);
    if (auto v = r.String("family_name")) u.set_family_name(*v);
    if (auto v = r.Bool("verified")) u.set_verified(*v);
    if (auto v = r.Bool("invited")) u.set_invited(*v);
    if (auto v = r.Bool("active")) u.set_active(*v);
    if (auto v = r.String("role")) u.set_role(*v);
    if (auto v = r.String("picture")) u.set_picture(*v);
    if (auto v = r.String("phone")) u.set_phone(*v);
    Timestamp ts;
    if (r.Time("logged_in_at", &ts)) *u.mutable_logged_in_at() = ts;
    if (r.Time("created_at", &ts)) *u.mutable_created_at() = ts;
  } catch (const std::exception&) {
    return absl::InternalError("user: unexpected JSON shape");
  }
  if (!status.ok()) return status;
  return u;
}

// ---------------------------------------------------------------------------------------------
// Requests.

namespace {

// JSON has no NaN or infinity: nlohmann would silently send null. Also bounds
// the nesting, so the body stays a sane document.
absl::Status CheckJsonValues(const Value& v, const std::string& path, int depth,
                             FieldViolation* violation) {
  if (depth > kMaxConfigDepth) {
    return Violation(violation, path,
                     absl::StrCat(path, " is nested more than ", kMaxConfigDepth, " levels deep"));
  }
  switch (v.kind_case()) {
    case Value::kNumberValue:
      if (!std::isfinite(v.number_value())) {
        return Violation(violation, path, absl::StrCat(path, " must be a finite number"));
      }
      return absl::OkStatus();
    case Value::kStructValue:
      for (const auto& [k, child] : v.struct_value().fields()) {
        if (auto s = CheckJsonValues(child, absl::StrCat(path, ".", k), depth + 1, violation);
            !s.ok()) {
          return s;
        }
      }
      return absl::OkStatus();
    case Value::kListValue:
      for (int i = 0; i < v.list_value().values_size(); ++i) {
        if (auto s = CheckJsonValues(v.list_value().values(i), absl::StrCat(path, "[", i, "]"),
                                     depth + 1, violation);
            !s.ok()) {
          return s;
        }
      }
      return absl::OkStatus();
    default:
      return absl::OkStatus();
  }
}

absl::Status CheckStruct(const Struct& st, const std::string& path, FieldViolation* violation) {
  Value v;
  *v.mutable_struct_value() = st;
  return CheckJsonValues(v, path, 0, violation);
}

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
  json body = json::object();
  body["group_id"] = req.group_id();
  body["service"] = req.service();
  if (auto s = AddOptions(req.options(), violation, &body); !s.ok()) return s;
  if (auto s = CheckStruct(req.config(), "config", violation); !s.ok()) return s;
  if (auto s = CheckStruct(req.auth(), "auth", violation); !s.ok()) return s;
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

// ---------------------------------------------------------------------------------------------
// Envelope.

absl::StatusOr<nlohmann::json> ParseJsonBody(absl::string_view body, int http_status,
                                             absl::string_view content_type) {
  try {
    json doc = json::parse(body.begin(), body.end(), /*cb=*/nullptr, /*allow_exceptions=*/false);
    if (doc.is_object() && !DeeperThan(doc, kMaxDepth)) return doc;
  } catch (const std::exception&) {  // parse() should not throw with allow_exceptions=false.
  }
  const std::string ct = content_type.empty() ? "no content type" : Sanitize(content_type, 60);
  const std::string snippet = body.empty() ? "<empty>" : Sanitize(body, kBodySnippetChars);
  return absl::InternalError(absl::StrCat("Fivetran returned a non-JSON body (HTTP ", http_status,
                                          ", ", ct, "): ", snippet));
}

absl::StatusOr<nlohmann::json> DataObject(const nlohmann::json& envelope) {
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
  return *it;
}

absl::StatusOr<RawPage> ParsePage(const nlohmann::json& envelope) {
  auto data = DataObject(envelope);
  if (!data.ok()) return data.status();
  RawPage page;
  absl::Status status;
  Reader r(*data, "response.data", &status);
  if (const json* items = r.ArrayOfObjects("items")) {
    page.items.assign(items->begin(), items->end());
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
  json doc;
  try {
    doc = json::parse(body.begin(), body.end(), nullptr, false);
  } catch (const std::exception&) {
    return e;
  }
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
