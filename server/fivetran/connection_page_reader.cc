// The fast path of a page of connections (connection_page_reader.h). Each
// reader below mirrors one of the general path's, in json_reader.h (Reader)
// and response_mapping.cc (ConnectionFromJson), on the value ScrubJson would
// have left; where the general path would record an error, this one declines.
#include "server/fivetran/connection_page_reader.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/common/secrets.h"
#include "server/fivetran/mapping.h"
#include "server/fivetran/proto_wire_writer.h"
#include "wire/enum_names.h"
#include "wire/json_value.h"
#include "wire/timestamps.h"

namespace fivetran_gateway::fivetran {
namespace {

namespace v1 = ::fivetran::gateway::v1;
using ::google::protobuf::Struct;
using ::google::protobuf::Value;
using simdjson::dom::element;
using simdjson::dom::element_type;

constexpr int kMaxDepth = 100;  // as ParseJsonBody

// The container an element of that type holds, by value: a range-for over
// `get_array().value_unsafe()` would iterate a reference to a temporary.
simdjson::dom::array AsArray(const element& e) { return e.get_array().value_unsafe(); }
simdjson::dom::object AsObject(const element& e) { return e.get_object().value_unsafe(); }

// True when a member with this key and value reads as kMasked (ScrubJson).
bool IsMasked(std::string_view key, element value) {
  const element_type t = value.type();
  return t != element_type::NULL_VALUE && t != element_type::BOOL &&
         IsSecretKey(absl::string_view(key.data(), key.size()));
}

// Whether the keys of every object in `root` are distinct. The general path
// keeps only the last of equal keys (as the readers below do, and Struct
// fields decline), so this matters only to walk 1: a dropped member's
// secrets are not the document's.
bool DistinctKeys(element root) {
  thread_local std::vector<std::string_view> keys;
  thread_local std::vector<element> stack;
  stack.assign(1, root);
  while (!stack.empty()) {
    const element e = stack.back();
    stack.pop_back();
    if (e.type() == element_type::ARRAY) {
      for (element child : AsArray(e)) stack.push_back(child);
    } else if (e.type() == element_type::OBJECT) {
      keys.clear();
      for (auto field : AsObject(e)) {
        keys.push_back(field.key);
        stack.push_back(field.value);
      }
      std::sort(keys.begin(), keys.end());
      if (std::adjacent_find(keys.begin(), keys.end()) != keys.end()) return false;
    }
  }
  return true;
}

bool IsContainer(element_type t) { return t == element_type::OBJECT || t == element_type::ARRAY; }

// Walk 1, over the whole document: the general path's check of depth, and
// the secret values ScrubJson keeps from secret members. False: decline.
bool CollectSecrets(element root, DocumentScrubber* scrubber) {
  struct Item {
    element value;
    int depth;
    bool secret;  // at or below a masked member
  };
  bool kept = false;  // a secret value of the document was kept
  // A scalar at or below a masked member. False: decline.
  auto leaf = [scrubber, &kept](const element& e) {
    switch (e.type()) {
      case element_type::STRING: {
        std::string_view s = e.get_string().value_unsafe();
        kept |= scrubber->AddSecretLeaf(absl::string_view(s.data(), s.size()));
        return true;
      }
      case element_type::INT64:
        kept |= scrubber->AddSecretLeaf(absl::StrCat(e.get_int64().value_unsafe()));
        return true;
      case element_type::UINT64:
        kept |= scrubber->AddSecretLeaf(absl::StrCat(e.get_uint64().value_unsafe()));
        return true;
      case element_type::DOUBLE:
        return false;  // its JSON text as the general path writes it is not reproduced here
      default:
        return true;
    }
  };
  thread_local std::vector<Item> stack;
  stack.clear();
  stack.push_back({root, 1, false});
  while (!stack.empty()) {
    const Item item = stack.back();
    stack.pop_back();
    if (item.depth > kMaxDepth) return false;
    if (item.value.type() == element_type::OBJECT) {
      for (auto field : AsObject(item.value)) {
        const bool secret = item.secret || IsMasked(field.key, field.value);
        if (IsContainer(field.value.type())) {
          stack.push_back({field.value, item.depth + 1, secret});
        } else if (secret && !leaf(field.value)) {
          return false;
        }
      }
    } else {
      for (element e : AsArray(item.value)) {
        if (IsContainer(e.type())) {
          stack.push_back({e, item.depth + 1, item.secret});
        } else if (item.secret && !leaf(e)) {
          return false;
        }
      }
    }
  }
  return !kept || DistinctKeys(root);
}

// A member as the general path's Reader sees it after ScrubJson.
struct Scalar {
  enum Kind { kAbsent, kString, kInt, kUint, kDouble, kBool, kObject, kArray } kind = kAbsent;
  std::string string;
  int64_t int_value = 0;
  uint64_t uint_value = 0;
  double double_value = 0;
  bool bool_value = false;
  element value;  // kObject, kArray
};

// Walk 2's state: the scrubber, and whether the page was declined.
class Mapper {
 public:
  explicit Mapper(const DocumentScrubber* scrubber) : scrubber_(scrubber) {}

