#include "client/fivetranctl/proto_json.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/stubs/common.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
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

// "2025-03-02T09:14:07" of Unix time `seconds`, as absl::FormatTime("%E4Y-%m-%dT%H:%M:%S") in
// UTC prints it: RFC 3339's four-digit year ("0099-06-01T..."), as protobuf's JSON mapping.
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
  if (year < 0 || year > 9999) {  // Beyond four digits: absl's own text.
    out->append(absl::FormatTime("%E4Y-%m-%dT%H:%M:%S", absl::FromUnixSeconds(seconds),
                                 absl::UTCTimeZone()));
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

void AppendTimestamp(int64_t seconds, int32_t nanos, std::string* out) {
  out->push_back('"');
  AppendUtcTime(seconds, out);
  AppendNanos(nanos, out);
  out->append("Z\"");
}

void AppendDuration(int64_t seconds, int32_t nanos, std::string* out) {
  out->push_back('"');
  if (seconds < 0 || nanos < 0) out->push_back('-');
  absl::StrAppend(out, std::llabs(seconds));
  AppendNanos(std::abs(nanos), out);
  out->append("s\"");
}

void AppendMessage(const Message& m, std::string* out) {
  const Descriptor* d = m.GetDescriptor();
  const MessagePlan& plan = PlanOf(d);
  const Reflection* r = m.GetReflection();
  switch (plan.form) {
    case Form::kTimestamp:
      return AppendTimestamp(r->GetInt64(m, plan.seconds), r->GetInt32(m, plan.nanos), out);
    case Form::kDuration:
      return AppendDuration(r->GetInt64(m, plan.seconds), r->GetInt32(m, plan.nanos), out);
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

// ---------------------------------------------------------------------------------------------
// From the wire: the same text, read straight from the protobuf binary form, without building
// the message. Anything this does not read exactly as the parser would (merged or repeated
// singular messages, several members of one oneof, map fields, wire types that do not match the
// field, groups, Any) makes it give up, and the caller parses instead.

// One field of a message on the wire: its number, wire type and value (varint or fixed bits), or
// its bytes (length-delimited).
struct WireField {
  uint32_t number;
  uint32_t wire_type;
  uint64_t value;
  absl::string_view bytes;
};

constexpr int kMaxWireDepth = 100;  // The parser's recursion limit.

bool ReadVarint(const char** p, const char* end, uint64_t* value) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*p == end) return false;
    const uint8_t byte = static_cast<uint8_t>(*(*p)++);
    v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *value = v;
      return true;
    }
  }
  return false;
}

