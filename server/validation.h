// Request checks made before anything is sent upstream: identifiers, page
// sizes and page tokens (AIP-158).
#ifndef FIVETRAN_GATEWAY_SERVER_VALIDATION_H_
#define FIVETRAN_GATEWAY_SERVER_VALIDATION_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/timestamp.pb.h"

namespace fivetran_gateway {

inline constexpr int kDefaultPageSize = 100;
inline constexpr int kMaxPageSize = 1000;
inline constexpr size_t kMaxIdLength = 256;
inline constexpr size_t kMaxFilterLength = 1024;
inline constexpr size_t kMaxPageTokenLength = 16384;

// A Fivetran id used in a URL path: 1-256 printable ASCII characters, none of
// `/ ? # % \`, no whitespace, not "." and no "..". Anything else is
// INVALID_ARGUMENT naming `field`, and is never sent.
absl::Status ValidateId(absl::string_view field, absl::string_view id);

// A query filter value (e.g. `schema`): at most 1024 bytes.
absl::Status ValidateFilter(absl::string_view field, absl::string_view value);

// AIP-158 page size: 0 -> 100, above 1000 -> 1000, negative ->
// INVALID_ARGUMENT.
absl::StatusOr<int> EffectivePageSize(int page_size);

// A page token wraps Fivetran's cursor with a fingerprint of the request's
// `scope` (the method and its filters), so that a token is refused with
// INVALID_ARGUMENT when used with other filters. The same on every replica.
// With a `key` (--page_token_key_file, shared by the fleet) the token is
// signed instead: HMAC-SHA256 over scope and cursor, so a token that was
// altered or made elsewhere is refused (INVALID_PAGE_TOKEN) before anything
// is sent; a key-less token is then refused too. The key is a secret.
std::string EncodePageToken(absl::string_view cursor, absl::string_view scope,
                            absl::string_view key = "");
// Returns the Fivetran cursor ("" for an empty token).
absl::StatusOr<std::string> DecodePageToken(absl::string_view token, absl::string_view scope,
                                            absl::string_view key = "");

// A Timestamp of a request (e.g. WatchConnectionSyncRequest.baseline),
// checked against google.protobuf.Timestamp's documented range
// (0001-01-01..9999-12-31) and nanos; INVALID_ARGUMENT with a BadRequest
// naming `field` otherwise. Converted without overflow.
absl::StatusOr<absl::Time> RequestTime(absl::string_view field,
                                       const google::protobuf::Timestamp& t);
// A Duration of a request: a valid google.protobuf.Duration (nanos range,
// one sign, +-10,000 years) that is not negative.
absl::Status ValidateInterval(absl::string_view field, const google::protobuf::Duration& d);
// For a response: seconds and nanoseconds apart (int64 nanoseconds would
// overflow after 2262).
google::protobuf::Timestamp TimestampOf(absl::Time t);

}  // namespace fivetran_gateway

#endif  // FIVETRAN_GATEWAY_SERVER_VALIDATION_H_
