// AppendProtoJson against protobuf's own MessageToJsonString (same options
// as fivetranctl used before), value for value, over every message of the
// API: empty, and filled at random through reflection (every field kind,
// unset optionals, special characters, well-known types).
#include "client/fivetranctl/proto_json.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/duration.pb.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <climits>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "fivetran/gateway/v1/connection_service.pb.h"
#include "fivetran/gateway/v1/group_service.pb.h"
#include "fivetran/gateway/v1/user_service.pb.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace fivetranctl {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

class Filler {
 public:
  explicit Filler(uint32_t seed) : rng_(seed) {}

  void Fill(Message* m, int depth) {
    const Descriptor* d = m->GetDescriptor();
    if (d->full_name() == "google.protobuf.Timestamp") {
      auto* ts = static_cast<google::protobuf::Timestamp*>(m);
      ts->set_seconds(Pick({0, 1, 1700000000, 4102444799}));
      ts->set_nanos(static_cast<int32_t>(Pick({0, 5000000, 123456000, 123456789})));
      return;
    }
    if (d->full_name() == "google.protobuf.Duration") {
      auto* duration = static_cast<google::protobuf::Duration*>(m);
      const int64_t seconds = Pick({0, 1, 90, 86400});
      duration->set_seconds(seconds);
      duration->set_nanos(static_cast<int32_t>(Pick({0, 500000000, 1000})));
      return;
    }
    if (d->full_name() == "google.protobuf.Struct") {
      FillStruct(static_cast<google::protobuf::Struct*>(m), depth);
      return;
    }
    if (d->full_name() == "google.protobuf.Value") {
      FillValue(static_cast<google::protobuf::Value*>(m), depth);
      return;
    }
    const google::protobuf::Reflection* r = m->GetReflection();
    for (int i = 0; i < d->field_count(); ++i) {
      const FieldDescriptor* f = d->field(i);
      if (Coin(3)) continue;  // Left unset (default / absent).
      if (f->is_repeated()) {
        const int n = static_cast<int>(rng_() % 4);
        for (int k = 0; k < n; ++k) {
          if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
            if (depth < 4) Fill(r->AddMessage(m, f), depth + 1);
          } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
            r->AddString(m, f, String());
          } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_ENUM) {
            r->AddEnumValue(m, f, Enum(f));
          }
        }
        continue;
      }
      switch (f->cpp_type()) {
        case FieldDescriptor::CPPTYPE_INT32:
          r->SetInt32(m, f, static_cast<int32_t>(Pick({0, 1, -7, 21, INT_MAX, INT_MIN})));
          break;
        case FieldDescriptor::CPPTYPE_INT64:
          r->SetInt64(m, f, Pick({0, -1, 9007199254740993LL, LLONG_MIN}));
          break;
        case FieldDescriptor::CPPTYPE_UINT32:
          r->SetUInt32(m, f, static_cast<uint32_t>(Pick({0, 1, 4294967295LL})));
          break;
        case FieldDescriptor::CPPTYPE_UINT64:
          r->SetUInt64(m, f, static_cast<uint64_t>(Pick({0, 1, LLONG_MAX})));
          break;
        case FieldDescriptor::CPPTYPE_DOUBLE:
          r->SetDouble(m, f, Number());
          break;
        case FieldDescriptor::CPPTYPE_FLOAT:
          r->SetFloat(m, f, static_cast<float>(Number()));
          break;
        case FieldDescriptor::CPPTYPE_BOOL:
          r->SetBool(m, f, Coin(2));
          break;
        case FieldDescriptor::CPPTYPE_ENUM:
          r->SetEnumValue(m, f, Enum(f));
          break;
        case FieldDescriptor::CPPTYPE_STRING:
          r->SetString(m, f, String());
          break;
        case FieldDescriptor::CPPTYPE_MESSAGE:
          if (depth < 4) Fill(r->MutableMessage(m, f), depth + 1);
          break;
      }
    }
  }

 private:
  bool Coin(int one_in) { return rng_() % one_in == 0; }
  int64_t Pick(std::initializer_list<int64_t> values) {
    return *(values.begin() + rng_() % values.size());
  }
  double Number() {
    static const double kNumbers[] = {0, 1, -2.5, 0.1, 21, 1e21, 1.0 / 3, 123456789012345678.0};
    return kNumbers[rng_() % (sizeof kNumbers / sizeof kNumbers[0])];
  }
  std::string String() {
    static const char* const kStrings[] = {"",
                                           "decent_dropsy",
                                           "quote \" backslash \\ slash /",
                                           "line\nbreak\ttab\r",
                                           "ctl \x01\x1f",
                                           "caf\xc3\xa9 \xf0\x9f\x98\x80",
                                           "<a href='x'>&amp;</a>",
                                           "\xe2\x80\xa8"};
    return kStrings[rng_() % (sizeof kStrings / sizeof kStrings[0])];
  }
  int Enum(const FieldDescriptor* f) {
    if (Coin(10)) return 777;  // A value this build does not know.
    return f->enum_type()
        ->value(static_cast<int>(rng_() % f->enum_type()->value_count()))
        ->number();
  }
  void FillStruct(google::protobuf::Struct* s, int depth) {
    const int n = static_cast<int>(rng_() % 5);
    for (int i = 0; i < n; ++i) FillValue(&(*s->mutable_fields())[String() + "k"], depth + 1);
  }
  void FillValue(google::protobuf::Value* v, int depth) {
    switch (rng_() % (depth < 4 ? 6 : 4)) {
      case 0:
        v->set_null_value(google::protobuf::NULL_VALUE);
        break;
      case 1:
        v->set_number_value(Number());
        break;
      case 2:
        v->set_string_value(String());
        break;
      case 3:
        v->set_bool_value(Coin(2));
        break;
      case 4:
        FillStruct(v->mutable_struct_value(), depth + 1);
        break;
      default: {
        const int n = static_cast<int>(rng_() % 3);
        for (int i = 0; i < n; ++i) FillValue(v->mutable_list_value()->add_values(), depth + 1);
      }
    }
  }
  std::mt19937 rng_;
};