bool ReadFixed(const char** p, const char* end, int size, uint64_t* value) {
  if (end - *p < size) return false;
  uint64_t v = 0;
  for (int i = size - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>((*p)[i]);
  *p += size;
  *value = v;
  return true;
}

// The fields of `wire`, sorted by number (the order on the wire within one number); false for a
// malformed message or a group.
bool ScanWire(absl::string_view wire, std::vector<WireField>* fields) {
  fields->clear();
  const char* p = wire.data();
  const char* end = p + wire.size();
  bool sorted = true;
  while (p < end) {
    uint64_t tag;
    if (!ReadVarint(&p, end, &tag) || tag > 0xffffffffu) return false;
    WireField f{static_cast<uint32_t>(tag >> 3), static_cast<uint32_t>(tag & 7), 0, {}};
    if (f.number == 0) return false;
    switch (f.wire_type) {
      case 0:
        if (!ReadVarint(&p, end, &f.value)) return false;
        break;
      case 1:
        if (!ReadFixed(&p, end, 8, &f.value)) return false;
        break;
      case 5:
        if (!ReadFixed(&p, end, 4, &f.value)) return false;
        break;
      case 2: {
        uint64_t size;
        if (!ReadVarint(&p, end, &size) || size > static_cast<uint64_t>(end - p)) return false;
        f.bytes = absl::string_view(p, static_cast<size_t>(size));
        p += size;
        break;
      }
      default:
        return false;
    }
    if (!fields->empty() && fields->back().number > f.number) sorted = false;
    fields->push_back(f);
  }
  if (!sorted) {
    std::stable_sort(fields->begin(), fields->end(),
                     [](const WireField& a, const WireField& b) { return a.number < b.number; });
  }
  return true;
}

// A scratch list of fields per nesting level, reused from message to message.
std::vector<WireField>& ScratchFields(int depth) {
  thread_local std::deque<std::vector<WireField>> levels;  // Growing keeps references.
  if (static_cast<size_t>(depth) >= levels.size()) levels.resize(depth + 1);
  return levels[depth];
}

// The wire type a singular value of `field` has: 0 varint, 1 64-bit, 5 32-bit, 2 bytes.
uint32_t WireTypeOf(const FieldDescriptor* field) {
  switch (field->type()) {
    case FieldDescriptor::TYPE_DOUBLE:
    case FieldDescriptor::TYPE_FIXED64:
    case FieldDescriptor::TYPE_SFIXED64:
      return 1;
    case FieldDescriptor::TYPE_FLOAT:
    case FieldDescriptor::TYPE_FIXED32:
    case FieldDescriptor::TYPE_SFIXED32:
      return 5;
    case FieldDescriptor::TYPE_STRING:
    case FieldDescriptor::TYPE_BYTES:
    case FieldDescriptor::TYPE_MESSAGE:
    case FieldDescriptor::TYPE_GROUP:
      return 2;
    default:
      return 0;
  }
}

// Structurally valid UTF-8, as the parser checks proto3 strings; ASCII 8 bytes at a time.
bool IsUtf8(absl::string_view s) {
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    if (w & 0x8080808080808080ULL) break;
  }
  while (i < s.size() && static_cast<unsigned char>(s[i]) < 0x80) ++i;
  if (i == s.size()) return true;
  return google::protobuf::internal::IsStructurallyValidUTF8(s.data() + i,
                                                             static_cast<int>(s.size() - i));
}

bool ValidUtf8(const FieldDescriptor* field, absl::string_view s) {
  if (field->file()->syntax() != google::protobuf::FileDescriptor::SYNTAX_PROTO3) return true;
  return IsUtf8(s);
}

// A scalar (not string, bytes or message) of `field` from its raw wire value.
void AppendWireScalar(const FieldDescriptor* field, bool null_enum, uint64_t raw,
                      std::string* out) {
  switch (field->type()) {
    case FieldDescriptor::TYPE_INT32:
    case FieldDescriptor::TYPE_SFIXED32:
      return absl::StrAppend(out, static_cast<int32_t>(raw));
    case FieldDescriptor::TYPE_SINT32: {
      const uint32_t u = static_cast<uint32_t>(raw);
      return absl::StrAppend(out, static_cast<int32_t>((u >> 1) ^ (~(u & 1) + 1)));
    }
    case FieldDescriptor::TYPE_UINT32:
    case FieldDescriptor::TYPE_FIXED32:
      return absl::StrAppend(out, static_cast<uint32_t>(raw));
    case FieldDescriptor::TYPE_INT64:
    case FieldDescriptor::TYPE_SFIXED64:
      return absl::StrAppend(out, "\"", static_cast<int64_t>(raw), "\"");
    case FieldDescriptor::TYPE_SINT64:
      return absl::StrAppend(out, "\"", static_cast<int64_t>((raw >> 1) ^ (~(raw & 1) + 1)), "\"");
    case FieldDescriptor::TYPE_UINT64:
    case FieldDescriptor::TYPE_FIXED64:
      return absl::StrAppend(out, "\"", raw, "\"");
    case FieldDescriptor::TYPE_BOOL:
      out->append(raw != 0 ? "true" : "false");
      return;
    case FieldDescriptor::TYPE_ENUM: {
      if (null_enum) {
        out->append("null");
        return;
      }
      const int number = static_cast<int32_t>(raw);
      const auto* value = field->enum_type()->FindValueByNumber(number);
      if (value == nullptr) return absl::StrAppend(out, number);  // Unknown to this build.
      return AppendString(value->name(), out);
    }
    case FieldDescriptor::TYPE_DOUBLE: {
      double d;
      std::memcpy(&d, &raw, sizeof d);
      return AppendFloating(d, 15, 17, out);
    }
    case FieldDescriptor::TYPE_FLOAT: {
      const uint32_t bits = static_cast<uint32_t>(raw);
      float f;
      std::memcpy(&f, &bits, sizeof f);
      return AppendFloating(f, 6, 9, out);
    }
    default:
      return;
  }
}

