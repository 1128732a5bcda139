#include "emulator/clock.h"

#include <cstdint>

namespace fivetran_emulator {

std::string FormatTimestamp(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", TruncateToMicros(t), absl::UTCTimeZone());
}

absl::Time TruncateToMicros(absl::Time t) {
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) return t;
  return absl::FromUnixMicros(absl::ToUnixMicros(t));
}

absl::Time TimestampIssuer::Issue(absl::Time at_least) {
  absl::Time t = TruncateToMicros(at_least);
  if (last_ != absl::InfinitePast() && t <= last_) t = last_ + absl::Microseconds(1);
  last_ = t;
  return t;
}

}  // namespace fivetran_emulator