// Every message type of the API's files, nested ones included.
std::vector<const Descriptor*> ApiMessages() {
  std::vector<const Descriptor*> out;
  std::vector<const Descriptor*> pending;
  for (const google::protobuf::FileDescriptor* file :
       {fivetran::gateway::v1::GetConnectionRequest::descriptor()->file(),
        fivetran::gateway::v1::ListGroupsRequest::descriptor()->file(),
        fivetran::gateway::v1::ListUsersRequest::descriptor()->file()}) {
    for (int i = 0; i < file->dependency_count(); ++i) {
      const auto* dep = file->dependency(i);
      if (dep->package() != file->package()) continue;
      for (int k = 0; k < dep->message_type_count(); ++k) pending.push_back(dep->message_type(k));
    }
    for (int k = 0; k < file->message_type_count(); ++k) pending.push_back(file->message_type(k));
  }
  while (!pending.empty()) {
    const Descriptor* d = pending.back();
    pending.pop_back();
    if (std::find(out.begin(), out.end(), d) != out.end()) continue;
    out.push_back(d);
    for (int k = 0; k < d->nested_type_count(); ++k) pending.push_back(d->nested_type(k));
  }
  return out;
}

// protobuf 3.21's printer drops some nulls (a Value field holding
// NULL_VALUE, a Struct whose only entry is null, null list elements: [null,
// true] prints as [true]); proto3 JSON prints them,
// and so does AppendProtoJson (see NullValuesPrintAsNull). Compared without
// them; nothing else in this API prints as null.
nlohmann::json WithoutNulls(const nlohmann::json& j) {
  if (j.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (!it.value().is_null()) out[it.key()] = WithoutNulls(it.value());
    }
    return out;
  }
  if (j.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& v : j) {
      if (!v.is_null()) out.push_back(WithoutNulls(v));
    }
    return out;
  }
  return j;
}

