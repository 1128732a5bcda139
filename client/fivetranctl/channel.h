// The channel to the gateway: TLS (server verification, mutual TLS, a server-name override),
// the bearer token, and what a connection that could not be set up means for the user.
//
// A token is never a command-line value: it comes from --token-file, else
// $FIVETRAN_GATEWAY_TOKEN, else the file named by $FIVETRAN_GATEWAY_TOKEN_FILE. It is sent as
// `authorization: Bearer TOKEN` metadata and never printed.
#ifndef CLIENT_FIVETRANCTL_CHANNEL_H_
#define CLIENT_FIVETRANCTL_CHANNEL_H_

#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <string>

namespace fivetranctl {

// The security flags as parsed (files not read yet).
struct SecurityFlags {
  bool tls = false;
  std::string ca_file;      // --ca-file, default $FIVETRAN_GATEWAY_CA_FILE
  std::string cert_file;    // --cert, default $FIVETRAN_GATEWAY_CERT
  std::string key_file;     // --key, default $FIVETRAN_GATEWAY_KEY
  std::string token_file;   // --token-file
  std::string server_name;  // --server-name
  std::string token_trap;   // a hidden --token, refused without echoing its value
};

// What the flags resolve to.
struct Security {
  bool tls = false;
  std::string pem_roots;  // empty: the system's CAs
  std::string pem_cert;   // mutual TLS
  std::string pem_key;
  std::string server_name;
  std::string token;  // empty: none sent
};

// Adds --tls, --ca-file, --cert, --key, --token-file and --server-name (in the "Security" group)
// to `app`, and a hidden --token that ResolveSecurity refuses.
void AddSecurityFlags(CLI::App* app, SecurityFlags* flags);

// Reads the files and the environment. Throws UsageError for a combination that cannot work
// (--cert without --key, --server-name without TLS, ...), an unreadable file or a token that
// gRPC metadata cannot carry; no error repeats a token.
Security ResolveSecurity(const CLI::App& app, const SecurityFlags& flags);

// A channel to `server` with the credentials of `security`.
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& server, const Security& security);

// Whether `server` (HOST:PORT, [V6]:PORT or unix:PATH) is on this machine.
bool IsLoopbackAddress(const std::string& server);

// A connection to the gateway that could not be set up, explained: the one-line message (after
// "fivetranctl: error: ") and the exit code. nullopt for any other status.
struct ConnectFailure {
  std::string line;
  int exit_code;
};
std::optional<ConnectFailure> ExplainConnectFailure(const grpc::Status& status,
                                                    const std::string& server, bool tls);

}  // namespace fivetranctl

#endif  // CLIENT_FIVETRANCTL_CHANNEL_H_