bool AppendWireMessage(const Descriptor* d, absl::string_view wire, int depth, std::string* out);

// One value of `field`: `f` on the wire, or its default when null.
bool AppendWireValue(const FieldPlan& fp, const WireField* f, int depth, std::string* out) {
  const FieldDescriptor* field = fp.field;
  if (f != nullptr && f->wire_type != WireTypeOf(field)) return false;
  switch (field->type()) {
    case FieldDescriptor::TYPE_MESSAGE:
      return f != nullptr && AppendWireMessage(field->message_type(), f->bytes, depth + 1, out);
    case FieldDescriptor::TYPE_GROUP:
      return false;
    case FieldDescriptor::TYPE_STRING: {
      const absl::string_view s = f != nullptr ? f->bytes : absl::string_view();
      if (!ValidUtf8(field, s)) return false;
      AppendString(s, out);
      return true;
    }
    case FieldDescriptor::TYPE_BYTES:
      AppendString(absl::Base64Escape(f != nullptr ? f->bytes : absl::string_view()), out);
      return true;
    default:
      AppendWireScalar(field, fp.is_null_enum, f != nullptr ? f->value : 0, out);
      return true;
  }
}

// The values of a repeated field: each its own field on the wire, or packed scalars.
bool AppendWireRepeated(const FieldPlan& fp, const WireField* begin, const WireField* end,
                        int depth, std::string* out) {
  const uint32_t wire_type = WireTypeOf(fp.field);
  out->push_back('[');
  bool first = true;
  for (const WireField* f = begin; f != end; ++f) {
    if (f->wire_type == 2 && wire_type != 2) {  // Packed.
      const char* p = f->bytes.data();
      const char* e = p + f->bytes.size();
      while (p < e) {
        uint64_t raw;
        if (!(wire_type == 0   ? ReadVarint(&p, e, &raw)
              : wire_type == 1 ? ReadFixed(&p, e, 8, &raw)
                               : ReadFixed(&p, e, 4, &raw))) {
          return false;
        }
        if (!first) out->push_back(',');
        first = false;
        AppendWireScalar(fp.field, fp.is_null_enum, raw, out);
      }
      continue;
    }
    if (!first) out->push_back(',');
    first = false;
    if (!AppendWireValue(fp, f, depth, out)) return false;
  }
  out->push_back(']');
  return true;
}

bool AppendWireValueMessage(absl::string_view wire, int depth, std::string* out);