  bool declined() const { return declined_; }
  void Decline() { declined_ = true; }

  // The member `value` (null or absent: nullptr) of key `masked` status.
  Scalar Resolve(const element* value, bool masked) {
    Scalar s;
    if (value == nullptr) return s;
    if (masked) {
      s.kind = Scalar::kString;
      s.string = std::string(kMasked);
      return s;
    }
    switch (value->type()) {
      case element_type::STRING: {
        std::string_view v = value->get_string().value_unsafe();
        s.kind = Scalar::kString;
        s.string.assign(v.data(), v.size());
        scrubber_->ScrubString(&s.string);
        break;
      }
      case element_type::INT64:
        s.kind = Scalar::kInt;
        s.int_value = value->get_int64().value_unsafe();
        if (scrubber_->MayMaskNumbers()) MaskNumber(absl::StrCat(s.int_value), &s);
        break;
      case element_type::UINT64:
        s.kind = Scalar::kUint;
        s.uint_value = value->get_uint64().value_unsafe();
        if (scrubber_->MayMaskNumbers()) MaskNumber(absl::StrCat(s.uint_value), &s);
        break;
      case element_type::DOUBLE:
        s.kind = Scalar::kDouble;
        s.double_value = value->get_double().value_unsafe();
        if (scrubber_->MayMaskNumbers()) Decline();
        break;
      case element_type::BOOL:
        s.kind = Scalar::kBool;
        s.bool_value = value->get_bool().value_unsafe();
        break;
      case element_type::OBJECT:
        s.kind = Scalar::kObject;
        s.value = *value;
        break;
      case element_type::ARRAY:
        s.kind = Scalar::kArray;
        s.value = *value;
        break;
      default:  // NULL_VALUE: as absent (Reader::Get)
        break;
    }
    return s;
  }

  // Field `field` of the message being written: a google.protobuf.Value,
  // wire::ReturnedValueFromJson of the member's scrubbed value. `depth`: the
  // value's level in it (1 for the top). A container deeper than
  // wire::kMaxReturnedValueDepth declines: the general path gives its text.
  void FillValue(const element& value, bool masked, ProtoWireWriter* w, int field, int depth = 1) {
    w->Begin(field);
    WriteValue(value, masked, w, depth);
    w->End();
  }
  // Field `field`: a google.protobuf.Struct of the object's members.
  void FillStruct(simdjson::dom::object object, ProtoWireWriter* w, int field, int depth = 1) {
    if (depth > wire::kMaxReturnedValueDepth) return Decline();
    w->Begin(field);
    WriteStructFields(object, w, depth);
    w->End();
  }