std::string LibraryJson(const Message& m) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string out;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(m, &out, options).ok());
  return out;
}

TEST(ProtoJsonTest, MatchesTheLibraryForEveryApiMessage) {
  const std::vector<const Descriptor*> types = ApiMessages();
  ASSERT_GT(types.size(), 20u);
  Filler filler(20261130);
  int compared = 0;
  for (const Descriptor* d : types) {
    if (d->options().map_entry()) continue;
    const Message* prototype =
        google::protobuf::MessageFactory::generated_factory()->GetPrototype(d);
    for (int round = 0; round < 40; ++round) {
      std::unique_ptr<Message> m(prototype->New());
      if (round > 0) filler.Fill(m.get(), 0);
      std::string ours;
      AppendProtoJson(*m, &ours);
      const std::string theirs = LibraryJson(*m);
      ASSERT_TRUE(nlohmann::json::accept(ours)) << d->full_name() << ": " << ours;
      std::string from_wire = "x";
      ASSERT_TRUE(AppendProtoJsonFromWire(d, m->SerializeAsString(), &from_wire))
          << d->full_name() << " round " << round;
      EXPECT_EQ(from_wire, "x" + ours) << d->full_name() << " round " << round;
      EXPECT_EQ(WithoutNulls(nlohmann::json::parse(ours)),
                WithoutNulls(nlohmann::json::parse(theirs)))
          << d->full_name() << " round " << round << "\nours:   " << ours << "\ntheirs: " << theirs;
      ++compared;
    }
  }
  EXPECT_GT(compared, 800);
}

TEST(ProtoJsonTest, NullValuesPrintAsNull) {
  fivetran::gateway::v1::SetupTestResult result;
  result.mutable_details()->set_null_value(google::protobuf::NULL_VALUE);
  std::string out;
  AppendProtoJson(result, &out);
  EXPECT_NE(out.find(R"("details":null)"), std::string::npos) << out;
  google::protobuf::Struct s;
  (*s.mutable_fields())["password"].set_null_value(google::protobuf::NULL_VALUE);
  out.clear();
  AppendProtoJson(s, &out);
  EXPECT_EQ(out, R"({"password":null})");
}

TEST(ProtoJsonTest, StructKeysPrintSorted) {
  google::protobuf::Struct s;
  for (const char* key : {"port", "host", "zeta", "alpha"}) {
    (*s.mutable_fields())[key].set_string_value(key);
  }
  std::string out;
  AppendProtoJson(s, &out);
  EXPECT_EQ(out, R"({"alpha":"alpha","host":"host","port":"port","zeta":"zeta"})");
}

