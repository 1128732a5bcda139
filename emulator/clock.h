// Timestamp formatting and a strictly increasing timestamp source.
#ifndef EMULATOR_CLOCK_H_
#define EMULATOR_CLOCK_H_

#include <string>

#include "absl/time/time.h"

namespace fivetran_emulator {

// RFC 3339 UTC with exactly six fraction digits and a `Z`, e.g.
// "2025-03-02T09:14:07.512031Z" (the format Fivetran uses).
std::string FormatTimestamp(absl::Time t);

// Drops everything below one microsecond (rounding towards the past).
absl::Time TruncateToMicros(absl::Time t);

// Hands out timestamps that strictly increase at microsecond resolution:
// Issue(t) returns max(t, previous + 1us). Not thread-safe; the owner guards it.
class TimestampIssuer {
 public:
  absl::Time Issue(absl::Time at_least);
  void Reset() { last_ = absl::InfinitePast(); }

 private:
  absl::Time last_ = absl::InfinitePast();
};

}  // namespace fivetran_emulator

#endif  // EMULATOR_CLOCK_H_