 private:
  void WriteValue(const element& value, bool masked, ProtoWireWriter* w, int depth) {
    if (masked) return w->String(Value::kStringValueFieldNumber, kMasked);
    switch (value.type()) {
      case element_type::OBJECT:
        return FillStruct(AsObject(value), w, Value::kStructValueFieldNumber, depth);
      case element_type::ARRAY:
        if (depth > wire::kMaxReturnedValueDepth) return Decline();
        w->Begin(Value::kListValueFieldNumber);
        for (element e : AsArray(value)) {
          FillValue(e, false, w, google::protobuf::ListValue::kValuesFieldNumber, depth + 1);
        }
        return w->End();
      case element_type::NULL_VALUE:
        return w->Varint(Value::kNullValueFieldNumber, google::protobuf::NULL_VALUE);
      default:
        break;
    }
    Scalar s = Resolve(&value, false);
    switch (s.kind) {
      case Scalar::kString:
        return w->String(Value::kStringValueFieldNumber, s.string);
      case Scalar::kInt:
        return w->Double(Value::kNumberValueFieldNumber, static_cast<double>(s.int_value));
      case Scalar::kUint:
        return w->Double(Value::kNumberValueFieldNumber, static_cast<double>(s.uint_value));
      case Scalar::kDouble:
        return w->Double(Value::kNumberValueFieldNumber, s.double_value);
      case Scalar::kBool:
        return w->Bool(Value::kBoolValueFieldNumber, s.bool_value);
      default:
        return Decline();
    }
  }

  // A Struct's `fields` map: one entry (key 1, value 2) per member. Equal
  // keys decline (the general path would keep only the last).
  void WriteStructFields(simdjson::dom::object object, ProtoWireWriter* w, int depth) {
    if (!DistinctMembers(object)) return Decline();
    for (auto field : object) {
      w->Begin(Struct::kFieldsFieldNumber);
      w->String(1, absl::string_view(field.key.data(), field.key.size()));
      FillValue(field.value, IsMasked(field.key, field.value), w, 2, depth + 1);
      w->End();
    }
  }

  // Whether the object's keys are distinct (its own members only).
  static bool DistinctMembers(simdjson::dom::object object) {
    thread_local std::vector<std::string_view> keys;
    keys.clear();
    for (auto field : object) keys.push_back(field.key);
    if (keys.size() < 2) return true;
    std::sort(keys.begin(), keys.end());
    return std::adjacent_find(keys.begin(), keys.end()) == keys.end();
  }

  void MaskNumber(const std::string& text, Scalar* s) {
    if (!scrubber_->IsSecretNumber(text)) return;
    s->kind = Scalar::kString;
    s->string = std::string(kMasked);
  }

  const DocumentScrubber* scrubber_;
  bool declined_ = false;
};

// The known keys of one kind of object, each with its index and whether it
// is a secret key (IsSecretKey, computed once).
class Keys {
 public:
  Keys(std::initializer_list<const char*> names) {
    int i = 0;
    for (const char* n : names) {
      index_[n] = i;
      secret_.push_back(IsSecretKey(n));
      ++i;
    }
  }
  int Find(std::string_view key) const {
    auto it = index_.find(absl::string_view(key.data(), key.size()));
    return it == index_.end() ? -1 : it->second;
  }
  bool secret(int i) const { return secret_[i]; }
  size_t size() const { return secret_.size(); }

 private:
  absl::flat_hash_map<absl::string_view, int> index_;
  std::vector<bool> secret_;
};

constexpr int kMaxKeys = 32;

// One object's known members, found in one pass over it; mirrors Reader.
class Fields {
 public:
  Fields(const element& object, const Keys& keys, Mapper* m) : keys_(keys), m_(m) {
    for (auto field : AsObject(object)) {
      const int i = keys.Find(field.key);
      if (i >= 0) {
        values_[i] = field.value;
        present_[i] = true;
      }
    }
  }

