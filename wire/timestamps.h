// RFC 3339 timestamps as Fivetran sends them, <-> google.protobuf.Timestamp.
#ifndef FIVETRAN_GATEWAY_WIRE_TIMESTAMPS_H_
#define FIVETRAN_GATEWAY_WIRE_TIMESTAMPS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/timestamp.pb.h"

namespace fivetran_gateway::wire {

// Parses an RFC 3339 timestamp "YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|+HH:MM|-HH:MM)"
// ('T' and 'Z' may be lower case, as RFC 3339 allows) into UTC. A leap second
// ":60" rolls over into the next minute. Anything else, or a time outside
// 0001-01-01..9999-12-31 UTC, is InvalidArgumentError.
absl::StatusOr<google::protobuf::Timestamp> ParseTimestamp(absl::string_view text);

// Formats as RFC 3339 UTC with 0, 3, 6 or 9 fraction digits ("...Z").
std::string FormatTimestamp(const google::protobuf::Timestamp& ts);

}  // namespace fivetran_gateway::wire

#endif  // FIVETRAN_GATEWAY_WIRE_TIMESTAMPS_H_
