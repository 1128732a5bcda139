#include "emulator/api_handlers.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "emulator/api_error.h"
#include "emulator/http_util.h"
#include "httplib.h"

namespace fivetran_emulator {
namespace {

using nlohmann::json;

// The effective method: HEAD is served as GET.
std::string MethodOf(const httplib::Request& req) {
  return req.method == "HEAD" ? "GET" : req.method;
}

// `force` of a sync body: a boolean, or "true"/"false"; absent or null keeps
// `fallback`.
absl::StatusOr<bool> ForceFrom(const json& body, bool fallback) {
  auto f = body.find("force");
  if (f == body.end() || f->is_null()) return fallback;
  if (f->is_boolean()) return f->get<bool>();
  if (f->is_string() && (f->get<std::string>() == "true" || f->get<std::string>() == "false")) {
    return f->get<std::string>() == "true";
  }
  return InvalidInput("Field 'force' must be a boolean");
}

// The `active` filter of the users listing: absent, or true/false in any case.
absl::StatusOr<std::optional<bool>> ActiveFrom(const httplib::Request& req) {
  std::optional<std::string> a = Param(req, "active");
  if (!a.has_value()) return std::optional<bool>();
  const std::string v = absl::AsciiStrToLower(*a);
  if (v != "true" && v != "false") {
    return InvalidInput("Invalid value for query parameter 'active': use true or false");
  }
  return std::optional<bool>(v == "true");
}

}  // namespace

void ApiHandlers::Serve(const httplib::Request& req, const std::string& raw_path,
                        httplib::Response& res) {
  const Route route = MatchRoute(raw_path);
  std::optional<json> body = CheckRequest(req, raw_path, route, res);
  if (!body.has_value()) return;
  switch (route.kind) {
    case RouteKind::kConnection:
      return GetConnection(route, res);
    case RouteKind::kConnections:
      if (MethodOf(req) == "POST") return CreateConnection(*body, res);
      return ListConnections(req, res);
    case RouteKind::kSync:
    case RouteKind::kForce:
      return TriggerSync(route, *body, res);
    case RouteKind::kGroups:
      return ListGroups(req, res);
    case RouteKind::kGroupConnections:
      return ListGroupConnections(route, req, res);
    case RouteKind::kUsers:
      return ListUsers(req, res);
    case RouteKind::kNone:
      break;
  }
  WriteError(res, 404, "NotFound", "No such endpoint");
}

std::optional<json> ApiHandlers::CheckRequest(const httplib::Request& req,
                                              const std::string& raw_path, const Route& route,
                                              httplib::Response& res) {
  if (!AcceptOk(req)) {
    WriteError(res, 406, "NotAcceptable",
               "Unsupported Accept header; use application/json or "
               "application/json;version=2");
    return std::nullopt;
  }
  if (route.kind == RouteKind::kNone) {
    WriteError(res, 404, "NotFound",
               absl::StrCat("No such endpoint: ", Cut(raw_path, kMaxEchoedPath)));
    return std::nullopt;
  }
  const std::string method = MethodOf(req);
  const std::vector<std::string> allowed = AllowedMethods(route.kind);
  if (std::find(allowed.begin(), allowed.end(), method) == allowed.end()) {
    res.set_header("Allow", absl::StrJoin(allowed, ", "));
    WriteError(res, 405, "MethodNotAllowed",
               absl::StrCat("Method ", Cut(req.method, 20), " is not allowed for ",
                            Cut(raw_path, kMaxEchoedPath)));
    return std::nullopt;
  }
  if (method != "POST") return json();
  if (!ContentTypeOk(req)) {
    WriteError(res, 415, "UnsupportedMediaType", "Content-Type must be application/json");
    return std::nullopt;
  }
  absl::StatusOr<json> parsed = ParseBody(req.body);
  if (!parsed.ok()) {
    WriteStatus(res, parsed.status());
    return std::nullopt;
  }
  return std::move(*parsed);
}

void ApiHandlers::GetConnection(const Route& route, httplib::Response& res) {
  absl::StatusOr<json> c = account_.GetConnection(route.id);
  if (!c.ok()) return WriteStatus(res, c.status());
  WriteSuccess(res, 200, "Connection details retrieved successfully", std::move(*c));
}

void ApiHandlers::CreateConnection(const json& body, httplib::Response& res) {
  absl::StatusOr<json> c = account_.CreateConnection(body);
  if (!c.ok()) return WriteStatus(res, c.status());
  WriteSuccess(res, 201, "Connection has been created", std::move(*c));
}

void ApiHandlers::ListConnections(const httplib::Request& req, httplib::Response& res) {
  absl::StatusOr<PageRequest> page = PageFrom(req);
  if (!page.ok()) return WriteStatus(res, page.status());
  std::optional<std::string> group = Param(req, "group_id");
  if (group.has_value() && group->empty()) group.reset();
  absl::StatusOr<std::string> data = account_.ListConnections(group, Param(req, "schema"), *page);
  if (!data.ok()) return WriteStatus(res, data.status());
  WriteSuccessText(res, 200, "Connections retrieved successfully", *data);
}

void ApiHandlers::TriggerSync(const Route& route, const json& body, httplib::Response& res) {
  bool force = route.kind == RouteKind::kForce;
  if (!body.is_null() && !body.is_object()) {
    return WriteStatus(res, InvalidInput("Request body must be a JSON object"));
  }
  if (route.kind == RouteKind::kSync && body.is_object()) {
    absl::StatusOr<bool> f = ForceFrom(body, force);
    if (!f.ok()) return WriteStatus(res, f.status());
    force = *f;
  }
  absl::Status s = account_.TriggerSync(route.id, force);
  if (!s.ok()) return WriteStatus(res, s);
  WriteSuccess(res, 200,
               absl::StrCat("Sync has been successfully triggered for connection with id '",
                            Cut(route.id, kMaxEchoedPath), "'"),
               std::nullopt);
}

void ApiHandlers::ListGroups(const httplib::Request& req, httplib::Response& res) {
  absl::StatusOr<PageRequest> page = PageFrom(req);
  if (!page.ok()) return WriteStatus(res, page.status());
  absl::StatusOr<std::string> data = account_.ListGroups(*page);
  if (!data.ok()) return WriteStatus(res, data.status());
  WriteSuccessText(res, 200, "Groups retrieved successfully", *data);
}

void ApiHandlers::ListGroupConnections(const Route& route, const httplib::Request& req,
                                       httplib::Response& res) {
  absl::StatusOr<PageRequest> page = PageFrom(req);
  if (!page.ok()) return WriteStatus(res, page.status());
  absl::StatusOr<std::string> data =
      account_.ListConnections(route.id, Param(req, "schema"), *page);
  if (!data.ok()) return WriteStatus(res, data.status());
  WriteSuccessText(res, 200, "Group connections retrieved successfully", *data);
}

void ApiHandlers::ListUsers(const httplib::Request& req, httplib::Response& res) {
  absl::StatusOr<PageRequest> page = PageFrom(req);
  if (!page.ok()) return WriteStatus(res, page.status());
  absl::StatusOr<std::optional<bool>> active = ActiveFrom(req);
  if (!active.ok()) return WriteStatus(res, active.status());
  absl::StatusOr<std::string> data = account_.ListUsers(*active, *page);
  if (!data.ok()) return WriteStatus(res, data.status());
  WriteSuccessText(res, 200, "Users list retrieved successfully", *data);
}

}  // namespace fivetran_emulator
