#include "server/common/safe_text.h"

#include <algorithm>

namespace fivetran_gateway {
namespace {

std::string Escape(absl::string_view text, size_t max, bool quotes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(std::min(text.size(), max) + 3);
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    std::string piece;
    if (c == '\\' && quotes) {
      piece = "\\\\";
    } else if (c == '"' && quotes) {
      piece = "\\\"";
    } else if (c == '\n') {
      piece = "\\n";
    } else if (c == '\r') {
      piece = "\\r";
    } else if (c == '\t') {
      piece = "\\t";
    } else if (c < 0x20 || c >= 0x7f) {
      piece = {'\\', 'x', kHex[c >> 4], kHex[c & 0xf]};
    } else {
      piece = std::string(1, static_cast<char>(c));
    }
    if (out.size() + piece.size() > max) {
      out += "...";
      return out;
    }
    out += piece;
  }
  return out;
}

}  // namespace

std::string SafeText(absl::string_view text, size_t max) { return Escape(text, max, true); }

std::string OneLine(absl::string_view text, size_t max) { return Escape(text, max, false); }

}  // namespace fivetran_gateway
