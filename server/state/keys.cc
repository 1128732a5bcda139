#include "server/state/keys.h"

#include <openssl/evp.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace fivetran_gateway::state {

std::string CredentialScope(absl::string_view api_key) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  std::string input = absl::StrCat("fivetran-gateway/key-id/", api_key);
  EVP_Digest(input.data(), input.size(), digest, &size, EVP_sha256(), nullptr);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), size < 16 ? size : 16));
}

std::string CreateKey(absl::string_view scope, absl::string_view method,
                      absl::string_view request_id) {
  // The request id is caller text: hex keeps the key printable and unambiguous.
  return absl::StrCat("creates:", scope, ":", method, ":", absl::BytesToHexString(request_id));
}

std::string BudgetKey(absl::string_view scope) { return absl::StrCat("budget:", scope); }

}  // namespace fivetran_gateway::state
