#include "client/fivetranctl/proto_json.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace fivetranctl {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

void AppendString(absl::string_view s, std::string* out) {
  out->push_back('"');
  size_t run = 0;  // Start of the characters not yet appended.
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default: {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out->append(buf);
      }
    }
  }
  out->append(s.data() + run, s.size() - run);
  out->push_back('"');
}

// The shortest of `digits` (then `fallback`) significant digits that reads
// back as the same value, as protobuf's SimpleDtoa / SimpleFtoa.
template <typename T>
void AppendFloating(T value, int digits, int fallback, std::string* out) {
  if (std::isnan(value)) {
    out->append("\"NaN\"");
    return;
  }
  if (std::isinf(value)) {
    out->append(value > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    return;
  }
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.*g", digits, static_cast<double>(value));
  if (static_cast<T>(std::strtod(buf, nullptr)) != value) {
    std::snprintf(buf, sizeof buf, "%.*g", fallback, static_cast<double>(value));
  }
  out->append(buf);
}

// ".5" -> 3, 6 or 9 fraction digits, none for whole seconds (RFC 3339 and
// protobuf's Duration rule alike).
void AppendNanos(int32_t nanos, std::string* out) {
  if (nanos == 0) return;
  char buf[16];
  if (nanos % 1000000 == 0) {
    std::snprintf(buf, sizeof buf, ".%03d", nanos / 1000000);
  } else if (nanos % 1000 == 0) {
    std::snprintf(buf, sizeof buf, ".%06d", nanos / 1000);
  } else {
    std::snprintf(buf, sizeof buf, ".%09d", nanos);
  }
  out->append(buf);
}

void AppendMessage(const Message& message, std::string* out);

void AppendValue(const google::protobuf::Value& value, std::string* out);

void AppendStruct(const google::protobuf::Struct& s, std::string* out) {
  // Keys sorted: the same object prints the same way every time.
  std::vector<const std::string*> keys;
  keys.reserve(s.fields().size());
  for (const auto& entry : s.fields()) keys.push_back(&entry.first);
  std::sort(keys.begin(), keys.end(),
            [](const std::string* a, const std::string* b) { return *a < *b; });
  out->push_back('{');
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendString(*keys[i], out);
    out->push_back(':');
    AppendValue(s.fields().at(*keys[i]), out);
  }
  out->push_back('}');
}

void AppendList(const google::protobuf::ListValue& list, std::string* out) {
  out->push_back('[');
  for (int i = 0; i < list.values_size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendValue(list.values(i), out);
  }
  out->push_back(']');
}

void AppendValue(const google::protobuf::Value& value, std::string* out) {
  switch (value.kind_case()) {
    case google::protobuf::Value::kNumberValue:
      return AppendFloating(value.number_value(), 15, 17, out);
    case google::protobuf::Value::kStringValue:
      return AppendString(value.string_value(), out);
    case google::protobuf::Value::kBoolValue:
      out->append(value.bool_value() ? "true" : "false");
      return;
    case google::protobuf::Value::kStructValue:
      return AppendStruct(value.struct_value(), out);
    case google::protobuf::Value::kListValue:
      return AppendList(value.list_value(), out);
    default:  // null_value, or no kind set.
      out->append("null");
      return;
  }
}

// One value of `field` (index `i` when repeated, else -1).
void AppendField(const Message& m, const FieldDescriptor* field, int i, std::string* out) {
  const Reflection* r = m.GetReflection();
  const bool rep = i >= 0;
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return absl::StrAppend(out, rep ? r->GetRepeatedInt32(m, field, i) : r->GetInt32(m, field));
    case FieldDescriptor::CPPTYPE_UINT32:
      return absl::StrAppend(out, rep ? r->GetRepeatedUInt32(m, field, i) : r->GetUInt32(m, field));
    case FieldDescriptor::CPPTYPE_INT64:  // 64-bit integers are strings in proto3 JSON.
      return absl::StrAppend(out, "\"",
                             rep ? r->GetRepeatedInt64(m, field, i) : r->GetInt64(m, field), "\"");
    case FieldDescriptor::CPPTYPE_UINT64:
      return absl::StrAppend(
          out, "\"", rep ? r->GetRepeatedUInt64(m, field, i) : r->GetUInt64(m, field), "\"");
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return AppendFloating(rep ? r->GetRepeatedDouble(m, field, i) : r->GetDouble(m, field), 15,
                            17, out);
    case FieldDescriptor::CPPTYPE_FLOAT:
      return AppendFloating(rep ? r->GetRepeatedFloat(m, field, i) : r->GetFloat(m, field), 6, 9,
                            out);
    case FieldDescriptor::CPPTYPE_BOOL: {
      const bool b = rep ? r->GetRepeatedBool(m, field, i) : r->GetBool(m, field);
      out->append(b ? "true" : "false");
      return;
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      if (field->enum_type()->full_name() == "google.protobuf.NullValue") {
        out->append("null");
        return;
      }
      const int number = rep ? r->GetRepeatedEnumValue(m, field, i) : r->GetEnumValue(m, field);
      const auto* value = field->enum_type()->FindValueByNumber(number);
      if (value == nullptr) return absl::StrAppend(out, number);  // Unknown to this build.
      return AppendString(value->name(), out);
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string scratch;
      const std::string& s = rep ? r->GetRepeatedStringReference(m, field, i, &scratch)
                                 : r->GetStringReference(m, field, &scratch);
      if (field->type() == FieldDescriptor::TYPE_BYTES) {
        return AppendString(absl::Base64Escape(s), out);
      }
      return AppendString(s, out);
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return AppendMessage(rep ? r->GetRepeatedMessage(m, field, i) : r->GetMessage(m, field), out);
  }
}

