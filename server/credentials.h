// Fivetran API credentials: from the environment (FIVETRAN_API_KEY,
// FIVETRAN_API_SECRET) or from a file; never from command-line values.
#ifndef FIVETRAN_GATEWAY_SERVER_CREDENTIALS_H_
#define FIVETRAN_GATEWAY_SERVER_CREDENTIALS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace fivetran_gateway {

struct Credentials {
  std::string api_key;     // Secret: never logged.
  std::string api_secret;  // Secret: never logged.
};

// With a non-empty `path`, reads a file of `NAME=value` lines
// (FIVETRAN_API_KEY and FIVETRAN_API_SECRET; `#` starts a comment; values may
// be quoted). Otherwise reads the two environment variables. Errors say what
// is missing, never a value.
absl::StatusOr<Credentials> LoadCredentials(absl::string_view path);

// Parses the file format above from `text`.
absl::StatusOr<Credentials> ParseCredentials(absl::string_view text, absl::string_view origin);

}  // namespace fivetran_gateway

#endif  // FIVETRAN_GATEWAY_SERVER_CREDENTIALS_H_
