// ProtoWireWriter: appends a protobuf message's wire form (its serialization)
// to a std::string field by field, without building the message. Nested
// messages are opened with Begin(field) and closed with End(), which writes
// their length in front of them.
//
// The connection page reader (connection_page_reader.h) writes each listed
// connection this way straight from Fivetran's JSON, so a listing's
// connections reach the gRPC response as bytes, never as v1::Connection
// objects. The encodings are protobuf's own (CodedOutputStream's varint and
// little-endian helpers); fields are written in the order they are given,
// which parsers accept in any order.
#ifndef FIVETRAN_GATEWAY_SERVER_FIVETRAN_PROTO_WIRE_WRITER_H_
#define FIVETRAN_GATEWAY_SERVER_FIVETRAN_PROTO_WIRE_WRITER_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "google/protobuf/io/coded_stream.h"

namespace fivetran_gateway::fivetran {

class ProtoWireWriter {
 public:
  // Appends to `*out`, which must outlive the writer.
  explicit ProtoWireWriter(std::string* out) : out_(out) {}

  // int32, int64, uint64, bool and enum fields: a varint. A negative int32
  // or enum is sign-extended to 64 bits, as protobuf writes it.
  void Varint(int field, uint64_t value) {
    Tag(field, WIRETYPE_VARINT);
    AppendVarint(value);
  }
  void Int32(int field, int32_t value) {
    Varint(field, static_cast<uint64_t>(static_cast<int64_t>(value)));
  }
  void Int64(int field, int64_t value) { Varint(field, static_cast<uint64_t>(value)); }
  void Bool(int field, bool value) { Varint(field, value ? 1 : 0); }
  // double: 8 bytes, little-endian.
  void Double(int field, double value) {
    Tag(field, WIRETYPE_FIXED64);
    uint64_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    uint8_t buf[8];
    google::protobuf::io::CodedOutputStream::WriteLittleEndian64ToArray(bits, buf);
    out_->append(reinterpret_cast<const char*>(buf), sizeof buf);
  }
  // string and bytes fields.
  void String(int field, absl::string_view value) {
    Tag(field, WIRETYPE_LENGTH_DELIMITED);
    AppendVarint(value.size());
    out_->append(value.data(), value.size());
  }

  // A message field (or map entry): the fields written until the matching
  // End() are its content. Begin/End pairs nest.
  void Begin(int field) {
    Tag(field, WIRETYPE_LENGTH_DELIMITED);
    open_.push_back(out_->size());
    out_->push_back('\0');  // the length, if it fits one byte
  }
  void End() {
    const size_t at = open_.back();
    open_.pop_back();
    const size_t length = out_->size() - at - 1;
    const size_t size = google::protobuf::io::CodedOutputStream::VarintSize64(length);
    if (size > 1) out_->insert(at + 1, size - 1, '\0');
    google::protobuf::io::CodedOutputStream::WriteVarint64ToArray(
        length, reinterpret_cast<uint8_t*>(&(*out_)[at]));
  }
  // Messages begun and not yet ended.
  size_t depth() const { return open_.size(); }

 private:
  // The wire types of protobuf's encoding (a tag is field << 3 | type).
  enum WireType : uint32_t {
    WIRETYPE_VARINT = 0,
    WIRETYPE_FIXED64 = 1,
    WIRETYPE_LENGTH_DELIMITED = 2,
  };

  void Tag(int field, WireType type) { AppendVarint((static_cast<uint32_t>(field) << 3) | type); }
  void AppendVarint(uint64_t value) {
    uint8_t buf[10];
    const uint8_t* end = google::protobuf::io::CodedOutputStream::WriteVarint64ToArray(value, buf);
    out_->append(reinterpret_cast<const char*>(buf), end - buf);
  }

  std::string* out_;
  std::vector<size_t> open_;
};

}  // namespace fivetran_gateway::fivetran

#endif  // FIVETRAN_GATEWAY_SERVER_FIVETRAN_PROTO_WIRE_WRITER_H_