// A map field: a JSON object keyed by the entries' keys as strings.
void AppendMap(const Message& m, const FieldDescriptor* field, std::string* out) {
  const Reflection* r = m.GetReflection();
  const FieldDescriptor* key = field->message_type()->map_key();
  const FieldDescriptor* value = field->message_type()->map_value();
  out->push_back('{');
  for (int i = 0; i < r->FieldSize(m, field); ++i) {
    const Message& entry = r->GetRepeatedMessage(m, field, i);
    if (i > 0) out->push_back(',');
    if (key->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
      AppendField(entry, key, -1, out);
    } else {
      std::string k;
      AppendField(entry, key, -1, &k);
      if (k.front() != '"') k = absl::StrCat("\"", k, "\"");
      out->append(k);
    }
    out->push_back(':');
    AppendField(entry, value, -1, out);
  }
  out->push_back('}');
}

// Well-known types with their own JSON form; false for any other message.
bool AppendWellKnown(const Message& m, std::string* out) {
  const Descriptor* d = m.GetDescriptor();
  if (d->file()->package() != "google.protobuf") return false;
  const std::string& name = d->name();
  const Reflection* r = m.GetReflection();
  if (name == "Timestamp") {
    const int64_t seconds = r->GetInt64(m, d->FindFieldByNumber(1));
    const int32_t nanos = r->GetInt32(m, d->FindFieldByNumber(2));
    out->push_back('"');
    out->append(
        absl::FormatTime("%Y-%m-%dT%H:%M:%S", absl::FromUnixSeconds(seconds), absl::UTCTimeZone()));
    AppendNanos(nanos, out);
    out->append("Z\"");
    return true;
  }
  if (name == "Duration") {
    const int64_t seconds = r->GetInt64(m, d->FindFieldByNumber(1));
    const int32_t nanos = r->GetInt32(m, d->FindFieldByNumber(2));
    out->push_back('"');
    if (seconds < 0 || nanos < 0) out->push_back('-');
    absl::StrAppend(out, std::llabs(seconds));
    AppendNanos(std::abs(nanos), out);
    out->append("s\"");
    return true;
  }
  if (name == "Struct")
    return AppendStruct(static_cast<const google::protobuf::Struct&>(m), out), true;
  if (name == "Value")
    return AppendValue(static_cast<const google::protobuf::Value&>(m), out), true;
  if (name == "ListValue") {
    return AppendList(static_cast<const google::protobuf::ListValue&>(m), out), true;
  }
  if (absl::EndsWith(name, "Value") && d->field_count() == 1) {  // Wrappers: just the value.
    AppendField(m, d->field(0), -1, out);
    return true;
  }
  if (name == "Any" || name == "FieldMask") {  // Not in this API; the library's form.
    std::string json;
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    if (!google::protobuf::util::MessageToJsonString(m, &json, options).ok()) json = "null";
    out->append(json);
    return true;
  }
  return false;  // Empty and the rest print as ordinary messages.
}

void AppendMessage(const Message& m, std::string* out) {
  if (AppendWellKnown(m, out)) return;
  const Descriptor* d = m.GetDescriptor();
  const Reflection* r = m.GetReflection();
  out->push_back('{');
  bool first = true;
  for (int f = 0; f < d->field_count(); ++f) {
    const FieldDescriptor* field = d->field(f);
    // Unset messages, `optional` scalars and oneof members are left out;
    // other scalars print their default; repeated fields print even empty.
    if (!field->is_repeated() && field->has_presence() && !r->HasField(m, field)) continue;
    if (!first) out->push_back(',');
    first = false;
    AppendString(field->name(), out);
    out->push_back(':');
    if (field->is_map()) {
      AppendMap(m, field, out);
    } else if (field->is_repeated()) {
      out->push_back('[');
      for (int i = 0; i < r->FieldSize(m, field); ++i) {
        if (i > 0) out->push_back(',');
        AppendField(m, field, i, out);
      }
      out->push_back(']');
    } else {
      AppendField(m, field, -1, out);
    }
  }
  out->push_back('}');
}

}  // namespace

void AppendProtoJson(const google::protobuf::Message& message, std::string* out) {
  AppendMessage(message, out);
}

}  // namespace fivetranctl
