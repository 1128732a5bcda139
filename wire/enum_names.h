// Fivetran's spellings of the enum values of fivetran.gateway.v1, in both
// directions. Shared by the server (JSON mapping) and fivetranctl (output);
// depends only on the generated protos.
#ifndef FIVETRAN_GATEWAY_WIRE_ENUM_NAMES_H_
#define FIVETRAN_GATEWAY_WIRE_ENUM_NAMES_H_

#include "absl/strings/string_view.h"
#include "fivetran/gateway/v1/connection.pb.h"
#include "fivetran/gateway/v1/ftp_config.pb.h"

namespace fivetran_gateway::wire {

namespace v1 = ::fivetran::gateway::v1;

// Fivetran's string for an enum value ("connected", "SshTunnel", "tar_gz");
// "" for *_UNSPECIFIED and numbers this version does not know.
absl::string_view FivetranEnumString(v1::SetupState v);
absl::string_view FivetranEnumString(v1::SyncState v);
absl::string_view FivetranEnumString(v1::UpdateState v);
absl::string_view FivetranEnumString(v1::ScheduleType v);
absl::string_view FivetranEnumString(v1::DataDelaySensitivity v);
absl::string_view FivetranEnumString(v1::NetworkingMethod v);
absl::string_view FivetranEnumString(v1::DestinationSchemaNames v);
absl::string_view FivetranEnumString(v1::SetupTestStatus v);
absl::string_view FivetranEnumString(v1::FtpFileType v);
absl::string_view FivetranEnumString(v1::FtpCompression v);
absl::string_view FivetranEnumString(v1::FtpOnError v);
absl::string_view FivetranEnumString(v1::FtpAppendFileOption v);
absl::string_view FivetranEnumString(v1::FtpJsonDeliveryMode v);
absl::string_view FivetranEnumString(v1::FtpFileMappingMethod v);

// Exact (case-sensitive) lookup of Fivetran's string; false (and *out
// untouched) when unknown.
bool ParseFivetranEnum(absl::string_view s, v1::SetupState* out);
bool ParseFivetranEnum(absl::string_view s, v1::SyncState* out);
bool ParseFivetranEnum(absl::string_view s, v1::UpdateState* out);
bool ParseFivetranEnum(absl::string_view s, v1::ScheduleType* out);
bool ParseFivetranEnum(absl::string_view s, v1::DataDelaySensitivity* out);
bool ParseFivetranEnum(absl::string_view s, v1::NetworkingMethod* out);
bool ParseFivetranEnum(absl::string_view s, v1::DestinationSchemaNames* out);
bool ParseFivetranEnum(absl::string_view s, v1::SetupTestStatus* out);
bool ParseFivetranEnum(absl::string_view s, v1::FtpFileType* out);
bool ParseFivetranEnum(absl::string_view s, v1::FtpCompression* out);
bool ParseFivetranEnum(absl::string_view s, v1::FtpOnError* out);
bool ParseFivetranEnum(absl::string_view s, v1::FtpAppendFileOption* out);
bool ParseFivetranEnum(absl::string_view s, v1::FtpJsonDeliveryMode* out);
bool ParseFivetranEnum(absl::string_view s, v1::FtpFileMappingMethod* out);

}  // namespace fivetran_gateway::wire

#endif  // FIVETRAN_GATEWAY_WIRE_ENUM_NAMES_H_
