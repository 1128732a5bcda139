// JSON <-> proto mapping of the Fivetran REST client.
//
// Everything here is pure (no I/O) and never throws: nlohmann::json exceptions are caught at the
// boundary. Two error conventions:
//   * Responses from Fivetran that do not have the documented shape give absl::InternalError with
//     a short message naming the field path, e.g. "connection.paused: expected a boolean, got
//     object". Values of fields whose name looks secret (IsSecretKey) are never quoted, other
//     values at most ~40 characters, sanitised to printable ASCII.
//   * Requests that fail validation give absl::InvalidArgumentError naming the field; the field
//     path is also returned through FieldViolation. Messages never contain request values.
//
// Tolerance rules for responses (see the null/enum comments in connection.proto):
//   * JSON null or an absent key leaves the proto field unset; unknown keys are ignored.
//   * An empty string for a typed scalar (integer, boolean, timestamp) is treated like null.
//   * Integers may arrive as numbers, integral floats (360.0) or strings ("360"); booleans as
//     true/false or the strings "true"/"false" (any case). Plain string fields also accept numbers
//     and booleans (their JSON text is kept).
//   * Enum strings are matched exactly; an unknown string maps to *_UNSPECIFIED and the string is
//     kept in the *_raw field, which is set whenever Fivetran sent a string.
//   * A value of the wrong, unconvertible type for a typed field is an InternalError.
#ifndef SERVER_FIVETRAN_MAPPING_H_
#define SERVER_FIVETRAN_MAPPING_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "fivetran/gateway/v1/connection.pb.h"
#include "fivetran/gateway/v1/connection_service.pb.h"
#include "fivetran/gateway/v1/ftp_config.pb.h"
#include "fivetran/gateway/v1/group.pb.h"
#include "fivetran/gateway/v1/user.pb.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "nlohmann/json.hpp"
#include "server/common/secrets.h"
#include "wire/enum_names.h"
#include "wire/json_value.h"
#include "wire/timestamps.h"

