#include "server/fivetran/fivetran_api.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/status.h"

namespace fivetran_gateway::fivetran {

ApiCallback<SerializedConnection> ParsedInto(ApiCallback<v1::Connection> done) {
  return [done = std::move(done)](absl::StatusOr<SerializedConnection> connection,
                                  const UpstreamInfo& upstream) {
    if (!connection.ok()) return done(connection.status(), upstream);
    v1::Connection message;
    if (!SerializedConnection::ParseInto(connection->bytes, &message)) {
      return done(
          MakeError(absl::StatusCode::kInternal,
                    "the connection read from Fivetran could not be decoded",
                    "FIVETRAN_BAD_RESPONSE", {{"http_status", absl::StrCat(upstream.http_status)}}),
          upstream);
    }
    done(std::move(message), upstream);
  };
}

}  // namespace fivetran_gateway::fivetran
