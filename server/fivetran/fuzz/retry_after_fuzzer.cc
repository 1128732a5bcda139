// Fuzz target: the Retry-After parser (delta-seconds or HTTP-date).
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "server/fivetran/errors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string value(reinterpret_cast<const char*>(data), size);
  const absl::Time now = absl::FromUnixSeconds(1790000000);
  std::optional<absl::Duration> d = fivetran_gateway::fivetran::ParseRetryAfter(value, now);
  // Never negative, never infinite.
  if (d && (*d < absl::ZeroDuration() || *d == absl::InfiniteDuration())) __builtin_trap();
  return 0;
}
