#include "server/fivetran/json_reader.h"

namespace fivetran_gateway::fivetran::mapping_internal {

void TruncateUtf8(std::string* s, size_t max) {
  if (s->size() <= max) return;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>((*s)[n]) & 0xC0) == 0x80) --n;
  s->resize(n);
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string Describe(const json& j, absl::string_view key) {
  std::string out = wire::JsonTypeName(j);
  if (IsSecretKey(key)) return out;
  if (j.is_string()) {
    absl::StrAppend(&out, " \"", Sanitize(j.get_ref<const std::string&>(), kSnippetChars), "\"");
  } else if (j.is_number() || j.is_boolean()) {
    absl::StrAppend(&out, " ", Sanitize(Dump(j), kSnippetChars));
  }
  return out;
}

// Depth of nesting, iteratively (no recursion on untrusted input).
bool DeeperThan(const json& root, int limit) {
  std::vector<std::pair<const json*, int>> stack = {{&root, 1}};
  while (!stack.empty()) {
    auto [j, depth] = stack.back();
    stack.pop_back();
    if (!j->is_structured()) continue;
    if (depth > limit) return true;
    for (const auto& child : *j) stack.emplace_back(&child, depth + 1);
  }
  return false;
}

// Guards a top-level mapper: the input must be an object.
absl::Status RequireObject(const json& j, absl::string_view what) {
  if (j.is_object()) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(what, ": expected an object, got ", Describe(j, what)));
}

namespace {

constexpr absl::string_view kReplacementChar = "\xEF\xBF\xBD";  // U+FFFD

// The 4 hex digits at text[at..at+4) as a code unit, or -1.
int Hex4(absl::string_view text, size_t at) {
  if (at + 4 > text.size()) return -1;
  int v = 0;
  for (size_t i = at; i < at + 4; ++i) {
    const char c = text[i];
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return -1;
    }
    v = v * 16 + d;
  }
  return v;
}

bool IsHighSurrogate(int u) { return u >= 0xD800 && u <= 0xDBFF; }
bool IsLowSurrogate(int u) { return u >= 0xDC00 && u <= 0xDFFF; }

// How many bytes from text[at] (a byte >= 0x80) form a well-formed UTF-8
// sequence (RFC 3629 table), as `*valid`; else the length of its maximal
// ill-formed subpart (at least 1), as `*invalid`.
void Utf8Sequence(absl::string_view text, size_t at, size_t* valid, size_t* invalid) {
  const unsigned char c = text[at];
  size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  }
  *valid = 0;
  *invalid = 1;
  if (len == 0) return;
  size_t i = 1;
  for (; i < len && at + i < text.size(); ++i) {
    const unsigned char d = text[at + i];
    const bool ok = i == 1 ? (d >= lo && d <= hi) : (d >= 0x80 && d <= 0xBF);
    if (!ok) break;
  }
  if (i == len) {
    *valid = len;
  } else {
    *invalid = i;
  }
}

}  // namespace

std::optional<std::string> RepairJsonText(absl::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  bool changed = false;
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    const unsigned char c = text[i];
    if (c == '\\') {
      if (i + 1 < n && text[i + 1] == 'u') {
        const int unit = Hex4(text, i + 2);
        if (IsHighSurrogate(unit) && i + 12 <= n && text[i + 6] == '\\' && text[i + 7] == 'u' &&
            IsLowSurrogate(Hex4(text, i + 8))) {
          out.append(text.data() + i, 12);  // a valid pair
          i += 12;
          continue;
        }
        if (IsHighSurrogate(unit) || IsLowSurrogate(unit)) {
          out.append(kReplacementChar.data(), kReplacementChar.size());
          changed = true;
          i += 6;
          continue;
        }
      }
      // Any other escape: the backslash and the (ASCII) character it
      // escapes, so that "\\ud800" stays a backslash and text.
      out.push_back('\\');
      ++i;
      if (i < n && static_cast<unsigned char>(text[i]) < 0x80) out.push_back(text[i++]);
      continue;
    }
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    size_t valid, invalid;
    Utf8Sequence(text, i, &valid, &invalid);
    if (valid > 0) {
      out.append(text.data() + i, valid);
      i += valid;
    } else {
      out.append(kReplacementChar.data(), kReplacementChar.size());
      changed = true;
      i += invalid;
    }
  }
  if (!changed) return std::nullopt;
  return out;
}

}  // namespace fivetran_gateway::fivetran::mapping_internal
