#include "server/common/secrets.h"

#include <algorithm>
#include <functional>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"

namespace fivetran_gateway {

using ::nlohmann::json;

bool IsSecretKey(absl::string_view key) {
  // Flags about a secret ("is_private_key_encrypted", "use_pgp_...") are not
  // secrets.
  for (absl::string_view flag : {"is_", "use_", "has_"}) {
    if (absl::StartsWith(key, flag)) return false;
  }
  for (absl::string_view flag : {"_enabled", "_encrypted", "_method", "_type"}) {
    if (absl::EndsWith(key, flag)) return false;
  }
  std::string k;
  k.reserve(key.size());
  for (char c : key) {
    if (c == '_' || c == '-' || c == '.') continue;
    k.push_back(absl::ascii_tolower(static_cast<unsigned char>(c)));
  }
  if (k == "auth" || k == "pwd") return true;
  static constexpr absl::string_view kParts[] = {
      "password",   "passwd",    "passphrase", "secret",        "token", "apikey",
      "privatekey", "accesskey", "credential", "authorization", "cookie"};
  for (absl::string_view p : kParts) {
    if (absl::StrContains(k, p)) return true;
  }
  return false;
}

nlohmann::json RedactSecrets(const nlohmann::json& j) {
  // Iterative copy-and-patch, so hostile nesting cannot exhaust the stack.
  json out = j;
  std::vector<json*> stack = {&out};
  while (!stack.empty()) {
    json* cur = stack.back();
    stack.pop_back();
    if (cur->is_object()) {
      for (auto it = cur->begin(); it != cur->end(); ++it) {
        if (IsSecretKey(it.key()) && !it->is_null()) {
          *it = std::string(kMasked);
        } else if (it->is_structured()) {
          stack.push_back(&*it);
        }
      }
    } else if (cur->is_array()) {
      for (auto& e : *cur) {
        if (e.is_structured()) stack.push_back(&e);
      }
    }
  }
  return out;
}

std::vector<std::string> SecretValues(const nlohmann::json& body) {
  std::vector<std::string> out;
  std::function<void(const nlohmann::json&, bool)> walk = [&](const nlohmann::json& j,
                                                              bool secret) {
    if (j.is_string()) {
      const std::string& v = j.get_ref<const std::string&>();
      // Masked values and very short ones would only mangle messages.
      if (secret && v.size() >= 3 && v != kMasked) out.push_back(v);
    } else if (j.is_object()) {
      for (const auto& [k, v] : j.items()) walk(v, secret || IsSecretKey(k));
    } else if (j.is_array()) {
      for (const auto& v : j) walk(v, secret);
    }
  };
  walk(body, false);
  // Longest first, so that a secret containing another is replaced whole.
  std::sort(out.begin(), out.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void ScrubJson(nlohmann::json& j, absl::Span<const std::string> secrets) {
  if (j.is_string()) {
    std::string& v = j.get_ref<std::string&>();
    for (const std::string& s : secrets) {
      if (!s.empty() && v.find(s) != std::string::npos) {
        v = std::string(kMasked);
        return;
      }
    }
  } else if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (IsSecretKey(it.key()) && !it->is_null()) {
        *it = std::string(kMasked);
      } else {
        ScrubJson(*it, secrets);
      }
    }
  } else if (j.is_array()) {
    for (auto& v : j) ScrubJson(v, secrets);
  }
}

std::string Scrub(absl::string_view text, absl::Span<const std::string> scrub) {
  std::string out(text);
  for (const std::string& s : scrub) {
    if (!s.empty()) absl::StrReplaceAll({{s, "***"}}, &out);
  }
  return out;
}

}  // namespace fivetran_gateway