  // The member as the general path's Reader sees it (null and absent alike).
  Scalar Get(int i) {
    if (!present_[i]) return Scalar();
    const element& v = values_[i];
    if (v.type() == element_type::NULL_VALUE) return Scalar();
    return m_->Resolve(&v, keys_.secret(i) && v.type() != element_type::BOOL);
  }
  // The member as sent (never scrubbed), when present and not null.
  std::optional<element> Raw(int i) const {
    if (!Has(i)) return std::nullopt;
    return values_[i];
  }
  // Reader::Get != nullptr: present and not null.
  bool Has(int i) const { return present_[i] && values_[i].type() != element_type::NULL_VALUE; }
  // Field `field`: wire::ValueFromJson of the member's scrubbed value;
  // only when Has(i).
  void FillValue(int i, ProtoWireWriter* w, int field) {
    m_->FillValue(values_[i], keys_.secret(i) && values_[i].type() != element_type::BOOL, w, field);
  }
  // Field `field`, a string, when the member reads as one (String).
  void WriteString(int i, ProtoWireWriter* w, int field) {
    if (std::optional<std::string> v = String(i)) w->String(field, *v);
  }
  void WriteInt32(int i, ProtoWireWriter* w, int field) {
    if (std::optional<int32_t> v = Int32(i)) w->Int32(field, *v);
  }
  void WriteBool(int i, ProtoWireWriter* w, int field) {
    if (std::optional<bool> v = Bool(i)) w->Bool(field, *v);
  }
  // Field `field`, a google.protobuf.Timestamp, when the member is one.
  void WriteTime(int i, ProtoWireWriter* w, int field) {
    google::protobuf::Timestamp ts;
    if (!Time(i, &ts)) return;
    w->Begin(field);
    if (ts.seconds() != 0) w->Int64(google::protobuf::Timestamp::kSecondsFieldNumber, ts.seconds());
    if (ts.nanos() != 0) w->Int32(google::protobuf::Timestamp::kNanosFieldNumber, ts.nanos());
    w->End();
  }

  std::optional<std::string> String(int i) {
    Scalar s = Get(i);
    switch (s.kind) {
      case Scalar::kAbsent:
        return std::nullopt;
      case Scalar::kString:
        return std::move(s.string);
      case Scalar::kInt:
        return absl::StrCat(s.int_value);
      case Scalar::kUint:
        return absl::StrCat(s.uint_value);
      case Scalar::kBool:
        return std::string(s.bool_value ? "true" : "false");
      default:  // a double's text as nlohmann writes it is not reproduced
        m_->Decline();
        return std::nullopt;
    }
  }

  std::optional<int32_t> Int32(int i) {
    Scalar s = Get(i);
    constexpr int64_t kMin = std::numeric_limits<int32_t>::min();
    constexpr int64_t kMax = std::numeric_limits<int32_t>::max();
    switch (s.kind) {
      case Scalar::kAbsent:
        return std::nullopt;
      case Scalar::kInt:
        if (s.int_value >= kMin && s.int_value <= kMax) return static_cast<int32_t>(s.int_value);
        break;
      case Scalar::kUint:
        if (s.uint_value <= static_cast<uint64_t>(kMax)) return static_cast<int32_t>(s.uint_value);
        break;
      case Scalar::kDouble: {
        const double d = s.double_value;
        if (std::trunc(d) == d && d >= kMin && d <= kMax) return static_cast<int32_t>(d);
        break;
      }
      case Scalar::kString: {
        if (WithheldValue(s.string)) return std::nullopt;
        int32_t v;
        if (absl::SimpleAtoi(s.string, &v)) return v;
        break;
      }
      default:
        break;
    }
    m_->Decline();
    return std::nullopt;
  }

  std::optional<bool> Bool(int i) {
    Scalar s = Get(i);
    if (s.kind == Scalar::kAbsent) return std::nullopt;
    if (s.kind == Scalar::kBool) return s.bool_value;
    if (s.kind == Scalar::kString) {
      if (WithheldValue(s.string)) return std::nullopt;
      if (absl::EqualsIgnoreCase(s.string, "true")) return true;
      if (absl::EqualsIgnoreCase(s.string, "false")) return false;
    }
    m_->Decline();
    return std::nullopt;
  }

