#include "client/fivetranctl/proto_json.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <utility>
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

// Whether a byte needs an escape in a JSON string: control characters, '"' and '\\'.
inline bool NeedsEscape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

// Whether any of the 8 bytes of `w` needs an escape (exact; bit tricks of "has a zero byte" and
// "has a byte less than n").
inline bool AnyNeedsEscape(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  const uint64_t quote = w ^ (kOnes * '"');
  const uint64_t backslash = w ^ (kOnes * '\\');
  return (((w - kOnes * 0x20) & ~w) | ((quote - kOnes) & ~quote) |
          ((backslash - kOnes) & ~backslash)) &
         kHigh;
}

void AppendString(absl::string_view s, std::string* out) {
  out->push_back('"');
  const char* p = s.data();
  const size_t n = s.size();
  size_t run = 0;  // Start of the characters not yet appended.
  size_t i = 0;
  while (true) {
    while (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      if (AnyNeedsEscape(w)) break;
      i += 8;
    }
    while (i < n && !NeedsEscape(static_cast<unsigned char>(p[i]))) ++i;
    if (i == n) break;
    const unsigned char c = static_cast<unsigned char>(p[i]);
    out->append(p + run, i - run);
    run = ++i;
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
  out->append(p + run, n - run);
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
  // Whole numbers below 1e15 (ports, counts): "%.15g" prints their digits, nothing else.
  if (digits >= 15 && value == std::trunc(value) && std::fabs(value) < 1e15 &&
      !(value == 0 && std::signbit(value))) {
    absl::StrAppend(out, static_cast<int64_t>(value));
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
  using Entry = google::protobuf::Map<std::string, google::protobuf::Value>::value_type;
  const auto& fields = s.fields();
  const Entry* on_stack[32];
  std::vector<const Entry*> on_heap;
  const Entry** entries = on_stack;
  if (fields.size() > 32) {
    on_heap.resize(fields.size());
    entries = on_heap.data();
  }
  size_t n = 0;
  for (const Entry& entry : fields) entries[n++] = &entry;
  std::sort(entries, entries + n,
            [](const Entry* a, const Entry* b) { return a->first < b->first; });
  out->push_back('{');
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) out->push_back(',');
    AppendString(entries[i]->first, out);
    out->push_back(':');
    AppendValue(entries[i]->second, out);
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

// How a message type prints: the well-known types with their own JSON form, else field by field.
enum class Form { kFields, kTimestamp, kDuration, kStruct, kValue, kListValue, kWrapper, kLibrary };

struct FieldPlan {
  const FieldDescriptor* field;
  std::string key;    // The JSON-quoted name and ':'.
  bool skip_unset;    // Unset messages, `optional` scalars and oneof members are left out.
  bool is_null_enum;  // google.protobuf.NullValue: always null.
};

struct MessagePlan {
  Form form = Form::kFields;
  std::vector<FieldPlan> fields;             // kFields: in declaration order
  const FieldDescriptor* seconds = nullptr;  // kTimestamp, kDuration
  const FieldDescriptor* nanos = nullptr;
};

std::unique_ptr<MessagePlan> MakePlan(const Descriptor* d) {
  auto plan = std::make_unique<MessagePlan>();
  if (d->file()->package() == "google.protobuf") {
    const std::string& name = d->name();
    if (name == "Timestamp" || name == "Duration") {
      plan->form = name == "Timestamp" ? Form::kTimestamp : Form::kDuration;
      plan->seconds = d->FindFieldByNumber(1);
      plan->nanos = d->FindFieldByNumber(2);
      return plan;
    }
    if (name == "Struct")
      plan->form = Form::kStruct;
    else if (name == "Value")
      plan->form = Form::kValue;
    else if (name == "ListValue")
      plan->form = Form::kListValue;
    else if (absl::EndsWith(name, "Value") && d->field_count() == 1)
      plan->form = Form::kWrapper;
    else if (name == "Any" || name == "FieldMask")
      plan->form = Form::kLibrary;
    // Empty and the rest print as ordinary messages.
  }
  for (int f = 0; f < d->field_count(); ++f) {
    const FieldDescriptor* field = d->field(f);
    FieldPlan fp{field, "", !field->is_repeated() && field->has_presence(),
                 field->cpp_type() == FieldDescriptor::CPPTYPE_ENUM &&
                     field->enum_type()->full_name() == "google.protobuf.NullValue"};
    AppendString(field->name(), &fp.key);
    fp.key.push_back(':');
    plan->fields.push_back(std::move(fp));
  }
  return plan;
}

// The plan of `d`, made once per thread.
const MessagePlan& PlanOf(const Descriptor* d) {
  thread_local std::unordered_map<const Descriptor*, std::unique_ptr<MessagePlan>> plans;
  thread_local const Descriptor* last = nullptr;
  thread_local const MessagePlan* last_plan = nullptr;
  if (d == last) return *last_plan;
  std::unique_ptr<MessagePlan>& plan = plans[d];
  if (plan == nullptr) plan = MakePlan(d);
  last = d;
  last_plan = plan.get();
  return *plan;
}

void AppendTwoDigits(int v, std::string* out) {
  out->push_back(static_cast<char>('0' + v / 10));
  out->push_back(static_cast<char>('0' + v % 10));
}

// "2025-03-02T09:14:07" of Unix time `seconds`, as absl::FormatTime("%Y-%m-%dT%H:%M:%S") in
// UTC prints it.
void AppendUtcTime(int64_t seconds, std::string* out) {
  // Days since 1970-01-01 to a civil date (H. Hinnant's days_from_civil, inverted).
  const int64_t days = seconds >= 0 ? seconds / 86400 : -((-seconds + 86399) / 86400);
  const int64_t second_of_day = seconds - days * 86400;
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  const int64_t year = yoe + era * 400 + (month <= 2);
  if (year < 1000 || year > 9999) {  // %Y does not pad: absl's own text.
    out->append(
        absl::FormatTime("%Y-%m-%dT%H:%M:%S", absl::FromUnixSeconds(seconds), absl::UTCTimeZone()));
    return;
  }
  AppendTwoDigits(static_cast<int>(year / 100), out);
  AppendTwoDigits(static_cast<int>(year % 100), out);
  out->push_back('-');
  AppendTwoDigits(month, out);
  out->push_back('-');
  AppendTwoDigits(day, out);
  out->push_back('T');
  AppendTwoDigits(static_cast<int>(second_of_day / 3600), out);
  out->push_back(':');
  AppendTwoDigits(static_cast<int>(second_of_day / 60 % 60), out);
  out->push_back(':');
  AppendTwoDigits(static_cast<int>(second_of_day % 60), out);
}

void AppendMessage(const Message& m, std::string* out) {
  const Descriptor* d = m.GetDescriptor();
  const MessagePlan& plan = PlanOf(d);
  const Reflection* r = m.GetReflection();
  switch (plan.form) {
    case Form::kTimestamp:
      out->push_back('"');
      AppendUtcTime(r->GetInt64(m, plan.seconds), out);
      AppendNanos(r->GetInt32(m, plan.nanos), out);
      out->append("Z\"");
      return;
    case Form::kDuration: {
      const int64_t seconds = r->GetInt64(m, plan.seconds);
      const int32_t nanos = r->GetInt32(m, plan.nanos);
      out->push_back('"');
      if (seconds < 0 || nanos < 0) out->push_back('-');
      absl::StrAppend(out, std::llabs(seconds));
      AppendNanos(std::abs(nanos), out);
      out->append("s\"");
      return;
    }
    case Form::kStruct:
      return AppendStruct(static_cast<const google::protobuf::Struct&>(m), out);
    case Form::kValue:
      return AppendValue(static_cast<const google::protobuf::Value&>(m), out);
    case Form::kListValue:
      return AppendList(static_cast<const google::protobuf::ListValue&>(m), out);
    case Form::kWrapper:  // Just the value.
      return AppendField(m, d->field(0), -1, out);
    case Form::kLibrary: {  // Any, FieldMask: not in this API; the library's form.
      std::string json;
      google::protobuf::util::JsonPrintOptions options;
      options.preserve_proto_field_names = true;
      if (!google::protobuf::util::MessageToJsonString(m, &json, options).ok()) json = "null";
      out->append(json);
      return;
    }
    case Form::kFields:
      break;
  }
  out->push_back('{');
  bool first = true;
  for (const FieldPlan& fp : plan.fields) {
    const FieldDescriptor* field = fp.field;
    // Other scalars print their default; repeated fields print even empty.
    if (fp.skip_unset && !r->HasField(m, field)) continue;
    if (!first) out->push_back(',');
    first = false;
    out->append(fp.key);
    if (field->is_map()) {
      AppendMap(m, field, out);
    } else if (field->is_repeated()) {
      out->push_back('[');
      const int size = r->FieldSize(m, field);
      for (int i = 0; i < size; ++i) {
        if (i > 0) out->push_back(',');
        AppendField(m, field, i, out);
      }
      out->push_back(']');
    } else if (fp.is_null_enum) {
      out->append("null");
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