// google.protobuf.Struct: entries {1: key, 2: Value}; the last of equal keys wins; keys sorted.
bool AppendWireStruct(absl::string_view wire, int depth, std::string* out) {
  if (depth > kMaxWireDepth) return false;
  std::vector<WireField>& fields = ScratchFields(depth);
  if (!ScanWire(wire, &fields)) return false;
  struct Entry {
    absl::string_view key;
    absl::string_view value;
    bool has_value;
    size_t index;  // On the wire, among the entries.
  };
  thread_local std::deque<std::vector<Entry>> scratch;  // Per level, as ScratchFields.
  if (static_cast<size_t>(depth) >= scratch.size()) scratch.resize(depth + 1);
  std::vector<Entry>& entries = scratch[depth];
  entries.clear();
  std::vector<WireField>& inner = ScratchFields(depth + 1);
  for (const WireField& f : fields) {
    if (f.number != 1) continue;  // Unknown to Struct.
    if (f.wire_type != 2 || !ScanWire(f.bytes, &inner)) return false;
    Entry e{{}, {}, false, entries.size()};
    bool has_key = false;
    for (const WireField& g : inner) {
      if (g.number > 2) continue;
      if (g.wire_type != 2) return false;
      if (g.number == 1) {
        if (has_key) return false;
        has_key = true;
        e.key = g.bytes;
      } else {
        if (e.has_value) return false;
        e.has_value = true;
        e.value = g.bytes;
      }
    }
    if (!IsUtf8(e.key)) return false;
    entries.push_back(e);
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    const int c = a.key.compare(b.key);
    return c != 0 ? c < 0 : a.index < b.index;
  });
  out->push_back('{');
  bool first = true;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i + 1 < entries.size() && entries[i + 1].key == entries[i].key) continue;  // Last wins.
    if (!first) out->push_back(',');
    first = false;
    AppendString(entries[i].key, out);
    out->push_back(':');
    if (!entries[i].has_value) {
      out->append("null");
    } else if (!AppendWireValueMessage(entries[i].value, depth + 1, out)) {
      return false;
    }
  }
  out->push_back('}');
  return true;
}

// google.protobuf.ListValue: 1: repeated Value.
bool AppendWireList(absl::string_view wire, int depth, std::string* out) {
  if (depth > kMaxWireDepth) return false;
  std::vector<WireField>& fields = ScratchFields(depth);
  if (!ScanWire(wire, &fields)) return false;
  // Copied: the values below reuse this level's scratch list.
  std::vector<absl::string_view> values;
  for (const WireField& f : fields) {
    if (f.number != 1) continue;
    if (f.wire_type != 2) return false;
    values.push_back(f.bytes);
  }
  out->push_back('[');
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out->push_back(',');
    if (!AppendWireValueMessage(values[i], depth + 1, out)) return false;
  }
  out->push_back(']');
  return true;
}

// google.protobuf.Value: one of 1 null, 2 number, 3 string, 4 bool, 5 Struct, 6 ListValue.
bool AppendWireValueMessage(absl::string_view wire, int depth, std::string* out) {
  if (depth > kMaxWireDepth) return false;
  std::vector<WireField>& fields = ScratchFields(depth);
  if (!ScanWire(wire, &fields)) return false;
  const WireField* kind = nullptr;
  for (const WireField& f : fields) {
    if (f.number > 6) continue;
    if (kind != nullptr) return false;  // Two kinds, or a kind twice.
    kind = &f;
  }
  if (kind == nullptr) {
    out->append("null");
    return true;
  }
  const WireField f = *kind;
  static constexpr uint32_t kWireTypes[] = {0, 0, 1, 2, 0, 2, 2};
  if (f.wire_type != kWireTypes[f.number]) return false;
  switch (f.number) {
    case 1:
      out->append("null");
      return true;
    case 2: {
      double d;
      std::memcpy(&d, &f.value, sizeof d);
      AppendFloating(d, 15, 17, out);
      return true;
    }
    case 3:
      if (!IsUtf8(f.bytes)) return false;
      AppendString(f.bytes, out);
      return true;
    case 4:
      out->append(f.value != 0 ? "true" : "false");
      return true;
    case 5:
      return AppendWireStruct(f.bytes, depth + 1, out);
    default:
      return AppendWireList(f.bytes, depth + 1, out);
  }
}

