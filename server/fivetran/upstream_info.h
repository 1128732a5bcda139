// What is known about the upstream exchange of one call, for logs and tests.
#ifndef FIVETRAN_GATEWAY_SERVER_FIVETRAN_UPSTREAM_INFO_H_
#define FIVETRAN_GATEWAY_SERVER_FIVETRAN_UPSTREAM_INFO_H_

#include <string>

namespace fivetran_gateway::fivetran {

struct UpstreamInfo {
  int http_status = 0;  // Of the last attempt; 0 when no response arrived.
  std::string http_version;
  int attempts = 0;  // HTTP requests started for the call (retries included).
};

}  // namespace fivetran_gateway::fivetran

#endif  // FIVETRAN_GATEWAY_SERVER_FIVETRAN_UPSTREAM_INFO_H_
