#include "client/fivetranctl/channel.h"

#include <cstdlib>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/fivetranctl/errors.h"
#include "client/fivetranctl/input.h"

namespace fivetranctl {
namespace {

constexpr char kTokenEnv[] = "FIVETRAN_GATEWAY_TOKEN";
constexpr char kTokenFileEnv[] = "FIVETRAN_GATEWAY_TOKEN_FILE";

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

// A token as gRPC metadata can carry it after "Bearer ": visible ASCII, no spaces. `from` names
// where it came from; the token itself is never in the message.
std::string CheckedToken(std::string token, const std::string& from) {
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) {
    token.pop_back();
  }
  if (token.empty()) throw UsageError(absl::StrCat(from, ": the token is empty"));
  for (char c : token) {
    if (c == '\n') {
      throw UsageError(
          absl::StrCat(from, ": holds more than one line; it must hold the token only"));
    }
    if (c < 0x21 || c > 0x7e) {
      throw UsageError(
          absl::StrCat(from, ": the token must be printable ASCII without spaces or tabs"));
    }
  }
  return token;
}

std::string Token(const CLI::App& app, const SecurityFlags& flags) {
  if (app.get_option("--token-file")->count() > 0) {
    const std::string flag = "--token-file " + flags.token_file;
    return CheckedToken(ReadInput("--token-file", flags.token_file), flag);
  }
  if (std::string token = Env(kTokenEnv); !token.empty()) {
    return CheckedToken(token, absl::StrCat("$", kTokenEnv));
  }
  if (std::string file = Env(kTokenFileEnv); !file.empty()) {
    const std::string from = absl::StrCat("$", kTokenFileEnv, " (", file, ")");
    return CheckedToken(ReadInput(from, file), from);
  }
  return "";
}

// The reason at the end of gRPC's "failed to connect ...; last error: ...: REASON".
std::string LastReason(const std::string& message) {
  size_t at = message.rfind("::");  // OpenSSL's "error:0A000086:SSL routines::REASON"
  if (at != std::string::npos) return OneLine(message.substr(at + 2));
  at = message.rfind(": ");
  return OneLine(at == std::string::npos ? message : message.substr(at + 2));
}

}  // namespace

void AddSecurityFlags(CLI::App* app, SecurityFlags* flags) {
  const std::string group = "Security";
  app->add_flag("--tls", flags->tls,
                "Use TLS, trusting the system's CAs (default: $FIVETRAN_GATEWAY_TLS, e.g. 1)")
      ->envname("FIVETRAN_GATEWAY_TLS")
      ->group(group);
  app->add_option("--ca-file", flags->ca_file,
                  "Use TLS, trusting the CAs in this PEM file (default: $FIVETRAN_GATEWAY_CA_FILE)")
      ->envname("FIVETRAN_GATEWAY_CA_FILE")
      ->type_name("FILE")
      ->group(group);
  app->add_option("--cert", flags->cert_file,
                  "Client certificate chain (PEM) for mutual TLS (default: $FIVETRAN_GATEWAY_CERT)")
      ->envname("FIVETRAN_GATEWAY_CERT")
      ->type_name("FILE")
      ->group(group);
  app->add_option("--key", flags->key_file,
                  "Private key (PEM) of --cert (default: $FIVETRAN_GATEWAY_KEY)")
      ->envname("FIVETRAN_GATEWAY_KEY")
      ->type_name("FILE")
      ->group(group);
  app->add_option("--token-file", flags->token_file,
                  "File holding the bearer token (else $FIVETRAN_GATEWAY_TOKEN, else the file "
                  "named by $FIVETRAN_GATEWAY_TOKEN_FILE); there is no --token")
      ->type_name("FILE")
      ->group(group);
  app->add_option("--server-name", flags->server_name,
                  "Name to expect in the gateway's certificate (default: "
                  "$FIVETRAN_GATEWAY_SERVER_NAME, else the host of --server)")
      ->envname("FIVETRAN_GATEWAY_SERVER_NAME")
      ->type_name("NAME")
      ->group(group);
  // Hidden: a token on the command line is readable by every user of the machine (ps, shell
  // history). Accepted by the parser only to be refused with a message that omits its value.
  app->add_option("--token", flags->token_trap)->group("");
}