bool AppendWireMessage(const Descriptor* d, absl::string_view wire, int depth, std::string* out) {
  if (depth > kMaxWireDepth) return false;
  const MessagePlan& plan = PlanOf(d);
  switch (plan.form) {
    case Form::kStruct:
      return AppendWireStruct(wire, depth, out);
    case Form::kValue:
      return AppendWireValueMessage(wire, depth, out);
    case Form::kListValue:
      return AppendWireList(wire, depth, out);
    case Form::kLibrary:
      return false;
    default:
      break;
  }
  // proto2 (closed enums, defaults): parse instead.
  if (d->file()->syntax() != google::protobuf::FileDescriptor::SYNTAX_PROTO3) return false;
  std::vector<WireField>& fields = ScratchFields(depth);
  if (!ScanWire(wire, &fields)) return false;
  auto range = [&fields](int number) {
    auto lo = std::lower_bound(fields.begin(), fields.end(), static_cast<uint32_t>(number),
                               [](const WireField& f, uint32_t n) { return f.number < n; });
    auto hi = lo;
    while (hi != fields.end() && hi->number == static_cast<uint32_t>(number)) ++hi;
    return std::make_pair(fields.data() + (lo - fields.begin()),
                          fields.data() + (hi - fields.begin()));
  };
  if (plan.form == Form::kTimestamp || plan.form == Form::kDuration) {
    uint64_t raw[2] = {0, 0};
    for (int i = 0; i < 2; ++i) {
      auto [lo, hi] = range(i + 1);
      if (lo == hi) continue;
      if ((hi - 1)->wire_type != 0) return false;
      raw[i] = (hi - 1)->value;
    }
    const int64_t seconds = static_cast<int64_t>(raw[0]);
    const int32_t nanos = static_cast<int32_t>(raw[1]);
    if (plan.form == Form::kTimestamp) {
      AppendTimestamp(seconds, nanos, out);
    } else {
      AppendDuration(seconds, nanos, out);
    }
    return true;
  }
  // A nested message reuses the next level's scratch list, so this level's stays intact.
  if (plan.form == Form::kWrapper) {
    auto [lo, hi] = range(plan.fields[0].field->number());
    return AppendWireValue(plan.fields[0], lo == hi ? nullptr : hi - 1, depth, out);
  }
  out->push_back('{');
  bool first = true;
  for (const FieldPlan& fp : plan.fields) {
    const FieldDescriptor* field = fp.field;
    auto [lo, hi] = range(field->number());
    if (fp.skip_unset && lo == hi) continue;
    if (!first) out->push_back(',');
    first = false;
    out->append(fp.key);
    if (field->is_map()) {
      if (lo != hi) return false;  // Printed in the map's own order: parse instead.
      out->append("{}");
    } else if (field->is_repeated()) {
      if (!AppendWireRepeated(fp, lo, hi, depth, out)) return false;
    } else {
      if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && hi - lo > 1) return false;
      if (const google::protobuf::OneofDescriptor* oneof = field->real_containing_oneof()) {
        for (int i = 0; i < oneof->field_count(); ++i) {
          const FieldDescriptor* other = oneof->field(i);
          if (other == field) continue;
          auto [olo, ohi] = range(other->number());
          if (olo != ohi) return false;
        }
      }
      if (!AppendWireValue(fp, lo == hi ? nullptr : hi - 1, depth, out)) return false;
    }
  }
  out->push_back('}');
  return true;
}

}  // namespace

void AppendProtoJson(const google::protobuf::Message& message, std::string* out) {
  AppendMessage(message, out);
}

bool AppendProtoJsonFromWire(const google::protobuf::Descriptor* type, absl::string_view wire,
                             std::string* out) {
  const size_t size = out->size();
  if (AppendWireMessage(type, wire, 0, out)) return true;
  out->resize(size);
  return false;
}

bool SplitListPage(absl::string_view wire, const google::protobuf::FieldDescriptor* items,
                   const google::protobuf::FieldDescriptor* token,
                   std::vector<absl::string_view>* item_wires, std::string* token_value) {
  item_wires->clear();
  token_value->clear();
  std::vector<WireField>& fields = ScratchFields(0);
  if (!ScanWire(wire, &fields)) return false;
  for (const WireField& f : fields) {
    if (f.number == static_cast<uint32_t>(items->number())) {
      if (f.wire_type != 2) return false;
      item_wires->push_back(f.bytes);
    } else if (f.number == static_cast<uint32_t>(token->number())) {
      if (f.wire_type != 2 || !ValidUtf8(token, f.bytes)) return false;
      token_value->assign(f.bytes.data(), f.bytes.size());  // The last one wins.
    }
  }
  return true;
}

}  // namespace fivetranctl
