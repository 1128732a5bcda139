// Safe quoting of untrusted text in messages.
#ifndef FIVETRAN_GATEWAY_WIRE_SNIPPET_H_
#define FIVETRAN_GATEWAY_WIRE_SNIPPET_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace fivetran_gateway::wire {

// Printable ASCII only (other bytes become '?', white space runs one space),
// at most `max` characters followed by "..." when cut.
std::string Sanitize(absl::string_view s, size_t max);

}  // namespace fivetran_gateway::wire

#endif  // FIVETRAN_GATEWAY_WIRE_SNIPPET_H_
