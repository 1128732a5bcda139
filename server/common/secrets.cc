#include "server/common/secrets.h"

#include <algorithm>
#include <functional>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace fivetran_gateway {

using ::nlohmann::json;

namespace {

// Lower-case words of a key: split at non-alphanumerics and where camelCase
// turns upper.
std::vector<std::string> KeyWords(absl::string_view key) {
  std::vector<std::string> words;
  std::string cur;
  char prev = 0;
  for (char c : key) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (!absl::ascii_isalnum(u)) {
      if (!cur.empty()) words.push_back(std::move(cur));
      cur.clear();
    } else {
      if (absl::ascii_isupper(u) && prev != 0 &&
          (absl::ascii_islower(static_cast<unsigned char>(prev)) ||
           absl::ascii_isdigit(static_cast<unsigned char>(prev))) &&
          !cur.empty()) {
        words.push_back(std::move(cur));
        cur.clear();
      }
      cur.push_back(absl::ascii_tolower(u));
    }
    prev = c;
  }
  if (!cur.empty()) words.push_back(std::move(cur));
  return words;
}

bool OneOf(absl::string_view w, std::initializer_list<absl::string_view> set) {
  return std::find(set.begin(), set.end(), w) != set.end();
}

// The secret strings and their shapes, longest first, deduplicated.
std::vector<std::string> ComputeAllForms(absl::Span<const std::string> secrets) {
  std::vector<std::string> out;
  for (const std::string& s : secrets) {
    if (s.empty()) continue;
    for (std::string& f : SecretForms(s)) out.push_back(std::move(f));
  }
  std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() > b.size() : a < b;
  });
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// The same, remembered per thread for the last list of secrets: a client's
// reads all scrub the same credentials, whose encoded forms are otherwise
// rebuilt for every response.
const std::vector<std::string>& AllForms(absl::Span<const std::string> secrets) {
  thread_local std::vector<std::string> last_secrets;
  thread_local std::vector<std::string> last_forms;
  if (!std::equal(secrets.begin(), secrets.end(), last_secrets.begin(), last_secrets.end())) {
    last_forms = ComputeAllForms(secrets);
    last_secrets.assign(secrets.begin(), secrets.end());
  }
  return last_forms;
}

bool UrlParamIsSecret(absl::string_view name) {
  if (IsSecretKey(name)) return true;
  const std::string lower = absl::AsciiStrToLower(name);
  return lower == "code" || lower == "sig" || lower == "signature";
}

bool IsParamNameChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
}

bool EndsUrlValue(char c) {
  return c == '&' || c == '#' || c == ';' || c == '"' || c == '\'' || c == '<' || c == '>' ||
         c == '`' || absl::ascii_isspace(static_cast<unsigned char>(c));
}

// Masks secret query parameters and user-info passwords in `text`; true when
// something changed.
bool MaskUrlSecrets(std::string* text) {
  std::string& s = *text;
  // A secret query parameter needs "name=", a password in a URL "@"; most
  // strings have neither, and two memchr scans are much cheaper than the
  // walk below.
  if (s.find('=') == std::string::npos && s.find('@') == std::string::npos) return false;
  bool changed = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '?' || c == '&' || c == ';') {
      size_t j = i + 1;
      while (j < s.size() && IsParamNameChar(s[j])) ++j;
      if (j == i + 1 || j >= s.size() || s[j] != '=') continue;
      const absl::string_view name(s.data() + i + 1, j - i - 1);
      size_t v = j + 1;
      size_t end = v;
      while (end < s.size() && !EndsUrlValue(s[end])) ++end;
      if (end > v && UrlParamIsSecret(name) &&
          absl::string_view(s.data() + v, end - v) != kMasked) {
        s.replace(v, end - v, std::string(kMasked));
        changed = true;
      }
    } else if (c == ':' && s.compare(i, 3, "://") == 0) {
      // scheme://user:password@host
      const size_t start = i + 3;
      size_t end = start;
      while (end < s.size() && s[end] != '/' && s[end] != '?' && s[end] != '#' &&
             !EndsUrlValue(s[end])) {
        ++end;
      }
      const size_t at = s.rfind('@', end == 0 ? 0 : end - 1);
      if (at == std::string::npos || at < start) continue;
      const size_t colon = s.find(':', start);
      if (colon == std::string::npos || colon >= at) continue;
      if (absl::string_view(s.data() + colon + 1, at - colon - 1) == kMasked || at == colon + 1) {
        continue;
      }
      s.replace(colon + 1, at - colon - 1, std::string(kMasked));
      changed = true;
    }
  }
  return changed;
}

