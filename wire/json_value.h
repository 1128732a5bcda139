// Free-form JSON <-> google.protobuf.Value / Struct (connection config,
// setup-test details). Iterative depth bounds, never throws.
#ifndef FIVETRAN_GATEWAY_WIRE_JSON_VALUE_H_
#define FIVETRAN_GATEWAY_WIRE_JSON_VALUE_H_

#include "absl/status/statusor.h"
#include "google/protobuf/struct.pb.h"
#include "nlohmann/json.hpp"

namespace fivetran_gateway::wire {

// "null", "boolean", "integer", "number", "string", "array" or "object".
const char* JsonTypeName(const nlohmann::json& j);

// JSON -> google.protobuf.Value, any JSON type. Numbers become doubles, so
// integers beyond +-2^53 lose precision (google.protobuf.Value cannot hold
// them exactly). Nesting deeper than 200 levels is cut off with null values.
google::protobuf::Value ValueFromJson(const nlohmann::json& j);

// Containers nested deeper than this in a Value the gateway returns come as
// their JSON text. Each JSON level is three message levels (Value, Struct,
// map entry), and protobuf's parsers refuse messages nested deeper than 100
// by default: with 30, a config or a setup test's details stays under that
// in every response.
inline constexpr int kMaxReturnedValueDepth = 30;
// ValueFromJson for a value the gateway returns (a config, details): an
// object or array nested deeper than kMaxReturnedValueDepth levels (`j`
// itself is level 1) is a string_value holding its compact JSON text, so a
// stock client can read the response.
google::protobuf::Value ReturnedValueFromJson(const nlohmann::json& j);
// JSON object -> google.protobuf.Struct; InvalidArgumentError for any other
// JSON type.
absl::StatusOr<google::protobuf::Struct> StructFromJson(const nlohmann::json& j);
// google.protobuf.Value -> JSON. Finite integral doubles within the int64
// range become JSON integers (21.0 -> 21, so a port is sent as 21); other
// doubles stay floats; NaN and infinities (not representable in JSON) and an
// unset kind become null.
nlohmann::json JsonFromValue(const google::protobuf::Value& v);
nlohmann::json JsonFromStruct(const google::protobuf::Struct& s);

}  // namespace fivetran_gateway::wire

#endif  // FIVETRAN_GATEWAY_WIRE_JSON_VALUE_H_
