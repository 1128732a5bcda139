// Cursor pagination as Fivetran does it: `limit` 1..1000 (default 100) and an
// opaque `cursor`. Cursors here are keyset cursors: base64url of a small JSON
// object holding the last id of the previous page and a fingerprint of the
// listing (endpoint + filters), so a cursor cannot be replayed against a
// different listing and new items never shift later pages.
#ifndef EMULATOR_PAGINATION_H_
#define EMULATOR_PAGINATION_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace fivetran_emulator {

inline constexpr int kDefaultPageSize = 100;
inline constexpr int kMaxPageSize = 1000;

struct PageRequest {
  int limit = kDefaultPageSize;
  std::string cursor;  // raw, undecoded; empty = first page
};

// Validates the raw `limit` query value (absent = default). Non-integers and
// values outside 1..1000 are InvalidInput.
absl::StatusOr<int> ParseLimit(const std::optional<std::string>& raw_limit);

// A cursor that resumes after `after_id` in the listing `fingerprint`.
std::string EncodeCursor(absl::string_view after_id, absl::string_view fingerprint);

// Returns the id to resume after, or InvalidInput for a garbled cursor or one
// minted for another listing.
absl::StatusOr<std::string> DecodeCursor(absl::string_view cursor, absl::string_view fingerprint);

}  // namespace fivetran_emulator

#endif  // EMULATOR_PAGINATION_H_