// Wire forms the serializer does not write but a parser reads: the same text, or a refusal
// (false, nothing appended) where the printer from the wire would not read it as the parser.
TEST(ProtoJsonTest, FromWireReadsAsTheParserOrRefuses) {
  using fivetran::gateway::v1::Connection;
  auto varint = [](uint64_t v) {
    std::string out;
    for (; v >= 0x80; v >>= 7) out.push_back(static_cast<char>(v | 0x80));
    out.push_back(static_cast<char>(v));
    return out;
  };
  auto tag = [&](int number, int wire_type) { return varint(number << 3 | wire_type); };
  auto len = [&](int number, const std::string& bytes) {
    return tag(number, 2) + varint(bytes.size()) + bytes;
  };
  auto expect_same = [](const Descriptor* d, const std::string& wire) {
    std::unique_ptr<Message> m(
        google::protobuf::MessageFactory::generated_factory()->GetPrototype(d)->New());
    ASSERT_TRUE(m->ParseFromString(wire));
    std::string ours, from_wire;
    AppendProtoJson(*m, &ours);
    ASSERT_TRUE(AppendProtoJsonFromWire(d, wire, &from_wire)) << ours;
    EXPECT_EQ(from_wire, ours);
  };
  const Descriptor* conn = Connection::descriptor();
  const int id = conn->FindFieldByName("id")->number();
  const int schema = conn->FindFieldByName("schema")->number();
  const int paused = conn->FindFieldByName("paused")->number();
  const int status = conn->FindFieldByName("status")->number();
  const int config = conn->FindFieldByName("config")->number();
  // Out of order, a scalar twice (the last wins), an unknown field (ignored).
  expect_same(conn, len(schema, "s") + len(id, "a") + len(id, "b") + tag(paused, 0) + "\x01" +
                        tag(paused, 0) + std::string(1, '\0') + len(9999, "zz"));
  // A Struct with a key twice (the last wins) and an entry without a value (null).
  const std::string number_value = tag(2, 1) + std::string("\0\0\0\0\0\0\x35\x40", 8);  // 21
  expect_same(conn,
              len(config, len(1, len(1, "k") + len(2, number_value)) +
                              len(1, len(1, "a") + len(2, len(3, "x"))) +
                              len(1, len(1, "k") + len(2, len(3, "y"))) + len(1, len(1, "n"))));

  auto refused = [](const Descriptor* d, const std::string& wire) {
    std::string out = "x";
    EXPECT_FALSE(AppendProtoJsonFromWire(d, wire, &out));
    EXPECT_EQ(out, "x");
  };
  refused(conn, len(status, "") + len(status, ""));  // A message twice: merged by the parser.
  refused(conn, len(id, "\xff\xfe"));                // Not UTF-8: the parser fails.
  refused(conn, tag(id, 0) + "\x01");                // Wrong wire type.
  refused(conn, len(id, "abc").substr(0, 3));        // Cut short.
  refused(conn, len(config, len(1, len(1, "k") + len(2, len(3, "x") + tag(4, 0) + "\x01"))));
}

// Exact bytes (the library comparison above is value for value): what fivetranctl printed before
// the printer was made faster, for the cases where text can differ with the same value.
std::string Json(const Message& m) {
  std::string out;
  AppendProtoJson(m, &out);
  return out;
}

