// The fast path of a page of connections (GET /v1/groups/{group_id}/connections
// and its cursor pages) and of one connection (GET /v1/connections/{id}): the
// response body parsed with simdjson and each connection written straight in
// protobuf wire form (a serialized v1::Connection, ProtoWireWriter), scrubbed
// as it is copied, without building an nlohmann::json DOM or the message.
//
// The general path (ParseJsonBody, ScrubJson, ParsePage, ConnectionFromJson
// in mapping.h) builds the whole page as a DOM of std::map nodes, walks it to
// scrub it, copies it into protos and frees it. This reader does the same
// work in two walks of simdjson's tape, and a listing's connections go from
// it to the ListGroupConnections response as bytes: no v1::Connection (with
// its google.protobuf.Struct config, a map of Value messages) is built,
// serialized and freed per listed connection.
//
// It declines (nullopt) every body it could read differently from the general
// path: anything the general path would refuse or repair (not JSON, invalid
// UTF-8, a \u escape of a lone surrogate, nesting deeper than 100, a member of the
// wrong type), equal keys in a config or where a dropped member held a
// secret, and numbers whose JSON text it cannot reproduce when a secret could
// be one. The caller then takes the general path on
// the same body, which gives the result or the error. So an accepted page
// equals the general path's, field for field, once parsed
// (connection_page_reader_test compares the two on random documents, and
// connection_page_fuzzer under libFuzzer).
#ifndef FIVETRAN_GATEWAY_SERVER_FIVETRAN_CONNECTION_PAGE_READER_H_
#define FIVETRAN_GATEWAY_SERVER_FIVETRAN_CONNECTION_PAGE_READER_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "fivetran/gateway/v1/connection.pb.h"
#include "server/fivetran/fivetran_api.h"

namespace fivetran_gateway::fivetran {

// `body`: a 2xx response body. `secrets`: strings to scrub as ScrubJson's
// `secrets` (the request's secret values). `on_next_cursor` (may be null or
// empty) is called with a non-empty next_cursor once the body is parsed,
// before the items are mapped, even if the reader then declines.
// Thread-safe: each thread keeps its own parser (its buffers grow to the
// largest page it read).
std::optional<Page<SerializedConnection>> ReadConnectionPage(
    absl::string_view body, absl::Span<const std::string> secrets,
    const NextCursorHint* on_next_cursor = nullptr);

// The same for one connection (GET /v1/connections/{connection_id}): the
// envelope's `data`, as DataObject and ConnectionFromJson read it, in wire
// form. Nothing is parsed back: a caller that only sends the connection on
// (the GetConnection RPC) never builds the message.
std::optional<SerializedConnection> ReadConnectionBytes(absl::string_view body,
                                                        absl::Span<const std::string> secrets);

}  // namespace fivetran_gateway::fivetran

#endif  // FIVETRAN_GATEWAY_SERVER_FIVETRAN_CONNECTION_PAGE_READER_H_
