#include "server/fivetran/client.h"

#include <algorithm>
#include <functional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "server/fivetran/errors.h"
#include "server/fivetran/mapping.h"

namespace fivetran_gateway::fivetran {

std::string UrlEncode(absl::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

absl::Status BadResponse(const absl::Status& mapping_error, int http_status) {
  return MakeError(absl::StatusCode::kInternal,
                   absl::StrCat("Fivetran's response does not have the documented shape: ",
                                mapping_error.message()),
                   "FIVETRAN_BAD_RESPONSE", {{"http_status", absl::StrCat(http_status)}});
}

absl::StatusOr<::fivetran::gateway::v1::Connection> ConnectionFromEnvelope(
    const absl::StatusOr<nlohmann::json>& envelope, int http_status) {
  if (!envelope.ok()) return envelope.status();
  absl::StatusOr<nlohmann::json> data = DataObject(*envelope);
  if (!data.ok()) return BadResponse(data.status(), http_status);
  absl::StatusOr<::fivetran::gateway::v1::Connection> connection = ConnectionFromJson(*data);
  if (!connection.ok()) return BadResponse(connection.status(), http_status);
  return connection;
}

FivetranClient::FivetranClient(ClientOptions options, HttpTransport* transport)
    : options_(std::move(options)), transport_(transport) {
  absl::string_view base = options_.base_url;
  while (absl::ConsumeSuffix(&base, "/")) {
  }
  absl::ConsumeSuffix(&base, "/v1");
  options_.base_url = std::string(base);
}

std::shared_ptr<HttpCall> FivetranClient::Get(std::string path, absl::Time deadline,
                                              EnvelopeCallback done) {
  return Send("GET", std::move(path), "", deadline, std::move(done));
}

std::shared_ptr<HttpCall> FivetranClient::Post(std::string path, const nlohmann::json& body,
                                               absl::Time deadline, EnvelopeCallback done) {
  return Send("POST", std::move(path), body.dump(), deadline, std::move(done), SecretValues(body));
}

std::vector<std::string> SecretValues(const nlohmann::json& body) {
  std::vector<std::string> out;
  std::function<void(const nlohmann::json&, bool)> walk = [&](const nlohmann::json& j,
                                                              bool secret) {
    if (j.is_string()) {
      const std::string& v = j.get_ref<const std::string&>();
      // Masked values and very short ones would only mangle messages.
      if (secret && v.size() >= 3 && v != "******") out.push_back(v);
    } else if (j.is_object()) {
      for (const auto& [k, v] : j.items()) walk(v, secret || IsSecretKey(k));
    } else if (j.is_array()) {
      for (const auto& v : j) walk(v, secret);
    }
  };
  walk(body, false);
  // Longest first, so that a secret containing another is replaced whole.
  std::sort(out.begin(), out.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void ScrubJson(nlohmann::json& j, absl::Span<const std::string> secrets) {
  if (j.is_string()) {
    std::string& v = j.get_ref<std::string&>();
    for (const std::string& s : secrets) {
      if (!s.empty() && v.find(s) != std::string::npos) {
        v = "******";
        return;
      }
    }
  } else if (j.is_object() || j.is_array()) {
    for (auto& v : j) ScrubJson(v, secrets);
  }
}

std::shared_ptr<HttpCall> FivetranClient::Send(std::string method, std::string path,
                                               std::string body, absl::Time deadline,
                                               EnvelopeCallback done,
                                               std::vector<std::string> secrets) {
  HttpRequest request;
  request.method = method;
  request.url = absl::StrCat(options_.base_url, path);
  request.headers = {"Accept: application/json;version=2",
                     absl::StrCat("User-Agent: ", options_.user_agent)};
  if (method == "POST") request.headers.push_back("Content-Type: application/json");
  request.body = std::move(body);
  request.username = options_.api_key;
  request.password = options_.api_secret;
  request.deadline = std::min(deadline, absl::Now() + options_.max_request_time);

  UpstreamOp op{method, std::string(path.substr(0, path.find('?')))};
  // Everything no message, detail or response may carry: the credentials
  // and the secret values of the request. Copied, so the callback does not
  // depend on this client's lifetime.
  secrets.push_back(options_.api_key);
  secrets.push_back(options_.api_secret);
  return transport_->Send(std::move(request), [op = std::move(op), secrets = std::move(secrets),
                                               done = std::move(done)](HttpResult result) {
    UpstreamInfo info;
    if (!result.ok) {
      done(StatusFromTransportError(result.error, op), info);
      return;
    }
    const HttpResponse& response = result.response;
    info.http_status = response.status;
    info.http_version = response.http_version;
    if (response.status < 200 || response.status > 299) {
      done(StatusFromHttpError(response, op, absl::Now(), secrets), info);
      return;
    }
    absl::StatusOr<nlohmann::json> envelope =
        ParseJsonBody(response.body, response.status, response.content_type);
    if (!envelope.ok()) {
      absl::Status status =
          MakeError(absl::StatusCode::kInternal, Scrub(envelope.status().message(), secrets),
                    "FIVETRAN_BAD_RESPONSE",
                    {{"http_status", absl::StrCat(response.status)},
                     {"upstream_method", op.method},
                     {"upstream_path", op.path}});
      if (op.mutating()) {
        // The request was applied, only the answer is unreadable.
        AddErrorMetadata(status, "outcome", "applied");
      }
      done(std::move(status), info);
      return;
    }
    // Fivetran masks secrets; make sure of it, so that neither the
    // caller nor a mapping error message can see one.
    *envelope = RedactSecrets(*envelope);
    ScrubJson(*envelope, secrets);
    done(std::move(envelope), info);
  });
}

}  // namespace fivetran_gateway::fivetran
