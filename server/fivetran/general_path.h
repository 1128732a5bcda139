// The general path of reading connections, as the gateway runs it when the
// fast reader (connection_page_reader.h) declines a body: ParseJsonBody and
// ScrubJson (FivetranClient), then ParsePage or DataObject and
// ConnectionFromJson (RestFivetranApi). The oracle the fast reader is checked
// against by its test, its differential fuzzer and page_reader_bench.
#ifndef FIVETRAN_GATEWAY_SERVER_FIVETRAN_GENERAL_PATH_H_
#define FIVETRAN_GATEWAY_SERVER_FIVETRAN_GENERAL_PATH_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "fivetran/gateway/v1/connection.pb.h"
#include "google/protobuf/message.h"
#include "server/fivetran/fivetran_api.h"

namespace fivetran_gateway::fivetran::testing {

// A 2xx page body read the general way; nullopt where it gives an error.
std::optional<Page<::fivetran::gateway::v1::Connection>> GeneralConnectionPage(
    absl::string_view body, absl::Span<const std::string> secrets);

// GET /v1/connections/{id}'s body read the general way; nullopt on error.
std::optional<::fivetran::gateway::v1::Connection> GeneralConnection(
    absl::string_view body, absl::Span<const std::string> secrets);

// The message's deterministic serialization: equal bytes, equal messages
// (map order included).
std::string DeterministicBytes(const google::protobuf::Message& m);

}  // namespace fivetran_gateway::fivetran::testing

#endif  // FIVETRAN_GATEWAY_SERVER_FIVETRAN_GENERAL_PATH_H_