  bool Time(int i, google::protobuf::Timestamp* out) {
    Scalar s = Get(i);
    if (s.kind == Scalar::kAbsent) return false;
    if (s.kind == Scalar::kString) {
      if (WithheldValue(s.string)) return false;
      auto ts = wire::ParseTimestamp(s.string);
      if (ts.ok()) {
        *out = *ts;
        return true;
      }
    }
    m_->Decline();
    return false;
  }

  // When the member is a string (Reader::Enum): the enum value as field
  // `field` and the string itself as field `raw_field`.
  template <typename E>
  void WriteEnum(int i, ProtoWireWriter* w, int field, int raw_field) {
    Scalar s = Get(i);
    if (s.kind == Scalar::kAbsent) return;
    if (s.kind != Scalar::kString) return m_->Decline();
    E value = static_cast<E>(0);
    wire::ParseFivetranEnum(s.string, &value);
    w->Int32(field, value);
    w->String(raw_field, s.string);
  }

  // The member if it is an object (Reader::Object).
  std::optional<element> Object(int i) {
    Scalar s = Get(i);
    if (s.kind == Scalar::kAbsent) return std::nullopt;
    if (s.kind == Scalar::kObject) return s.value;
    m_->Decline();
    return std::nullopt;
  }

  // The member if it is an array of objects (Reader::ArrayOfObjects).
  std::optional<simdjson::dom::array> ArrayOfObjects(int i) {
    Scalar s = Get(i);
    if (s.kind == Scalar::kAbsent) return std::nullopt;
    if (s.kind == Scalar::kArray) {
      simdjson::dom::array a = AsArray(s.value);
      bool all_objects = true;
      for (element e : a) all_objects = all_objects && e.type() == element_type::OBJECT;
      if (all_objects) return a;
    }
    m_->Decline();
    return std::nullopt;
  }