TEST(ProtoJsonTest, PrintsTheSameBytesAsBefore) {
  google::protobuf::Timestamp ts;
  std::vector<std::string> times;
  for (auto [seconds, nanos] :
       std::vector<std::pair<int64_t, int32_t>>{{0, 0},
                                                {1, 5000000},
                                                {1700000000, 123456000},
                                                {4102444799, 123456789},
                                                {-62135596800, 0},
                                                {253402300799, 999999999},
                                                {-1, 1000},
                                                {951782400, 0},
                                                {1709164800, 0},
                                                {-30610224001, 0},
                                                {-59029948800, 500000000}}) {
    ts.set_seconds(seconds);
    ts.set_nanos(nanos);
    times.push_back(Json(ts));
  }
  EXPECT_EQ(times, (std::vector<std::string>{
                       R"("1970-01-01T00:00:00Z")", R"("1970-01-01T00:00:01.005Z")",
                       R"("2023-11-14T22:13:20.123456Z")", R"("2099-12-31T23:59:59.123456789Z")",
                       R"("0001-01-01T00:00:00Z")", R"("9999-12-31T23:59:59.999999999Z")",
                       R"("1969-12-31T23:59:59.000001Z")", R"("2000-02-29T00:00:00Z")",
                       R"("2024-02-29T00:00:00Z")", R"("0999-12-31T23:59:59Z")",
                       R"("0099-06-01T00:00:00.500Z")"}));
  // RFC 3339's four-digit years, as protobuf's own JSON mapping writes them.
  ts.set_seconds(-30610224001);
  ts.set_nanos(0);
  EXPECT_EQ(Json(ts), "\"" + google::protobuf::util::TimeUtil::ToString(ts) + "\"");

  google::protobuf::Duration d;
  d.set_seconds(-90);
  d.set_nanos(-500000000);
  EXPECT_EQ(Json(d), R"("-90.500s")");

  google::protobuf::ListValue list;
  for (double v : {0.0, -0.0, 1.0, -2.5, 0.1, 21.0, 1e21, 1e15, 999999999999999.0, 1e16, 1.0 / 3,
                   123456789012345678.0, -1e-7, 5e-324, 1.7976931348623157e308, 4294967296.0,
                   -9007199254740993.0}) {
    list.add_values()->set_number_value(v);
  }
  list.add_values()->set_number_value(std::numeric_limits<double>::quiet_NaN());
  list.add_values()->set_number_value(std::numeric_limits<double>::infinity());
  list.add_values()->set_number_value(-std::numeric_limits<double>::infinity());
  list.add_values()->set_string_value("quote \" backslash \\ slash / ctl \x01\x1f\x7f caf\xc3\xa9");
  list.add_values()->set_string_value("line\nbreak\ttab\r\b\f <a href='x'>&amp;</a> \xe2\x80\xa8");
  list.add_values()->set_string_value(std::string("nul \0 byte", 10));
  list.add_values()->set_bool_value(false);
  list.add_values()->set_null_value(google::protobuf::NULL_VALUE);
  list.add_values();  // No kind.
  auto& fields = *list.add_values()->mutable_struct_value()->mutable_fields();
  for (const char* key : {"port", "b", "a\"q", "", "Z", "aa", "a"})
    fields[key].set_bool_value(true);
  (*fields["nested"].mutable_struct_value()->mutable_fields())["y"].set_string_value("1");
  EXPECT_EQ(Json(list),
            "[0,-0,1,-2.5,0.1,21,1e+21,1e+15,999999999999999,1e+16,0.33333333333333331,"
            "1.2345678901234568e+17,-1e-07,4.94065645841247e-324,1.7976931348623157e+308,"
            "4294967296,-9007199254740992,\"NaN\",\"Infinity\",\"-Infinity\","
            "\"quote \\\" backslash \\\\ slash / ctl \\u0001\\u001f\x7f caf\xc3\xa9\","
            "\"line\\nbreak\\ttab\\r\\b\\f <a href='x'>&amp;</a> \xe2\x80\xa8\","
            "\"nul \\u0000 byte\",false,null,null,"
            R"({"":true,"Z":true,"a":true,"a\"q":true,"aa":true,"b":true,"nested":{"y":"1"},)"
            R"("port":true}])");

  fivetran::gateway::v1::Connection c;
  c.set_id("x");
  c.set_sync_frequency(-7);
  c.set_paused(true);
  c.mutable_status()->set_setup_state(static_cast<fivetran::gateway::v1::SetupState>(777));
  c.mutable_status()->add_tasks();
  c.add_setup_tests()->set_title("t");
  c.mutable_created_at()->set_seconds(1);
  EXPECT_EQ(
      Json(c),
      R"({"id":"x","group_id":"","service":"","schema":"",)"
      R"("created_at":"1970-01-01T00:00:01Z","paused":true,"sync_frequency":-7,)"
      R"("schedule_type":"SCHEDULE_TYPE_UNSPECIFIED","schedule_type_raw":"",)"
      R"("data_delay_sensitivity":"DATA_DELAY_SENSITIVITY_UNSPECIFIED",)"
      R"("data_delay_sensitivity_raw":"","networking_method":"NETWORKING_METHOD_UNSPECIFIED",)"
      R"("networking_method_raw":"",)"
      R"("destination_schema_names":"DESTINATION_SCHEMA_NAMES_UNSPECIFIED",)"
      R"("destination_schema_names_raw":"","status":{"setup_state":777,"setup_state_raw":"",)"
      R"("sync_state":"SYNC_STATE_UNSPECIFIED","sync_state_raw":"",)"
      R"("update_state":"UPDATE_STATE_UNSPECIFIED","update_state_raw":"",)"
      R"("tasks":[{"code":"","message":""}],"warnings":[]},)"
      R"("setup_tests":[{"title":"t","status":"SETUP_TEST_STATUS_UNSPECIFIED",)"
      R"("status_raw":"","message":""}]})");
  EXPECT_EQ(Json(fivetran::gateway::v1::ListGroupConnectionsResponse()),
            R"({"connections":[],"next_page_token":""})");
}

}  // namespace
}  // namespace fivetranctl
