// Caller-supplied text (ids, filters, config keys, metadata) made safe to put
// in a log line or an error message: escaped, so it cannot end the line, fake
// another field or carry terminal escapes, and bounded, so it cannot flood.
#ifndef FIVETRAN_GATEWAY_SERVER_COMMON_SAFE_TEXT_H_
#define FIVETRAN_GATEWAY_SERVER_COMMON_SAFE_TEXT_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace fivetran_gateway {

// The longest caller value quoted in a message or log line.
inline constexpr size_t kMaxQuotedValue = 128;
// The longest message written into one log line.
inline constexpr size_t kMaxLoggedMessage = 1024;

// `text` with `\` and `"` escaped (`\\`, `\"`), \n \r \t as such, every other
// control byte, DEL and every non-ASCII byte as \xNN; at most `max`
// characters, then "..." when something was cut (never in the middle of an
// escape). The result is printable ASCII.
std::string SafeText(absl::string_view text, size_t max = kMaxQuotedValue);

// The same, but quotes are kept as they are: for a whole message that only
// needs to stay on one line (gRPC status messages).
std::string OneLine(absl::string_view text, size_t max);

}  // namespace fivetran_gateway

#endif  // FIVETRAN_GATEWAY_SERVER_COMMON_SAFE_TEXT_H_