 private:
  const Keys& keys_;
  Mapper* m_;
  std::array<element, kMaxKeys> values_;
  std::array<bool, kMaxKeys> present_{};
};

// Key indexes, in the order of each Keys list below.
enum AlertKey { kAlertCode, kAlertMessage, kAlertDetails };
enum StatusKey {
  kSetupState,
  kSyncState,
  kUpdateState,
  kIsHistoricalSync,
  kSchemaStatus,
  kRescheduledFor,
  kTasks,
  kWarnings
};
enum SetupTestKey { kTestTitle, kTestStatus, kTestMessage, kTestDetails };
enum ConnectionKey {
  kId,
  kGroupId,
  kService,
  kServiceVersion,
  kSchema,
  kConnectedBy,
  kCreatedAt,
  kSucceededAt,
  kFailedAt,
  kPaused,
  kPauseAfterTrial,
  kSyncFrequency,
  kDailySyncTime,
  kScheduleType,
  kDataDelaySensitivity,
  kDataDelayThreshold,
  kNetworkingMethod,
  kProxyAgentId,
  kPrivateLinkId,
  kHybridDeploymentAgentId,
  kExternalSecretsManagerId,
  kDestinationSchemaNames,
  kDestinationConfiguration,
  kStatus,
  kSetupTests,
  kSourceSyncDetails,
  kConnectCard,
  kConnectCardConfig,
  kConfig
};
enum PageKey { kItems, kNextCursor, kNextCursorCamel };

const Keys& AlertKeys() {
  static const Keys* keys = new Keys({"code", "message", "details"});
  return *keys;
}
const Keys& StatusKeys() {
  static const Keys* keys =
      new Keys({"setup_state", "sync_state", "update_state", "is_historical_sync", "schema_status",
                "rescheduled_for", "tasks", "warnings"});
  return *keys;
}
const Keys& SetupTestKeys() {
  static const Keys* keys = new Keys({"title", "status", "message", "details"});
  return *keys;
}
const Keys& ConnectionKeys() {
  static const Keys* keys = new Keys({"id",
                                      "group_id",
                                      "service",
                                      "service_version",
                                      "schema",
                                      "connected_by",
                                      "created_at",
                                      "succeeded_at",
                                      "failed_at",
                                      "paused",
                                      "pause_after_trial",
                                      "sync_frequency",
                                      "daily_sync_time",
                                      "schedule_type",
                                      "data_delay_sensitivity",
                                      "data_delay_threshold",
                                      "networking_method",
                                      "proxy_agent_id",
                                      "private_link_id",
                                      "hybrid_deployment_agent_id",
                                      "external_secrets_manager_id",
                                      "destination_schema_names",
                                      "destination_configuration",
                                      "status",
                                      "setup_tests",
                                      "source_sync_details",
                                      "connect_card",
                                      "connect_card_config",
                                      "config"});
  return *keys;
}
const Keys& DestinationConfigurationKeys() {
  static const Keys* keys = new Keys({"virtual_warehouse"});
  return *keys;
}
const Keys& ConnectCardKeys() {
  static const Keys* keys = new Keys({"token", "uri"});
  return *keys;
}
const Keys& ConnectCardConfigKeys() {
  static const Keys* keys = new Keys({"redirect_uri", "hide_setup_guide", "all_fields"});
  return *keys;
}
const Keys& EnvelopeKeys() {
  static const Keys* keys = new Keys({"data"});
  return *keys;
}
const Keys& PageKeys() {
  static const Keys* keys = new Keys({"items", "next_cursor", "nextCursor"});
  return *keys;
}

// Each Read* below writes the fields of one message to `w`; the proto
// field numbers are the generated k*FieldNumber constants.
void ReadAlert(const element& object, Mapper* m, ProtoWireWriter* w) {
  using A = v1::ConnectionAlert;
  Fields f(object, AlertKeys(), m);
  f.WriteString(kAlertCode, w, A::kCodeFieldNumber);
  f.WriteString(kAlertMessage, w, A::kMessageFieldNumber);
  if (f.Has(kAlertDetails)) f.FillValue(kAlertDetails, w, A::kDetailsFieldNumber);
}

void ReadStatus(const element& object, Mapper* m, ProtoWireWriter* w) {
  using S = v1::ConnectionStatus;
  Fields f(object, StatusKeys(), m);
  f.WriteEnum<v1::SetupState>(kSetupState, w, S::kSetupStateFieldNumber,
                              S::kSetupStateRawFieldNumber);
  f.WriteEnum<v1::SyncState>(kSyncState, w, S::kSyncStateFieldNumber, S::kSyncStateRawFieldNumber);
  f.WriteEnum<v1::UpdateState>(kUpdateState, w, S::kUpdateStateFieldNumber,
                               S::kUpdateStateRawFieldNumber);
  f.WriteBool(kIsHistoricalSync, w, S::kIsHistoricalSyncFieldNumber);
  f.WriteString(kSchemaStatus, w, S::kSchemaStatusFieldNumber);
  f.WriteTime(kRescheduledFor, w, S::kRescheduledForFieldNumber);
  if (auto a = f.ArrayOfObjects(kTasks)) {
    for (element e : *a) {
      w->Begin(S::kTasksFieldNumber);
      ReadAlert(e, m, w);
      w->End();
    }
  }
  if (auto a = f.ArrayOfObjects(kWarnings)) {
    for (element e : *a) {
      w->Begin(S::kWarningsFieldNumber);
      ReadAlert(e, m, w);
      w->End();
    }
  }
}

void ReadSetupTest(const element& object, Mapper* m, ProtoWireWriter* w) {
  using T = v1::SetupTestResult;
  Fields f(object, SetupTestKeys(), m);
  f.WriteString(kTestTitle, w, T::kTitleFieldNumber);
  f.WriteEnum<v1::SetupTestStatus>(kTestStatus, w, T::kStatusFieldNumber, T::kStatusRawFieldNumber);
  f.WriteString(kTestMessage, w, T::kMessageFieldNumber);
  if (f.Has(kTestDetails)) f.FillValue(kTestDetails, w, T::kDetailsFieldNumber);
}

void ReadConnection(const element& object, Mapper* m, ProtoWireWriter* w) {
  using C = v1::Connection;
  Fields f(object, ConnectionKeys(), m);
  {
    // Reader::Id: present, a non-empty string (null too is refused).
    Scalar id = f.Get(kId);
    if (id.kind != Scalar::kString || id.string.empty()) return m->Decline();
    w->String(C::kIdFieldNumber, id.string);
  }
  f.WriteString(kGroupId, w, C::kGroupIdFieldNumber);
  f.WriteString(kService, w, C::kServiceFieldNumber);
  f.WriteInt32(kServiceVersion, w, C::kServiceVersionFieldNumber);
  f.WriteString(kSchema, w, C::kSchemaFieldNumber);
  f.WriteString(kConnectedBy, w, C::kConnectedByFieldNumber);
  f.WriteTime(kCreatedAt, w, C::kCreatedAtFieldNumber);
  f.WriteTime(kSucceededAt, w, C::kSucceededAtFieldNumber);
  f.WriteTime(kFailedAt, w, C::kFailedAtFieldNumber);
  f.WriteBool(kPaused, w, C::kPausedFieldNumber);
  f.WriteBool(kPauseAfterTrial, w, C::kPauseAfterTrialFieldNumber);
  f.WriteInt32(kSyncFrequency, w, C::kSyncFrequencyFieldNumber);
  f.WriteString(kDailySyncTime, w, C::kDailySyncTimeFieldNumber);
  f.WriteEnum<v1::ScheduleType>(kScheduleType, w, C::kScheduleTypeFieldNumber,
                                C::kScheduleTypeRawFieldNumber);
  f.WriteEnum<v1::DataDelaySensitivity>(kDataDelaySensitivity, w,
                                        C::kDataDelaySensitivityFieldNumber,
                                        C::kDataDelaySensitivityRawFieldNumber);
  f.WriteInt32(kDataDelayThreshold, w, C::kDataDelayThresholdFieldNumber);
  f.WriteEnum<v1::NetworkingMethod>(kNetworkingMethod, w, C::kNetworkingMethodFieldNumber,
                                    C::kNetworkingMethodRawFieldNumber);
  f.WriteString(kProxyAgentId, w, C::kProxyAgentIdFieldNumber);
  f.WriteString(kPrivateLinkId, w, C::kPrivateLinkIdFieldNumber);
  f.WriteString(kHybridDeploymentAgentId, w, C::kHybridDeploymentAgentIdFieldNumber);
  f.WriteString(kExternalSecretsManagerId, w, C::kExternalSecretsManagerIdFieldNumber);
  f.WriteEnum<v1::DestinationSchemaNames>(kDestinationSchemaNames, w,
                                          C::kDestinationSchemaNamesFieldNumber,
                                          C::kDestinationSchemaNamesRawFieldNumber);
  if (auto o = f.Object(kDestinationConfiguration)) {
    Fields d(*o, DestinationConfigurationKeys(), m);
    w->Begin(C::kDestinationConfigurationFieldNumber);
    d.WriteString(0, w, v1::DestinationConfiguration::kVirtualWarehouseFieldNumber);
    w->End();
  }
  if (auto o = f.Object(kStatus)) {
    w->Begin(C::kStatusFieldNumber);
    ReadStatus(*o, m, w);
    w->End();
  }
  if (auto a = f.ArrayOfObjects(kSetupTests)) {
    for (element e : *a) {
      w->Begin(C::kSetupTestsFieldNumber);
      ReadSetupTest(e, m, w);
      w->End();
    }
  }
  {
    // Only an object is kept; anything else is left out (not an error).
    Scalar s = f.Get(kSourceSyncDetails);
    if (s.kind == Scalar::kObject) {
      m->FillStruct(AsObject(s.value), w, C::kSourceSyncDetailsFieldNumber);
    }
  }
  if (auto o = f.Object(kConnectCard)) {
    Fields cc(*o, ConnectCardKeys(), m);
    w->Begin(C::kConnectCardFieldNumber);
    cc.WriteString(0, w, v1::ConnectCard::kTokenFieldNumber);
    cc.WriteString(1, w, v1::ConnectCard::kUriFieldNumber);
    w->End();
  }
  if (auto o = f.Object(kConnectCardConfig)) {
    using CC = v1::ConnectCardConfig;
    Fields cc(*o, ConnectCardConfigKeys(), m);
    w->Begin(C::kConnectCardConfigFieldNumber);
    cc.WriteString(0, w, CC::kRedirectUriFieldNumber);
    cc.WriteBool(1, w, CC::kHideSetupGuideFieldNumber);
    cc.WriteBool(2, w, CC::kAllFieldsFieldNumber);
    w->End();
  }
  if (auto o = f.Object(kConfig)) m->FillStruct(AsObject(*o), w, C::kConfigFieldNumber);
}

}  // namespace

namespace {

// The start of both readers: `body` parsed, its secrets collected and the
// scrubber sealed; the envelope's `data` if it is an object (DataObject:
// null is refused too). nullopt: decline.
std::optional<element> ReadData(absl::string_view body, DocumentScrubber* scrubber, Mapper* m) {
  // simdjson refuses what the general path repairs (RepairJsonText: bytes
  // that are not UTF-8, a \u escape of a lone surrogate) and decodes a
  // surrogate pair as nlohmann does; connection_page_reader_test pins both.
  thread_local simdjson::dom::parser parser;
  element root;
  if (parser.parse(body.data(), body.size()).get(root) != simdjson::SUCCESS) return std::nullopt;
  if (root.type() != element_type::OBJECT) return std::nullopt;
  if (!CollectSecrets(root, scrubber)) return std::nullopt;
  scrubber->Seal();
  Fields envelope(root, EnvelopeKeys(), m);
  Scalar data = envelope.Get(0);
  if (data.kind != Scalar::kObject) return std::nullopt;
  return data.value;
}

}  // namespace

std::optional<Page<SerializedConnection>> ReadConnectionPage(absl::string_view body,
                                                             absl::Span<const std::string> secrets,
                                                             const NextCursorHint* on_next_cursor) {
  DocumentScrubber scrubber(secrets);
  Mapper m(&scrubber);
  std::optional<element> data = ReadData(body, &scrubber, &m);
  if (!data.has_value()) return std::nullopt;
  Fields page(*data, PageKeys(), &m);
  std::optional<simdjson::dom::array> items = page.ArrayOfObjects(kItems);
  if (!items.has_value()) return std::nullopt;  // missing `items` is an error
  Page<SerializedConnection> out;
  // The cursor as Fivetran sent it, never scrubbed (ScrubEnvelope).
  for (PageKey key : {kNextCursor, kNextCursorCamel}) {
    if (!out.next_cursor.empty()) break;
    std::optional<element> cursor = page.Raw(key);
    if (!cursor.has_value()) continue;
    if (cursor->type() != element_type::STRING) return std::nullopt;
    std::string_view text = cursor->get_string().value_unsafe();
    out.next_cursor.assign(text.data(), text.size());
  }
  if (on_next_cursor != nullptr && *on_next_cursor && !out.next_cursor.empty()) {
    (*on_next_cursor)(out.next_cursor);
  }
  out.items.reserve(items->size());
  size_t previous = 0;  // the last item's size: the next one's first guess
  for (element item : *items) {
    std::string& bytes = out.items.emplace_back().bytes;
    bytes.reserve(previous);
    ProtoWireWriter w(&bytes);
    ReadConnection(item, &m, &w);
    if (m.declined()) return std::nullopt;
    previous = bytes.size() + bytes.size() / 8;
  }
  if (m.declined()) return std::nullopt;
  return out;
}

std::optional<SerializedConnection> ReadConnectionBytes(absl::string_view body,
                                                        absl::Span<const std::string> secrets) {
  DocumentScrubber scrubber(secrets);
  Mapper m(&scrubber);
  std::optional<element> data = ReadData(body, &scrubber, &m);
  if (!data.has_value()) return std::nullopt;
  SerializedConnection out;
  ProtoWireWriter w(&out.bytes);
  ReadConnection(*data, &m, &w);
  if (m.declined()) return std::nullopt;
  return out;
}

}  // namespace fivetran_gateway::fivetran
