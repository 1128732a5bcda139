// The names of the fleet's keys in the StateStore, in one place. Every key
// is scoped per Fivetran credential set by CredentialScope (a hash of the
// API key id, never of the secret, and never the key itself), under the
// store's prefix (--state_store_prefix):
//
//   creates:{scope}:{method}:{request_id}   a create's claim, then its result
//   budget:{scope}:blocked                  the 429 circuit: until when (Unix ms)
//   budget:{scope}:remaining                "LIMIT REMAINING OBSERVED_MS"
#ifndef FIVETRAN_GATEWAY_SERVER_STATE_KEYS_H_
#define FIVETRAN_GATEWAY_SERVER_STATE_KEYS_H_

#include <string>

#include "absl/strings/string_view.h"

namespace fivetran_gateway::state {

// 32 hex digits of SHA-256 of the API key id: the same on every replica,
// and telling nothing of the key.
std::string CredentialScope(absl::string_view api_key);

std::string CreateKey(absl::string_view scope, absl::string_view method,
                      absl::string_view request_id);
std::string BudgetKey(absl::string_view scope);

}  // namespace fivetran_gateway::state

#endif  // FIVETRAN_GATEWAY_SERVER_STATE_KEYS_H_
