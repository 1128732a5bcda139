// NewConnection: a create request, validated and turned into the body of
// POST /v1/connections (request bodies: mapping.h).
#include "absl/strings/match.h"
#include "server/common/status.h"
#include "server/fivetran/fivetran_api.h"
#include "server/fivetran/mapping.h"

namespace fivetran_gateway::fivetran {
namespace {

// A request-body validation error -> INVALID_ARGUMENT with a BadRequest
// naming the field.
absl::Status FieldViolationStatus(const absl::Status& status, const FieldViolation& violation) {
  if (violation.field.empty()) return status;
  return MakeFieldError(
      absl::StatusCode::kInvalidArgument, violation.field, status.message(),
      absl::StrContains(status.message(), "required") ? "MISSING_FIELD" : "INVALID_FIELD");
}

}  // namespace

absl::StatusOr<NewConnection> NewConnection::From(const v1::CreateConnectionRequest& request) {
  FieldViolation violation;
  absl::StatusOr<nlohmann::json> body = CreateConnectionBody(request, &violation);
  if (!body.ok()) return FieldViolationStatus(body.status(), violation);
  return NewConnection(*std::move(body));
}

absl::StatusOr<NewConnection> NewConnection::From(const v1::CreateFtpConnectionRequest& request) {
  FieldViolation violation;
  absl::StatusOr<nlohmann::json> body = CreateFtpConnectionBody(request, &violation);
  if (!body.ok()) return FieldViolationStatus(body.status(), violation);
  return NewConnection(*std::move(body));
}

}  // namespace fivetran_gateway::fivetran
