#include "client/fivetranctl/create_options.h"

#include <functional>
#include <set>
#include <string>

#include "absl/strings/ascii.h"

namespace fivetranctl {

namespace v1 = ::fivetran::gateway::v1;

namespace {

using Options = v1::CreateConnectionOptions;

}  // namespace

void AddCreateOptions(CLI::App* cmd, Appliers<Options>* apply) {
  const std::string group = "Create options";
  auto flag = [&](const std::string& names, const std::string& help,
                  std::function<void(Options*, const bool&)> set) {
    AddField<Options, bool>(cmd, apply, names, help, set)->group(group);
  };
  auto text = [&](const std::string& names, const std::string& help,
                  std::function<void(Options*, const std::string&)> set) {
    return AddField<Options, std::string>(cmd, apply, names, help, set)->group(group);
  };
  flag("--run-setup-tests,!--no-setup-tests",
       "Run setup tests while creating (default) / skip them with --no-setup-tests",
       [](Options* o, const bool& v) { o->set_run_setup_tests(v); });
  flag("--trust-certificates,!--no-trust-certificates",
       "Trust the source's certificates during the setup tests",
       [](Options* o, const bool& v) { o->set_trust_certificates(v); });
  flag("--trust-fingerprints,!--no-trust-fingerprints",
       "Trust the source's SSH fingerprints during the setup tests",
       [](Options* o, const bool& v) { o->set_trust_fingerprints(v); });
  flag("--paused,!--no-paused", "Create the connection paused",
       [](Options* o, const bool& v) { o->set_paused(v); });
  flag("--pause-after-trial,!--no-pause-after-trial", "Pause the connection when the trial ends",
       [](Options* o, const bool& v) { o->set_pause_after_trial(v); });
  AddField<Options, int>(cmd, apply, "--sync-frequency", "Sync interval in minutes",
                         [](Options* o, const int& v) { o->set_sync_frequency(v); })
      // Fivetran decides which intervals it accepts (it has added some before).
      ->check(CLI::PositiveNumber)
      ->type_name("MINUTES")
      ->group(group);
  text("--daily-sync-time",
       "Daily sync time in UTC, e.g. 14:00 (with --sync-frequency 1440; Fivetran decides which "
       "times it accepts)",
       [](Options* o, const std::string& v) { o->set_daily_sync_time(v); });
  AddEnum<Options, v1::ScheduleType>(
      cmd, apply, "--schedule-type", "Who schedules syncs (manual = cron-driven)",
      v1::ScheduleType_descriptor(),
      [](Options* o, v1::ScheduleType e) { o->set_schedule_type(e); })
      ->group(group);
  AddEnum<Options, v1::DataDelaySensitivity>(
      cmd, apply, "--data-delay-sensitivity", "Data-delay notification sensitivity",
      v1::DataDelaySensitivity_descriptor(),
      [](Options* o, v1::DataDelaySensitivity e) { o->set_data_delay_sensitivity(e); })
      ->group(group);
  AddField<Options, int>(cmd, apply, "--data-delay-threshold",
                         "Custom data-delay threshold in minutes (with CUSTOM sensitivity)",
                         [](Options* o, const int& v) { o->set_data_delay_threshold(v); })
      ->check(CLI::NonNegativeNumber)
      ->type_name("MINUTES")
      ->group(group);
  AddEnum<Options, v1::NetworkingMethod>(
      cmd, apply, "--networking-method", "How Fivetran reaches the source",
      v1::NetworkingMethod_descriptor(),
      [](Options* o, v1::NetworkingMethod e) { o->set_networking_method(e); })
      ->group(group);
  text("--proxy-agent-id", "Proxy agent id",
       [](Options* o, const std::string& v) { o->set_proxy_agent_id(v); });
  text("--private-link-id", "Private link id",
       [](Options* o, const std::string& v) { o->set_private_link_id(v); });
  text("--hybrid-deployment-agent-id", "Hybrid deployment agent id",
       [](Options* o, const std::string& v) { o->set_hybrid_deployment_agent_id(v); });
  text("--external-secrets-manager-id", "External secrets manager id",
       [](Options* o, const std::string& v) { o->set_external_secrets_manager_id(v); });
  AddEnum<Options, v1::DestinationSchemaNames>(
      cmd, apply, "--destination-schema-names", "Naming of destination schemas",
      v1::DestinationSchemaNames_descriptor(),
      [](Options* o, v1::DestinationSchemaNames e) { o->set_destination_schema_names(e); })
      ->group(group);
  text("--virtual-warehouse", "Snowflake virtual warehouse (destination_configuration)",
       [](Options* o, const std::string& v) {
         o->mutable_destination_configuration()->set_virtual_warehouse(v);
       });
  text("--connect-card-redirect-uri", "Connect Card redirect URI (http/https)",
       [](Options* o, const std::string& v) {
         o->mutable_connect_card_config()->set_redirect_uri(v);
       });
  flag(
      "--connect-card-hide-setup-guide", "Connect Card: hide the setup guide",
      [](Options* o, const bool& v) { o->mutable_connect_card_config()->set_hide_setup_guide(v); });
  flag("--connect-card-all-fields", "Connect Card: show all fields",
       [](Options* o, const bool& v) { o->mutable_connect_card_config()->set_all_fields(v); });
}

}  // namespace fivetranctl
