// Fuzz target: a Fivetran response body through the JSON -> proto mapping.
// Whatever the bytes, the mapping must return a value or an error, never
// crash, hang or leak; errors must stay short.
#include <cstddef>
#include <cstdint>
#include <string>

#include "server/fivetran/mapping.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace ft = fivetran_gateway::fivetran;
  std::string body(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<nlohmann::json> envelope = ft::ParseJsonBody(body, 200, "application/json");
  (void)ft::ParseFivetranError(body);
  if (!envelope.ok()) {
    if (envelope.status().message().size() > 400) __builtin_trap();
    return 0;
  }
  (void)fivetran_gateway::RedactSecrets(*envelope);
  if (absl::StatusOr<nlohmann::json> d = ft::DataObject(*envelope); d.ok()) {
    (void)ft::ConnectionFromJson(*d);
    (void)ft::GroupFromJson(*d);
    (void)ft::UserFromJson(*d);
  }
  if (absl::StatusOr<ft::RawPage> page = ft::ParsePage(*envelope); page.ok()) {
    for (const nlohmann::json& item : page->items) {
      absl::StatusOr<fivetran::gateway::v1::Connection> c = ft::ConnectionFromJson(item);
      if (!c.ok() && c.status().message().size() > 400) __builtin_trap();
    }
  }
  return 0;
}
