// Responses: Fivetran's JSON objects -> proto (mapping.h).
#include "server/fivetran/json_reader.h"
#include "server/fivetran/mapping.h"

namespace fivetran_gateway::fivetran {
namespace {

using mapping_internal::json;
using mapping_internal::Reader;
using mapping_internal::RequireObject;
using mapping_internal::Struct;
using mapping_internal::Timestamp;
using mapping_internal::Value;

void ReadAlert(const json& j, const std::string& path, absl::Status* status,
               v1::ConnectionAlert* a) {
  Reader r(j, path, status);
  if (auto v = r.String("code")) a->set_code(*v);
  if (auto v = r.String("message")) a->set_message(*v);
  if (const json* d = r.Get("details")) *a->mutable_details() = ReturnedValueFromJson(*d);
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
  if (const json* d = r.Get("details")) *t->mutable_details() = ReturnedValueFromJson(*d);
}

}  // namespace

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
      *c.mutable_source_sync_details() =
          std::move(*ReturnedValueFromJson(*o).mutable_struct_value());
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
      *c.mutable_config() = std::move(*ReturnedValueFromJson(*o).mutable_struct_value());
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

}  // namespace fivetran_gateway::fivetran
