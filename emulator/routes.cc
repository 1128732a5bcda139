#include "emulator/routes.h"

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "emulator/http_util.h"

namespace fivetran_emulator {

Route MatchRoute(const std::string& raw_path) {
  Route route;
  absl::string_view p = raw_path;
  if (!absl::ConsumePrefix(&p, "/")) return route;
  if (p.size() > 1 && absl::EndsWith(p, "/")) p.remove_suffix(1);
  std::vector<std::string> segs;
  for (absl::string_view s : absl::StrSplit(p, '/')) {
    if (s.empty()) return route;
    segs.push_back(DecodeSegment(s));
  }
  if (segs.size() < 2 || segs[0] != "v1") return route;
  const bool conn = segs[1] == "connections" || segs[1] == "connectors";
  if (conn && segs.size() == 2) {
    route.kind = RouteKind::kConnections;
  } else if (conn && segs.size() == 3) {
    route.kind = RouteKind::kConnection;
    route.id = segs[2];
  } else if (conn && segs.size() == 4 && (segs[3] == "sync" || segs[3] == "force")) {
    route.kind = segs[3] == "sync" ? RouteKind::kSync : RouteKind::kForce;
    route.id = segs[2];
  } else if (segs[1] == "groups" && segs.size() == 2) {
    route.kind = RouteKind::kGroups;
  } else if (segs[1] == "groups" && segs.size() == 4 &&
             (segs[3] == "connections" || segs[3] == "connectors")) {
    route.kind = RouteKind::kGroupConnections;
    route.id = segs[2];
  } else if (segs[1] == "users" && segs.size() == 2) {
    route.kind = RouteKind::kUsers;
  }
  return route;
}

std::vector<std::string> AllowedMethods(RouteKind kind) {
  switch (kind) {
    case RouteKind::kConnections:
      return {"GET", "POST"};
    case RouteKind::kSync:
    case RouteKind::kForce:
      return {"POST"};
    case RouteKind::kNone:
      return {};
    default:
      return {"GET"};
  }
}

}  // namespace fivetran_emulator