Security ResolveSecurity(const CLI::App& app, const SecurityFlags& flags) {
  if (app.get_option("--token")->count() > 0) {
    throw UsageError(absl::StrCat(
        "--token: a token is never a command-line value (other users can read it with ps); use "
        "--token-file FILE or $",
        kTokenEnv));
  }
  Security s;
  s.tls = flags.tls || !flags.ca_file.empty() || !flags.cert_file.empty();
  if (flags.cert_file.empty() != flags.key_file.empty()) {
    throw UsageError("--cert and --key go together (mutual TLS needs both)");
  }
  if (!flags.server_name.empty() && !s.tls) {
    throw UsageError("--server-name needs TLS: add --tls or --ca-file FILE");
  }
  if (!flags.ca_file.empty()) {
    s.pem_roots = ReadInput("--ca-file", flags.ca_file);
    if (!absl::StrContains(s.pem_roots, "-----BEGIN CERTIFICATE-----")) {
      throw UsageError(absl::StrCat("--ca-file: '", flags.ca_file, "' holds no PEM certificate"));
    }
  }
  if (!flags.cert_file.empty()) {
    s.pem_cert = ReadInput("--cert", flags.cert_file);
    s.pem_key = ReadInput("--key", flags.key_file);
  }
  s.server_name = flags.server_name;
  s.token = Token(app, flags);
  return s;
}

// The largest response fivetranctl reads. gRPC's default is 4 MB, and a page
// of 1,000 connections (what --all asks for) with configs of a few KB each is
// more; 256 MB still stops a runaway answer.
constexpr int kMaxResponseBytes = 256 << 20;

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& server, const Security& security) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxResponseBytes);
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (security.tls) {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = security.pem_roots;
    options.pem_cert_chain = security.pem_cert;
    options.pem_private_key = security.pem_key;
    credentials = grpc::SslCredentials(options);
    if (!security.server_name.empty()) args.SetSslTargetNameOverride(security.server_name);
  }
  return grpc::CreateCustomChannel(server, credentials, args);
}

bool IsLoopbackAddress(const std::string& server) {
  if (absl::StartsWith(server, "unix:")) return true;
  std::string host = server;
  if (absl::StartsWith(host, "ipv4:") || absl::StartsWith(host, "ipv6:")) host = host.substr(5);
  if (absl::StartsWith(host, "[")) {
    host = host.substr(1, host.find(']') == std::string::npos ? 0 : host.find(']') - 1);
  } else if (host.find(':') != std::string::npos) {
    host = host.substr(0, host.rfind(':'));
  }
  return host == "localhost" || host == "::1" || absl::StartsWith(host, "127.");
}

std::optional<ConnectFailure> ExplainConnectFailure(const grpc::Status& status,
                                                    const std::string& server, bool tls) {
  const std::string& m = status.error_message();
  // A status the gateway sent carries a google.rpc.Status; this is the client's own.
  if (status.error_code() != grpc::StatusCode::UNAVAILABLE || !status.error_details().empty() ||
      !absl::StrContains(m, "failed to connect to all addresses")) {
    return std::nullopt;
  }
  const std::string handshake = absl::StrCat("UNAVAILABLE: TLS handshake with ", server, " failed");
  if (absl::StrContains(m, "wrong version number")) {
    return ConnectFailure{
        absl::StrCat(handshake,
                     ": the gateway does not serve TLS (drop --tls, --ca-file, --cert and --key)"),
        kExitTls};
  }
  if (absl::StrContains(m, "Peer name")) {
    return ConnectFailure{absl::StrCat(handshake, ": ", LastReason(m),
                                       " (--server-name NAME sets the name to expect)"),
                          kExitTls};
  }
  if (absl::StrContains(m, "andshake") || absl::StrContains(m, "certificate")) {
    return ConnectFailure{
        absl::StrCat(handshake, ": ", LastReason(m),
                     " (is --ca-file the CA that signed the gateway's certificate? with mutual "
                     "TLS, does the gateway trust the CA of --cert?)"),
        kExitTls};
  }
  const bool closed = absl::StrContains(m, "Socket closed") ||
                      absl::StrContains(m, "Connection reset") ||
                      absl::StrContains(m, "Broken pipe");
  if (closed && !tls) {
    return ConnectFailure{
        absl::StrCat("UNAVAILABLE: ", server,
                     " closed the connection without answering: the gateway probably requires "
                     "TLS (use --tls, or --ca-file FILE)"),
        kExitTls};
  }
  if (closed) {
    return ConnectFailure{
        absl::StrCat(handshake,
                     ": the gateway closed the connection (with mutual TLS it refuses a client "
                     "without a certificate it trusts: --cert and --key)"),
        kExitTls};
  }
  return std::nullopt;
}

}  // namespace fivetranctl