std::string PercentEncode(absl::string_view s, bool lower_hex, bool plus_for_space) {
  static constexpr char kUpper[] = "0123456789ABCDEF";
  static constexpr char kLower[] = "0123456789abcdef";
  const char* hex = lower_hex ? kLower : kUpper;
  std::string out;
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (absl::ascii_isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else if (c == ' ' && plus_for_space) {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(hex[u >> 4]);
      out.push_back(hex[u & 0xf]);
    }
  }
  return out;
}

// As error snippets are normalised: printable ASCII kept, every run of
// anything else (white space, controls, non-ASCII bytes) one space, trimmed.
std::string Normalised(absl::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

std::string JsonEscaped(absl::string_view s, bool ensure_ascii) {
  std::string d = json(std::string(s)).dump(-1, ' ', ensure_ascii, json::error_handler_t::replace);
  return d.size() >= 2 ? d.substr(1, d.size() - 2) : d;
}

// Adds the values of the secret member `j` (itself and every string and
// number below it), of at least `min_size` characters, to `out`, as
// SecretValuesOf does for a member whose key IsSecretKey.
void AddSecretLeaves(const json& j, DocumentScrubber* out) {
  std::vector<const json*> stack = {&j};
  while (!stack.empty()) {
    const json* cur = stack.back();
    stack.pop_back();
    if (cur->is_string()) {
      out->AddSecretLeaf(cur->get_ref<const std::string&>());
    } else if (cur->is_number()) {
      out->AddSecretLeaf(cur->dump());
    } else if (cur->is_object() || cur->is_array()) {
      for (const json& e : *cur) stack.push_back(&e);
    }
  }
}

// The values of the secret members of `body`, as SecretValues, of at least
// `min_size` characters.
std::vector<std::string> SecretValuesOf(const json& body, size_t min_size) {
  std::vector<std::string> out;
  std::vector<std::pair<const json*, bool>> stack = {{&body, false}};
  while (!stack.empty()) {
    auto [j, secret] = stack.back();
    stack.pop_back();
    if (j->is_string()) {
      const std::string& v = j->get_ref<const std::string&>();
      // Masked values and very short ones would only mangle messages.
      if (secret && v.size() >= min_size && v != kMasked) out.push_back(v);
    } else if (j->is_number()) {
      std::string v = j->dump();
      if (secret && v.size() >= min_size) out.push_back(std::move(v));
    } else if (j->is_object()) {
      for (auto it = j->begin(); it != j->end(); ++it) {
        stack.emplace_back(&*it, secret || IsSecretKey(it.key()));
      }
    } else if (j->is_array()) {
      for (const auto& v : *j) stack.emplace_back(&v, secret);
    }
  }
  // Longest first, so that a secret containing another is replaced whole.
  std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() > b.size() : a < b;
  });
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace

namespace {

bool ComputeIsSecretKey(absl::string_view key) {
  const std::vector<std::string> words = KeyWords(key);
  if (words.empty()) return false;
  // 1. Facts about a secret.
  if (OneOf(words.front(), {"is", "use", "has", "enable", "disable"})) return false;
  const std::string& last = words.back();
  if (OneOf(last, {"count", "enabled", "encrypted", "method", "type",   "mode",    "length",
                   "size",  "format",  "version",   "at",     "expiry", "expires", "expiration",
                   "ttl",   "name",    "path",      "uri",    "url",    "endpoint"})) {
    return false;
  }
  // 2. Keys, but public keys and schema terms.
  if (last == "key" || last == "keys") {
    if (words.size() >= 2 &&
        OneOf(words[words.size() - 2],
              {"public",     "primary",      "partition", "sort",     "foreign",  "cluster",
               "clustering", "distribution", "dist",      "shard",    "sharding", "unique",
               "composite",  "surrogate",    "natural",   "business", "join",     "lookup",
               "hash",       "range",        "row",       "index",    "merge",    "upsert",
               "dedup",      "object",       "table",     "column",   "cursor",   "idempotency"})) {
      return false;
    }
    return true;
  }
  // 3. Secret words.
  std::string joined;
  for (const std::string& w : words) joined += w;
  if (absl::EndsWith(joined, "publickey")) return false;
  if (OneOf(joined, {"auth", "pwd", "pin", "dsn", "jwt"})) return true;
  if (last == "signature" || last == "sig") return true;
  static constexpr absl::string_view kParts[] = {
      "password",   "passwd",        "passphrase", "secret",           "token",
      "credential", "authorization", "cookie",     "connectionstring", "apikey",
      "privatekey", "accesskey",     "accountkey"};
  for (absl::string_view p : kParts) {
    if (absl::StrContains(joined, p)) return true;
  }
  return false;
}

}  // namespace

bool IsSecretKey(absl::string_view key) {
  // Pure, and asked for every member of every document: the same few
  // hundred keys over and over. A small per-thread memo saves splitting each
  // one into words again (the profile's largest cost in the gateway's code).
  constexpr size_t kMaxMemoKey = 64;
  constexpr size_t kMaxMemoEntries = 4096;
  if (key.size() > kMaxMemoKey) return ComputeIsSecretKey(key);
  // Looked up by the string_view itself: no string is built for a hit.
  thread_local absl::flat_hash_map<std::string, bool> memo;
  if (auto it = memo.find(key); it != memo.end()) return it->second;
  if (memo.size() >= kMaxMemoEntries) memo.clear();
  const bool secret = ComputeIsSecretKey(key);
  memo.emplace(key, secret);
  return secret;
}

std::vector<std::string> SecretForms(absl::string_view secret) {
  std::vector<std::string> out;
  if (secret.empty()) return out;
  out.emplace_back(secret);
  auto add = [&](std::string f) {
    if (f.size() >= 4 && std::find(out.begin(), out.end(), f) == out.end()) {
      out.push_back(std::move(f));
    }
  };
  add(PercentEncode(secret, false, false));
  add(PercentEncode(secret, true, false));
  add(PercentEncode(secret, false, true));
  add(PercentEncode(secret, true, true));
  add(JsonEscaped(secret, true));
  add(JsonEscaped(secret, false));
  std::string b64 = absl::Base64Escape(secret);
  std::string web = absl::WebSafeBase64Escape(secret);  // Unpadded.
  std::string b64_unpadded = b64;
  while (!b64_unpadded.empty() && b64_unpadded.back() == '=') b64_unpadded.pop_back();
  std::string web_padded = web;
  web_padded.append(b64.size() - b64_unpadded.size(), '=');
  add(PercentEncode(b64, false, false));  // e.g. "Basic%20...%3D%3D".
  add(std::move(b64));
  add(std::move(b64_unpadded));
  add(std::move(web_padded));
  add(std::move(web));
  add(Normalised(secret));
  return out;
}

std::vector<std::string> CredentialSecrets(absl::string_view key, absl::string_view secret) {
  std::vector<std::string> out;
  if (!key.empty()) out.emplace_back(key);
  if (!secret.empty()) out.emplace_back(secret);
  if (!key.empty() || !secret.empty()) out.push_back(absl::StrCat(key, ":", secret));
  return out;
}