namespace fivetran_gateway::fivetran {

namespace v1 = ::fivetran::gateway::v1;

// ---------------------------------------------------------------------------------------------
// Enum spellings, timestamps and free-form JSON live in //wire (shared with fivetranctl).

using ::fivetran_gateway::wire::FivetranEnumString;
using ::fivetran_gateway::wire::FormatTimestamp;
using ::fivetran_gateway::wire::JsonFromStruct;
using ::fivetran_gateway::wire::JsonFromValue;
using ::fivetran_gateway::wire::ParseFivetranEnum;
using ::fivetran_gateway::wire::ParseTimestamp;
using ::fivetran_gateway::wire::ReturnedValueFromJson;
using ::fivetran_gateway::wire::StructFromJson;
using ::fivetran_gateway::wire::ValueFromJson;

// ---------------------------------------------------------------------------------------------
// Responses: Fivetran JSON objects -> proto. Error paths start with "connection", "group" or
// "user"; a missing, non-string or empty `id` is an InternalError. `config` must be an object
// (or null/absent); a non-object `source_sync_details` is ignored; `details` of setup tests,
// tasks and warnings may be any JSON type (null leaves it unset).
absl::StatusOr<v1::Connection> ConnectionFromJson(const nlohmann::json& j);
absl::StatusOr<v1::Group> GroupFromJson(const nlohmann::json& j);
absl::StatusOr<v1::User> UserFromJson(const nlohmann::json& j);

// ---------------------------------------------------------------------------------------------
// Requests: bodies of POST /v1/connections.

// Which request field failed validation.
struct FieldViolation {
  // Path in the request message, e.g. "options.sync_frequency", "config.files[1].table_name".
  std::string field;
  // Same text as the status message; never contains a request value.
  std::string description;
};

// Body of POST /v1/connections for any service: snake_case keys, only set fields (unset
// optionals, empty strings and *_UNSPECIFIED enums are omitted), run_setup_tests always sent
// (unset => true), `config` and (when set) `auth` sent as given with integral numbers as JSON
// integers. InvalidArgumentError naming the field (also stored in *violation when non-null)
// when: group_id or service is empty; config.schema is missing or not a non-empty string; an
// option is invalid (see CreateConnectionOptions: sync_frequency 0 or negative, daily_sync_time
// over 32 bytes or without sync_frequency 1440, negative data_delay_threshold, enum numbers this
// version cannot name, connect_card_config without a redirect_uri). Values that are Fivetran's to
// decide (which frequencies, the daily_sync_time format, which networking methods, the
// redirect_uri scheme) are sent as given: Fivetran's 400 is INVALID_ARGUMENT.
// Limits of a create request's free-form `config` / `auth`: nesting depth
// and the size of the JSON body sent. Checked in time linear in the request's
// size, the size first: once the keys and strings alone exceed the limit the
// request is refused before any other work. Field paths in violations cut
// keys to 40 bytes ("config.kkkk...[3]").
inline constexpr int kMaxConfigDepth = 32;
inline constexpr size_t kMaxRequestBodyBytes = 1 << 20;

absl::StatusOr<nlohmann::json> CreateConnectionBody(const v1::CreateConnectionRequest& req,
                                                    FieldViolation* violation);

// Body of POST /v1/connections with service "ftp" and `config` = FtpConfigToJson. Validates, in
// addition to the options: group_id; config present; config.schema, host, user, password; table
// or table_group_name unless file_mapping_method is set; files (each with table_name) with
// DEFINE_PER_TABLE; extraction_pattern with EXTRACT_TABLES; port 1..65535; skip_before and
// skip_after >= 0; pgp_secret_key when use_pgp_encryption_options is true; enum numbers.
absl::StatusOr<nlohmann::json> CreateFtpConnectionBody(const v1::CreateFtpConnectionRequest& req,
                                                       FieldViolation* violation);

// FtpConfig -> the JSON `config` object, snake_case keys. Omits unset optionals, empty strings
// (also of optional strings, as ftp_config.proto says) and *_UNSPECIFIED enums; `files` entries
// keep only their non-empty members. Does not validate.
nlohmann::json FtpConfigToJson(const v1::FtpConfig& c);

// ---------------------------------------------------------------------------------------------
// Envelope.

// Parses a response body. \u escapes of lone surrogates (valid JSON, emitted by Java services for
// damaged strings) become U+FFFD, valid pairs stay what they encode, and bytes that are not UTF-8
// become U+FFFD (RepairJsonText, run only when the strict parse fails), so every string of the
// result, and of every proto mapped from it, is valid UTF-8. A body that is not JSON, that is JSON
// but not an object, or that is nested deeper than 100 levels gives InternalError "Fivetran
// returned a non-JSON body (HTTP <status>, <content-type>): <what>": for text that is not JSON
// (an HTML error page) its first 80 printable characters, sanitised, up to the first `{`, `[`
// or `"`; for JSON, or text that holds some, only a description and its size (its members may
// be secrets).
absl::StatusOr<nlohmann::json> ParseJsonBody(absl::string_view body, int http_status,
                                             absl::string_view content_type);

// A string where a number, boolean or time stamp belongs that says nothing:
// empty, or masked because it equals a secret of the document (ScrubJson).
// Both readers of responses (the general path's, and the fast reader of
// connection_page_reader.h) leave such a member unset: it is not an error
// that fails the whole page.
inline bool WithheldValue(absl::string_view s) { return s.empty() || s == kMasked; }

// ScrubJson (secrets.h) for a response envelope, except the listing's cursor
// (`data.next_cursor`, `data.nextCursor`): it is kept as Fivetran sent it,
// because it goes back to Fivetran for the next page; masked, the next
// request would ask for cursor=******.
void ScrubEnvelope(nlohmann::json& envelope, absl::Span<const std::string> secrets);

// One page of a list endpoint.
struct RawPage {
  // `data.items`, each a JSON object (not yet mapped).
  std::vector<nlohmann::json> items;
  // `data.next_cursor` (or `data.nextCursor`); "" when absent, null or "" = last page.
  std::string next_cursor;
};

// For a 2xx list response: `data` must be an object; `data.items` an array of objects (null or
// absent = no items); the cursor a string or null. InternalError otherwise.
// Takes the envelope by value: pass it with std::move to move the items out rather than copy them.
absl::StatusOr<RawPage> ParsePage(nlohmann::json envelope);

// For a 2xx response: the `data` member, which must be an object (InternalError otherwise). Takes
// the envelope by value: pass it with std::move to move `data` out rather than copy it.
absl::StatusOr<nlohmann::json> DataObject(nlohmann::json envelope);

// Fivetran's error body {code, message}.
struct FivetranError {
  std::string code;
  std::string message;
};

// For a non-2xx response: `code` and `message` when the body is a JSON object and they are
// strings, else empty. The message is cut to 1000 bytes. Never fails.
FivetranError ParseFivetranError(absl::string_view body);

}  // namespace fivetran_gateway::fivetran

#endif  // SERVER_FIVETRAN_MAPPING_H_
