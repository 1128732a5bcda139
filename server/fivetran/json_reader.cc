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

}  // namespace fivetran_gateway::fivetran::mapping_internal
