// Routing of /v1 request paths to the Fivetran endpoints the emulator serves.
#ifndef EMULATOR_ROUTES_H_
#define EMULATOR_ROUTES_H_

#include <string>
#include <vector>

namespace fivetran_emulator {

enum class RouteKind {
  kNone,
  kConnections,       // /v1/connections
  kConnection,        // /v1/connections/{id}
  kSync,              // /v1/connections/{id}/sync
  kForce,             // /v1/connections/{id}/force
  kGroups,            // /v1/groups
  kGroupConnections,  // /v1/groups/{id}/connections
  kUsers,             // /v1/users
};

struct Route {
  RouteKind kind = RouteKind::kNone;
  std::string id;  // {id}, percent-decoded
};

// Matches a raw request path (not decoded). Segments are split first, then
// percent-decoded one by one; empty segments match nothing, a single trailing
// "/" is ignored, and "connectors" is the same as "connections".
Route MatchRoute(const std::string& raw_path);

// The methods `kind` answers (HEAD counts as GET); empty for kNone.
std::vector<std::string> AllowedMethods(RouteKind kind);

}  // namespace fivetran_emulator

#endif  // EMULATOR_ROUTES_H_
