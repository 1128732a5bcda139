// What is known about the upstream exchange of one call, for logs and tests.
#ifndef FIVETRAN_GATEWAY_SERVER_FIVETRAN_UPSTREAM_INFO_H_
#define FIVETRAN_GATEWAY_SERVER_FIVETRAN_UPSTREAM_INFO_H_

#include <string>

#include "absl/time/time.h"

namespace fivetran_gateway::fivetran {

struct UpstreamInfo {
  int http_status = 0;  // Of the last attempt; 0 when no response arrived.
  std::string http_version;
  int attempts = 0;  // HTTP requests started for the call (retries included).
  // Set by the read cache (cached_api.h) on the reads it handles: kHit =
  // answered from it, `cache_age` old, nothing sent (attempts 0); kMiss =
  // read from Fivetran. Set by the read-ahead (read_ahead_api.h): kReadAhead
  // = the page was read ahead for this caller `cache_age` ago. kNone: no
  // read cache was asked (off, or a write).
  enum class Cache { kNone, kMiss, kHit, kReadAhead };
  Cache cache = Cache::kNone;
  absl::Duration cache_age;  // kHit, kReadAhead: how long ago the answer was read.
};

}  // namespace fivetran_gateway::fivetran

#endif  // FIVETRAN_GATEWAY_SERVER_FIVETRAN_UPSTREAM_INFO_H_
