// Account listings: connections (all or per group, by schema), groups and
// users (by active), in cursor pages ordered by id.
#include <functional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "emulator/account.h"
#include "emulator/api_error.h"
#include "emulator/http_util.h"
#include "emulator/json_fields.h"
#include "emulator/masking.h"

namespace fivetran_emulator {

using nlohmann::json;

namespace {

// Page over `items` (sorted by id) keeping the values `keep` accepts: `data`
// as JSON text, each item's text from `text` (DumpJson's form, as
// WriteSuccessText needs).
template <typename Value, typename Keep, typename Text>
absl::StatusOr<std::string> Page(const std::map<std::string, Value>& items, const PageRequest& page,
                                 absl::string_view fingerprint, Keep keep, Text text) {
  auto it = items.begin();
  if (!page.cursor.empty()) {
    absl::StatusOr<std::string> after = DecodeCursor(page.cursor, fingerprint);
    if (!after.ok()) return after.status();
    it = items.upper_bound(*after);
  }
  std::string out = R"({"items":[)";
  int count = 0;
  std::string last_id;
  for (; it != items.end(); ++it) {
    if (!keep(it->second)) continue;
    if (count == page.limit) break;
    if (count++ > 0) out += ',';
    out += text(it->second);
    last_id = it->first;
  }
  out += ']';
  // `it` now points at the first unreturned candidate; look for another match.
  for (; it != items.end(); ++it) {
    if (keep(it->second)) {
      absl::StrAppend(&out, R"(,"next_cursor":)",
                      DumpJson(json(EncodeCursor(last_id, fingerprint))));
      break;
    }
  }
  out += '}';
  return out;
}

}  // namespace

const std::string& Account::StoredConnection::Text() const {
  if (text_.empty()) text_ = DumpJson(RenderConnection(value_));
  return text_;
}

absl::StatusOr<std::string> Account::ListConnections(const std::optional<std::string>& group_id,
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
  auto keep = [&](const StoredConnection& stored) {
    const json& c = stored.value();
    if (group_id.has_value() && StringOr(c, "group_id") != *group_id) return false;
    if (schema.has_value() && StringOr(c, "schema") != *schema) return false;
    return true;
  };
  return Page(connections_, page, fingerprint, keep,
              [](const StoredConnection& c) -> const std::string& { return c.Text(); });
}

absl::StatusOr<std::string> Account::ListGroups(const PageRequest& page) {
  absl::MutexLock lock(&mu_);
  return Page(
      groups_, page, "groups", [](const json&) { return true; }, DumpJson);
}

absl::StatusOr<std::string> Account::ListUsers(std::optional<bool> active,
                                               const PageRequest& page) {
  absl::MutexLock lock(&mu_);
  const std::string fingerprint =
      absl::StrCat("users|", active.has_value() ? (*active ? "active" : "inactive") : "all");
  auto keep = [&](const json& u) {
    if (!active.has_value()) return true;
    const json* a = Find(u, "active");
    return a != nullptr && a->is_boolean() && a->get<bool>() == *active;
  };
  return Page(users_, page, fingerprint, keep, DumpJson);
}

}  // namespace fivetran_emulator
