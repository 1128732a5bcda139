#include "wire/snippet.h"

namespace fivetran_gateway::wire {

// Printable ASCII only (other bytes become '?', whitespace runs one space), at most `max` chars
// followed by "..." when cut.
std::string Sanitize(absl::string_view s, size_t max) {
  std::string out;
  bool pending_space = false;
  for (char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      pending_space = !out.empty();
      continue;
    }
    if (out.size() + (pending_space ? 2 : 1) > max) {
      out.append("...");
      return out;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
  }
  return out;
}

}  // namespace fivetran_gateway::wire
