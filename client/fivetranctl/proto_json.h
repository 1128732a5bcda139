// Proto3 JSON of a message, as protobuf's MessageToJsonString prints it with
// preserve_proto_field_names and always_print_primitive_fields: field names
// as in the .proto, unset scalars and enums printed with their default,
// empty repeated fields as [], unset messages and unset `optional` fields
// left out, int64 as strings, enums by name, Timestamp as RFC 3339,
// Duration as "1.5s", Struct/Value/ListValue as plain JSON, wrappers as
// their value.
//
// Why not MessageToJsonString: protobuf 3.21 (Debian 12) builds a tree of
// default values for every message it prints, about 150 µs for one
// Connection; a 20,000-row `--all -o jsonl` listing spent 3 s of CPU there.
// This prints straight from reflection (about 10x cheaper), and
// proto_json_test checks it against MessageToJsonString value for value.
#ifndef FIVETRAN_GATEWAY_CLIENT_FIVETRANCTL_PROTO_JSON_H_
#define FIVETRAN_GATEWAY_CLIENT_FIVETRANCTL_PROTO_JSON_H_

#include <google/protobuf/message.h>

#include <string>

namespace fivetranctl {

// One line of JSON (no whitespace, no newline), appended to `out`.
void AppendProtoJson(const google::protobuf::Message& message, std::string* out);

}  // namespace fivetranctl

#endif  // FIVETRAN_GATEWAY_CLIENT_FIVETRANCTL_PROTO_JSON_H_
