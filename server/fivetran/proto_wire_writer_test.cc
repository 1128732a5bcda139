#include "server/fivetran/proto_wire_writer.h"

#include <cmath>
#include <limits>
#include <string>

#include "fivetran/gateway/v1/connection.pb.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace fivetran_gateway::fivetran {
namespace {

namespace v1 = ::fivetran::gateway::v1;
using ::google::protobuf::util::MessageDifferencer;

v1::Connection Parsed(const std::string& bytes) {
  v1::Connection c;
  EXPECT_TRUE(c.ParseFromString(bytes));
  return c;
}

TEST(ProtoWireWriterTest, ScalarsAreProtobufsOwnEncoding) {
  v1::Connection expected;
  expected.set_id("c1");
  expected.set_service_version(-3);  // negative int32: ten-byte varint
  expected.set_sync_frequency(std::numeric_limits<int32_t>::max());
  expected.set_paused(false);  // optional: present although false
  expected.set_schedule_type(v1::SCHEDULE_TYPE_MANUAL);
  expected.mutable_created_at()->set_seconds(1700000000);
  expected.mutable_created_at()->set_nanos(5);

  std::string bytes;
  ProtoWireWriter w(&bytes);
  w.String(v1::Connection::kIdFieldNumber, "c1");
  w.Int32(v1::Connection::kServiceVersionFieldNumber, -3);
  w.Begin(v1::Connection::kCreatedAtFieldNumber);
  w.Int64(google::protobuf::Timestamp::kSecondsFieldNumber, 1700000000);
  w.Int32(google::protobuf::Timestamp::kNanosFieldNumber, 5);
  w.End();
  w.Bool(v1::Connection::kPausedFieldNumber, false);
  w.Int32(v1::Connection::kSyncFrequencyFieldNumber, std::numeric_limits<int32_t>::max());
  w.Int32(v1::Connection::kScheduleTypeFieldNumber, v1::SCHEDULE_TYPE_MANUAL);
  EXPECT_EQ(w.depth(), 0u);

  // Written in field order with protobuf's minimal encodings, the bytes are
  // the library's own, byte for byte.
  EXPECT_EQ(bytes, expected.SerializeAsString());
  v1::Connection got = Parsed(bytes);
  EXPECT_TRUE(got.has_paused());
  EXPECT_EQ(got.service_version(), -3);
}

// Nested lengths of every varint size: 0, 127 (one byte), 128 (two), 20,000
// (three), with messages inside messages.
TEST(ProtoWireWriterTest, NestedLengthsOfEverySize) {
  for (size_t n : {0u, 1u, 120u, 127u, 128u, 129u, 16383u, 16384u, 20000u}) {
    v1::Connection expected;
    auto& fields = *expected.mutable_config()->mutable_fields();
    fields["k"].set_string_value(std::string(n, 'x'));
    fields["list"].mutable_list_value()->add_values()->set_number_value(-0.5);
    fields["list"].mutable_list_value()->add_values()->set_null_value(google::protobuf::NULL_VALUE);
    fields["empty"].mutable_struct_value();
    expected.mutable_status()->add_tasks()->set_code(std::string(n, 'c'));

    std::string bytes;
    ProtoWireWriter w(&bytes);
    w.Begin(v1::Connection::kConfigFieldNumber);
    for (const char* key : {"k", "list", "empty"}) {
      w.Begin(google::protobuf::Struct::kFieldsFieldNumber);
      w.String(1, key);
      w.Begin(2);
      if (std::string(key) == "k") {
        w.String(google::protobuf::Value::kStringValueFieldNumber, std::string(n, 'x'));
      } else if (std::string(key) == "list") {
        w.Begin(google::protobuf::Value::kListValueFieldNumber);
        w.Begin(google::protobuf::ListValue::kValuesFieldNumber);
        w.Double(google::protobuf::Value::kNumberValueFieldNumber, -0.5);
        w.End();
        w.Begin(google::protobuf::ListValue::kValuesFieldNumber);
        w.Varint(google::protobuf::Value::kNullValueFieldNumber, 0);
        w.End();
        w.End();
      } else {
        w.Begin(google::protobuf::Value::kStructValueFieldNumber);
        w.End();
      }
      w.End();
      w.End();
    }
    w.End();
    w.Begin(v1::Connection::kStatusFieldNumber);
    w.Begin(v1::ConnectionStatus::kTasksFieldNumber);
    w.String(v1::ConnectionAlert::kCodeFieldNumber, std::string(n, 'c'));
    w.End();
    w.End();

    v1::Connection got = Parsed(bytes);
    EXPECT_TRUE(MessageDifferencer::Equals(got, expected)) << "n=" << n;
    // Protobuf leaves out the empty `code` (n = 0); otherwise the lengths
    // are as minimal as its own.
    EXPECT_EQ(bytes.size(), expected.ByteSizeLong() + (n == 0 ? 2 : 0)) << "n=" << n;
  }
}

TEST(ProtoWireWriterTest, DoublesKeepEveryBit) {
  for (double d : {0.0, -0.0, 1.5, -1e308, std::numeric_limits<double>::denorm_min(),
                   std::numeric_limits<double>::infinity()}) {
    std::string bytes;
    ProtoWireWriter w(&bytes);
    w.Double(google::protobuf::Value::kNumberValueFieldNumber, d);
    google::protobuf::Value v;
    ASSERT_TRUE(v.ParseFromString(bytes));
    ASSERT_EQ(v.kind_case(), google::protobuf::Value::kNumberValue);
    EXPECT_EQ(std::signbit(v.number_value()), std::signbit(d));
    EXPECT_EQ(v.number_value(), d);
  }
}

}  // namespace
}  // namespace fivetran_gateway::fivetran
