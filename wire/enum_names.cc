#include "wire/enum_names.h"

#include <cstddef>

namespace fivetran_gateway::wire {
namespace {

template <typename E>
struct EnumName {
  E value;
  absl::string_view name;
};

constexpr EnumName<v1::SetupState> kSetupStates[] = {
    {v1::SETUP_STATE_INCOMPLETE, "incomplete"},
    {v1::SETUP_STATE_CONNECTED, "connected"},
    {v1::SETUP_STATE_BROKEN, "broken"},
};
constexpr EnumName<v1::SyncState> kSyncStates[] = {
    {v1::SYNC_STATE_SCHEDULED, "scheduled"},
    {v1::SYNC_STATE_SYNCING, "syncing"},
    {v1::SYNC_STATE_PAUSED, "paused"},
    {v1::SYNC_STATE_RESCHEDULED, "rescheduled"},
};
constexpr EnumName<v1::UpdateState> kUpdateStates[] = {
    {v1::UPDATE_STATE_ON_SCHEDULE, "on_schedule"},
    {v1::UPDATE_STATE_DELAYED, "delayed"},
};
constexpr EnumName<v1::ScheduleType> kScheduleTypes[] = {
    {v1::SCHEDULE_TYPE_AUTO, "auto"},
    {v1::SCHEDULE_TYPE_MANUAL, "manual"},
};
constexpr EnumName<v1::DataDelaySensitivity> kDataDelaySensitivities[] = {
    {v1::DATA_DELAY_SENSITIVITY_LOW, "LOW"},
    {v1::DATA_DELAY_SENSITIVITY_NORMAL, "NORMAL"},
    {v1::DATA_DELAY_SENSITIVITY_HIGH, "HIGH"},
    {v1::DATA_DELAY_SENSITIVITY_CUSTOM, "CUSTOM"},
    {v1::DATA_DELAY_SENSITIVITY_SYNC_FREQUENCY, "SYNC_FREQUENCY"},
};
constexpr EnumName<v1::NetworkingMethod> kNetworkingMethods[] = {
    {v1::NETWORKING_METHOD_DIRECTLY, "Directly"},
    {v1::NETWORKING_METHOD_SSH_TUNNEL, "SshTunnel"},
    {v1::NETWORKING_METHOD_PRIVATE_LINK, "PrivateLink"},
    {v1::NETWORKING_METHOD_PROXY_AGENT, "ProxyAgent"},
    {v1::NETWORKING_METHOD_UNMANAGED_PROXY_AGENT, "UnmanagedProxyAgent"},
    {v1::NETWORKING_METHOD_UNKNOWN, "Unknown"},
};
constexpr EnumName<v1::DestinationSchemaNames> kDestinationSchemaNames[] = {
    {v1::DESTINATION_SCHEMA_NAMES_FIVETRAN_NAMING, "FIVETRAN_NAMING"},
    {v1::DESTINATION_SCHEMA_NAMES_SOURCE_NAMING, "SOURCE_NAMING"},
};
constexpr EnumName<v1::SetupTestStatus> kSetupTestStatuses[] = {
    {v1::SETUP_TEST_STATUS_PASSED, "PASSED"},         {v1::SETUP_TEST_STATUS_SKIPPED, "SKIPPED"},
    {v1::SETUP_TEST_STATUS_WARNING, "WARNING"},       {v1::SETUP_TEST_STATUS_FAILED, "FAILED"},
    {v1::SETUP_TEST_STATUS_JOB_FAILED, "JOB_FAILED"},
};
constexpr EnumName<v1::FtpFileType> kFtpFileTypes[] = {
    {v1::FTP_FILE_TYPE_CSV, "csv"},   {v1::FTP_FILE_TYPE_TSV, "tsv"},
    {v1::FTP_FILE_TYPE_JSON, "json"}, {v1::FTP_FILE_TYPE_JSONL, "jsonl"},
    {v1::FTP_FILE_TYPE_AVRO, "avro"}, {v1::FTP_FILE_TYPE_PARQUET, "parquet"},
    {v1::FTP_FILE_TYPE_XML, "xml"},   {v1::FTP_FILE_TYPE_SPREADSHEET, "spreadsheet"},
};
constexpr EnumName<v1::FtpCompression> kFtpCompressions[] = {
    {v1::FTP_COMPRESSION_INFER, "infer"},     {v1::FTP_COMPRESSION_UNCOMPRESSED, "uncompressed"},
    {v1::FTP_COMPRESSION_ZIP, "zip"},         {v1::FTP_COMPRESSION_GZ, "gz"},
    {v1::FTP_COMPRESSION_GZIP, "gzip"},       {v1::FTP_COMPRESSION_BZ2, "bz2"},
    {v1::FTP_COMPRESSION_TAR, "tar"},         {v1::FTP_COMPRESSION_TAR_GZ, "tar_gz"},
    {v1::FTP_COMPRESSION_TAR_BZ2, "tar_bz2"},
};
constexpr EnumName<v1::FtpOnError> kFtpOnErrors[] = {
    {v1::FTP_ON_ERROR_FAIL, "fail"},
    {v1::FTP_ON_ERROR_SKIP, "skip"},
};
constexpr EnumName<v1::FtpAppendFileOption> kFtpAppendFileOptions[] = {
    {v1::FTP_APPEND_FILE_OPTION_UPSERT_FILE, "upsert_file"},
    {v1::FTP_APPEND_FILE_OPTION_APPEND_FILE, "append_file"},
    {v1::FTP_APPEND_FILE_OPTION_UPSERT_FILE_WITH_PRIMARY_KEYS, "upsert_file_with_primary_keys"},
};
constexpr EnumName<v1::FtpJsonDeliveryMode> kFtpJsonDeliveryModes[] = {
    {v1::FTP_JSON_DELIVERY_MODE_PACKED, "Packed"},
    {v1::FTP_JSON_DELIVERY_MODE_UNPACKED, "Unpacked"},
};
constexpr EnumName<v1::FtpFileMappingMethod> kFtpFileMappingMethods[] = {
    {v1::FTP_FILE_MAPPING_METHOD_DEFINE_PER_TABLE, "DEFINE_PER_TABLE"},
    {v1::FTP_FILE_MAPPING_METHOD_EXTRACT_TABLES, "EXTRACT_TABLES"},
};

template <typename E, size_t N>
absl::string_view NameOf(const EnumName<E> (&table)[N], E v) {
  for (const auto& e : table) {
    if (e.value == v) return e.name;
  }
  return "";
}

template <typename E, size_t N>
bool ValueOf(const EnumName<E> (&table)[N], absl::string_view s, E* out) {
  for (const auto& e : table) {
    if (e.name == s) {
      *out = e.value;
      return true;
    }
  }
  return false;
}

}  // namespace

#define FIVETRAN_ENUM_TABLE(E, table)                                    \
  absl::string_view FivetranEnumString(E v) { return NameOf(table, v); } \
  bool ParseFivetranEnum(absl::string_view s, E* out) { return ValueOf(table, s, out); }

FIVETRAN_ENUM_TABLE(v1::SetupState, kSetupStates)
FIVETRAN_ENUM_TABLE(v1::SyncState, kSyncStates)
FIVETRAN_ENUM_TABLE(v1::UpdateState, kUpdateStates)
FIVETRAN_ENUM_TABLE(v1::ScheduleType, kScheduleTypes)
FIVETRAN_ENUM_TABLE(v1::DataDelaySensitivity, kDataDelaySensitivities)
FIVETRAN_ENUM_TABLE(v1::NetworkingMethod, kNetworkingMethods)
FIVETRAN_ENUM_TABLE(v1::DestinationSchemaNames, kDestinationSchemaNames)
FIVETRAN_ENUM_TABLE(v1::SetupTestStatus, kSetupTestStatuses)
FIVETRAN_ENUM_TABLE(v1::FtpFileType, kFtpFileTypes)
FIVETRAN_ENUM_TABLE(v1::FtpCompression, kFtpCompressions)
FIVETRAN_ENUM_TABLE(v1::FtpOnError, kFtpOnErrors)
FIVETRAN_ENUM_TABLE(v1::FtpAppendFileOption, kFtpAppendFileOptions)
FIVETRAN_ENUM_TABLE(v1::FtpJsonDeliveryMode, kFtpJsonDeliveryModes)
FIVETRAN_ENUM_TABLE(v1::FtpFileMappingMethod, kFtpFileMappingMethods)

#undef FIVETRAN_ENUM_TABLE

}  // namespace fivetran_gateway::wire
