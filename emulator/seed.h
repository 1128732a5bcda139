// The built-in, deterministic demo account (same content on every run) and the
// word lists used to mint `adjective_noun` ids.
#ifndef EMULATOR_SEED_H_
#define EMULATOR_SEED_H_

#include <cstdint>
#include <set>
#include <string>

#include "nlohmann/json.hpp"

namespace fivetran_emulator {

// Deterministic generator of `adjective_noun` ids that skips ids in `taken`.
// The n-th call always returns the same id for the same `taken` history.
class IdMinter {
 public:
  std::string Next(std::set<std::string>* taken);
  uint64_t position() const { return position_; }

 private:
  uint64_t position_ = 0;
};

// The API user all API keys act as (`connected_by` of created connections).
inline constexpr char kApiUserId[] = "mended_kettle";

// The built-in seed: {"groups":[...],"users":[...],"connections":[...]} where
// every element has the shape the REST API returns, except that connection
// `config` objects hold unmasked values. `--dump_seed` prints exactly this.
nlohmann::json BuiltinSeed();

}  // namespace fivetran_emulator

#endif  // EMULATOR_SEED_H_
