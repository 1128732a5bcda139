#include "server/fivetran/general_path.h"

#include <utility>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "nlohmann/json.hpp"
#include "server/common/secrets.h"
#include "server/fivetran/mapping.h"

namespace fivetran_gateway::fivetran::testing {

namespace v1 = ::fivetran::gateway::v1;

namespace {

// ParseJsonBody and ScrubEnvelope, as FivetranClient makes the envelope.
std::optional<nlohmann::json> Envelope(absl::string_view body,
                                       absl::Span<const std::string> secrets) {
  absl::StatusOr<nlohmann::json> envelope = ParseJsonBody(body, 200, "application/json");
  if (!envelope.ok()) return std::nullopt;
  ScrubEnvelope(*envelope, secrets);
  return *std::move(envelope);
}

}  // namespace

std::optional<Page<v1::Connection>> GeneralConnectionPage(absl::string_view body,
                                                          absl::Span<const std::string> secrets) {
  std::optional<nlohmann::json> envelope = Envelope(body, secrets);
  if (!envelope.has_value()) return std::nullopt;
  absl::StatusOr<RawPage> raw = ParsePage(*std::move(envelope));
  if (!raw.ok()) return std::nullopt;
  Page<v1::Connection> out;
  out.next_cursor = std::move(raw->next_cursor);
  for (const nlohmann::json& item : raw->items) {
    absl::StatusOr<v1::Connection> c = ConnectionFromJson(item);
    if (!c.ok()) return std::nullopt;
    out.items.push_back(*std::move(c));
  }
  return out;
}

std::optional<v1::Connection> GeneralConnection(absl::string_view body,
                                                absl::Span<const std::string> secrets) {
  std::optional<nlohmann::json> envelope = Envelope(body, secrets);
  if (!envelope.has_value()) return std::nullopt;
  absl::StatusOr<nlohmann::json> data = DataObject(*std::move(envelope));
  if (!data.ok()) return std::nullopt;
  absl::StatusOr<v1::Connection> c = ConnectionFromJson(*data);
  if (!c.ok()) return std::nullopt;
  return *std::move(c);
}

std::string DeterministicBytes(const google::protobuf::Message& m) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    m.SerializeToCodedStream(&coded);
  }
  return out;
}

}  // namespace fivetran_gateway::fivetran::testing
