#include "wire/json_value.h"

#include <cmath>
#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"

namespace fivetran_gateway::wire {
namespace {

using ::google::protobuf::Struct;
using ::google::protobuf::Value;
using ::nlohmann::json;

constexpr int kMaxValueDepth = 200;

// `text_below`: containers deeper than this become their JSON text (0: none).
Value ValueFromJsonAt(const json& j, int depth, int text_below = 0) {
  Value v;
  if (depth > kMaxValueDepth) {
    v.set_null_value(google::protobuf::NULL_VALUE);
    return v;
  }
  if (text_below > 0 && depth > text_below && (j.is_object() || j.is_array())) {
    v.set_string_value(j.dump(-1, ' ', false, json::error_handler_t::replace));
    return v;
  }
  switch (j.type()) {
    case json::value_t::boolean:
      v.set_bool_value(j.get<bool>());
      break;
    case json::value_t::number_integer:
      v.set_number_value(static_cast<double>(j.get<int64_t>()));
      break;
    case json::value_t::number_unsigned:
      v.set_number_value(static_cast<double>(j.get<uint64_t>()));
      break;
    case json::value_t::number_float:
      v.set_number_value(j.get<double>());
      break;
    case json::value_t::string:
      v.set_string_value(j.get<std::string>());
      break;
    case json::value_t::array: {
      auto* list = v.mutable_list_value();
      for (const auto& e : j) *list->add_values() = ValueFromJsonAt(e, depth + 1, text_below);
      break;
    }
    case json::value_t::object: {
      auto* fields = v.mutable_struct_value()->mutable_fields();
      for (const auto& [k, e] : j.items()) {
        (*fields)[k] = ValueFromJsonAt(e, depth + 1, text_below);
      }
      break;
    }
    default:  // null, binary, discarded
      v.set_null_value(google::protobuf::NULL_VALUE);
      break;
  }
  return v;
}

json JsonFromValueAt(const Value& v, int depth) {
  if (depth > kMaxValueDepth) return nullptr;
  switch (v.kind_case()) {
    case Value::kBoolValue:
      return v.bool_value();
    case Value::kNumberValue: {
      const double d = v.number_value();
      if (!std::isfinite(d)) return nullptr;
      // 2^63 is exactly representable; every double below it in magnitude that is integral
      // fits int64.
      constexpr double kTwo63 = 9223372036854775808.0;
      if (std::trunc(d) == d && d >= -kTwo63 && d < kTwo63) return static_cast<int64_t>(d);
      return d;
    }
    case Value::kStringValue:
      return v.string_value();
    case Value::kListValue: {
      json arr = json::array();
      for (const auto& e : v.list_value().values()) arr.push_back(JsonFromValueAt(e, depth + 1));
      return arr;
    }
    case Value::kStructValue: {
      json obj = json::object();
      for (const auto& [k, e] : v.struct_value().fields()) obj[k] = JsonFromValueAt(e, depth + 1);
      return obj;
    }
    default:  // null_value or kind not set
      return nullptr;
  }
}

}  // namespace

const char* JsonTypeName(const json& j) {
  switch (j.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "integer";
    case json::value_t::number_float:
      return "number";
    case json::value_t::string:
      return "string";
    case json::value_t::array:
      return "array";
    case json::value_t::object:
      return "object";
    default:
      return "unknown value";
  }
}

Value ValueFromJson(const nlohmann::json& j) { return ValueFromJsonAt(j, 1); }

Value ReturnedValueFromJson(const nlohmann::json& j) {
  return ValueFromJsonAt(j, 1, kMaxReturnedValueDepth);
}

absl::StatusOr<Struct> StructFromJson(const nlohmann::json& j) {
  if (!j.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a JSON object, got ", JsonTypeName(j)));
  }
  Value v = ValueFromJsonAt(j, 1);
  return std::move(*v.mutable_struct_value());
}

nlohmann::json JsonFromValue(const Value& v) { return JsonFromValueAt(v, 1); }

nlohmann::json JsonFromStruct(const Struct& s) {
  json obj = json::object();
  for (const auto& [k, e] : s.fields()) obj[k] = JsonFromValueAt(e, 2);
  return obj;
}

}  // namespace fivetran_gateway::wire
