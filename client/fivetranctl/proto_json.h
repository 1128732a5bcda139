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

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace fivetranctl {

// One line of JSON (no whitespace, no newline), appended to `out`.
void AppendProtoJson(const google::protobuf::Message& message, std::string* out);

// The same text as AppendProtoJson of the message of type `type` that `wire` (protobuf's binary
// form) parses to, read straight from `wire` without building the message (several times
// cheaper: no allocation per field, no map of Struct entries). False, with `out` unchanged, when
// `wire` is not in the shape this reads exactly as the parser would (malformed or invalid UTF-8
// included): parse it and use AppendProtoJson then.
bool AppendProtoJsonFromWire(const google::protobuf::Descriptor* type, absl::string_view wire,
                             std::string* out);

// A listing response on the wire, split without parsing its items: the wire form of each item of
// `items` (a repeated message field) in order, and the value of the string field `token` ("" when
// absent). False when the response is malformed or not as the parser would read it: parse it.
bool SplitListPage(absl::string_view wire, const google::protobuf::FieldDescriptor* items,
                   const google::protobuf::FieldDescriptor* token,
                   std::vector<absl::string_view>* item_wires, std::string* token_value);

}  // namespace fivetranctl

#endif  // FIVETRAN_GATEWAY_CLIENT_FIVETRANCTL_PROTO_JSON_H_
