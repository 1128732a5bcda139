// The Fivetran REST endpoints under /v1: request checks after auth and rate
// limiting (Accept, route, method, Content-Type, body), then one handler per
// route, answering from the Account.
#ifndef EMULATOR_API_HANDLERS_H_
#define EMULATOR_API_HANDLERS_H_

#include <optional>
#include <string>

#include "emulator/account.h"
#include "emulator/routes.h"
#include "nlohmann/json.hpp"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace fivetran_emulator {

class ApiHandlers {
 public:
  explicit ApiHandlers(Account& account) : account_(account) {}

  // Answers an authenticated, rate-counted /v1 request. `raw_path` is the
  // request target's path, not decoded.
  void Serve(const httplib::Request& req, const std::string& raw_path, httplib::Response& res);

 private:
  // Accept (406), route (404), method (405), then for POST Content-Type (415)
  // and body (400). Returns the parsed body (null without one), or nullopt
  // after answering the error.
  static std::optional<nlohmann::json> CheckRequest(const httplib::Request& req,
                                                    const std::string& raw_path, const Route& route,
                                                    httplib::Response& res);

  void GetConnection(const Route& route, httplib::Response& res);
  void CreateConnection(const nlohmann::json& body, httplib::Response& res);
  void ListConnections(const httplib::Request& req, httplib::Response& res);
  void TriggerSync(const Route& route, const nlohmann::json& body, httplib::Response& res);
  void ListGroups(const httplib::Request& req, httplib::Response& res);
  void ListGroupConnections(const Route& route, const httplib::Request& req,
                            httplib::Response& res);
  void ListUsers(const httplib::Request& req, httplib::Response& res);

  Account& account_;
};

}  // namespace fivetran_emulator

#endif  // EMULATOR_API_HANDLERS_H_
