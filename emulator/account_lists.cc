// Account listings: connections (all or per group, by schema), groups and
// users (by active), in cursor pages ordered by id.
#include <functional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "emulator/account.h"
#include "emulator/api_error.h"
#include "emulator/json_fields.h"
#include "emulator/masking.h"

namespace fivetran_emulator {

using nlohmann::json;

namespace {

// Page over `items` (sorted by id) keeping those `keep` accepts.
template <typename Pred>
absl::StatusOr<json> Page(const std::map<std::string, json>& items, const PageRequest& page,
                          absl::string_view fingerprint, Pred keep,
                          const std::function<json(const json&)>& render) {
  auto it = items.begin();
  if (!page.cursor.empty()) {
    absl::StatusOr<std::string> after = DecodeCursor(page.cursor, fingerprint);
    if (!after.ok()) return after.status();
    it = items.upper_bound(*after);
  }
  json out = json::array();
  std::string last_id;
  for (; it != items.end(); ++it) {
    if (!keep(it->second)) continue;
    if (static_cast<int>(out.size()) == page.limit) break;
    out.push_back(render(it->second));
    last_id = it->first;
  }
  // `it` now points at the first unreturned candidate; look for another match.
  bool more = false;
  for (; it != items.end(); ++it) {
    if (keep(it->second)) {
      more = true;
      break;
    }
  }
  json data{{"items", std::move(out)}};
  if (more) data["next_cursor"] = EncodeCursor(last_id, fingerprint);
  return data;
}

json Identity(const json& j) { return j; }

}  // namespace

absl::StatusOr<json> Account::ListConnections(const std::optional<std::string>& group_id,
                                              const std::optional<std::string>& schema,
                                              const PageRequest& page) {
  absl::MutexLock lock(&mu_);
  SettleLocked(Now());
  if (group_id.has_value() && groups_.count(*group_id) == 0) {
    return NotFoundError("NotFound_Group",
                         absl::StrCat("Group with id '", Echo(*group_id), "' does not exist."));
  }
  const std::string fingerprint =
      absl::StrCat("connections|", group_id.has_value() ? "g=" + *group_id : "", "|",
                   schema.has_value() ? "s=" + *schema : "");
  auto keep = [&](const json& c) {
    if (group_id.has_value() && StringOr(c, "group_id") != *group_id) return false;
    if (schema.has_value() && StringOr(c, "schema") != *schema) return false;
    return true;
  };
  return Page(connections_, page, fingerprint, keep, RenderConnection);
}

absl::StatusOr<json> Account::ListGroups(const PageRequest& page) {
  absl::MutexLock lock(&mu_);
  return Page(
      groups_, page, "groups", [](const json&) { return true; }, Identity);
}

absl::StatusOr<json> Account::ListUsers(std::optional<bool> active, const PageRequest& page) {
  absl::MutexLock lock(&mu_);
  const std::string fingerprint =
      absl::StrCat("users|", active.has_value() ? (*active ? "active" : "inactive") : "all");
  auto keep = [&](const json& u) {
    if (!active.has_value()) return true;
    const json* a = Find(u, "active");
    return a != nullptr && a->is_boolean() && a->get<bool>() == *active;
  };
  return Page(users_, page, fingerprint, keep, Identity);
}

}  // namespace fivetran_emulator