nlohmann::json RedactSecrets(const nlohmann::json& j) {
  json out = j;
  ScrubJson(out, {});
  return out;
}

std::vector<std::string> SecretValues(const nlohmann::json& body) {
  return SecretValuesOf(body, 3);
}

// A secret value of a document shorter than this is not looked for
// elsewhere in it: it could be a common word.
constexpr size_t kMinDocumentSecret = 8;

DocumentScrubber::DocumentScrubber(absl::Span<const std::string> secrets)
    : raw_(secrets.begin(), secrets.end()) {}

bool DocumentScrubber::AddSecretLeaf(absl::string_view value) {
  if (value.size() < kMinDocumentSecret || value == kMasked) return false;
  raw_.emplace_back(value);
  return true;
}

void DocumentScrubber::Seal() {
  std::sort(raw_.begin(), raw_.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() > b.size() : a < b;
  });
  raw_.erase(std::unique(raw_.begin(), raw_.end()), raw_.end());
  forms_ = AllForms(raw_);
  raw_.erase(std::remove(raw_.begin(), raw_.end(), std::string()), raw_.end());
  may_mask_numbers_ = std::any_of(raw_.begin(), raw_.end(), [](const std::string& s) {
    return s.find_first_not_of("0123456789+-.eE") == std::string::npos;
  });
}

bool DocumentScrubber::ScrubString(std::string* value) const {
  if (*value == kMasked) return false;
  bool changed = MaskUrlSecrets(value);
  if (forms_.empty() || value->size() < forms_.back().size()) return changed;
  for (const std::string& f : forms_) {
    if (f.size() <= value->size() && absl::StrContains(*value, f)) {
      *value = std::string(kMasked);
      return true;
    }
  }
  return changed;
}

bool DocumentScrubber::IsSecretNumber(absl::string_view json_text) const {
  return std::find(raw_.begin(), raw_.end(), json_text) != raw_.end();
}

void ScrubJson(nlohmann::json& j, absl::Span<const std::string> secrets) {
  // One walk masks every secret member, keeping the long values it held,
  // and notes every other string and number; then those are checked against
  // every shape of `secrets` and of the kept values: a value the document
  // masks in one member must not stay readable in another (connect_card.token
  // in its uri).
  DocumentScrubber scrubber(secrets);
  std::vector<std::string*> strings;
  std::vector<json*> numbers;
  std::vector<json*> stack = {&j};
  while (!stack.empty()) {
    json* cur = stack.back();
    stack.pop_back();
    if (cur->is_object()) {
      for (auto it = cur->begin(); it != cur->end(); ++it) {
        if (IsSecretKey(it.key()) && !it->is_null() && !it->is_boolean()) {
          AddSecretLeaves(*it, &scrubber);
          *it = std::string(kMasked);
        } else {
          stack.push_back(&*it);
        }
      }
    } else if (cur->is_array()) {
      for (json& e : *cur) stack.push_back(&e);
    } else if (cur->is_string()) {
      strings.push_back(&cur->get_ref<std::string&>());
    } else if (cur->is_number()) {
      numbers.push_back(cur);
    }
  }
  scrubber.Seal();
  for (std::string* v : strings) scrubber.ScrubString(v);
  if (scrubber.MayMaskNumbers()) {
    for (json* n : numbers) {
      if (scrubber.IsSecretNumber(n->dump())) *n = std::string(kMasked);
    }
  }
}

std::string Scrub(absl::string_view text, absl::Span<const std::string> scrub) {
  std::string out(text);
  for (const std::string& f : AllForms(scrub)) {
    absl::StrReplaceAll({{f, "***"}}, &out);
  }
  MaskUrlSecrets(&out);
  return out;
}

}  // namespace fivetran_gateway
