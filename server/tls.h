// TLS of the gRPC listener (certificates reloaded from disk) and the trust
// store for the upstream Fivetran API.
#ifndef FIVETRAN_GATEWAY_SERVER_TLS_H_
#define FIVETRAN_GATEWAY_SERVER_TLS_H_

#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace fivetran_gateway {

struct ServerTlsOptions {
  std::string cert_file;  // PEM certificate chain.
  std::string key_file;   // PEM private key of the certificate.
  // PEM CAs that sign client certificates; set: mutual TLS, a client
  // without a certificate they verify is refused during the handshake.
  std::string client_ca_file;
  // How often the files are checked for changes (at least 1s).
  absl::Duration reload_interval = absl::Seconds(60);
};

// Checks the files now, so that a mistake stops the start-up with a clear
// message instead of failing every handshake: readable PEM, the key matches
// the certificate, the client CA file holds at least one certificate.
absl::Status CheckServerTlsFiles(const ServerTlsOptions& options);

// TLS server credentials that re-read the files every reload_interval: new
// connections get the new certificate, established ones keep theirs.
std::shared_ptr<grpc::ServerCredentials> MakeServerTlsCredentials(const ServerTlsOptions& options);

// Watches the listener's certificate files for the metrics: whether they
// changed since the last look (gRPC's certificate provider reloads them on
// its own, on the same interval), and the current certificate's expiry.
// Only a SHA-256 of the files' contents is kept, never the key.
class TlsFileWatch {
 public:
  explicit TlsFileWatch(ServerTlsOptions options) : options_(std::move(options)) {}
  struct Look {
    bool changed = false;  // The contents differ from the last look (never on the first).
    // notAfter of the first certificate of --tls_cert; nullopt when unreadable.
    std::optional<absl::Time> not_after;
  };
  // Reads the files (small local files: a quick, blocking read).
  Look Check();

 private:
  const ServerTlsOptions options_;
  std::string last_digest_;  // "" before the first look.
};

// The system's CA bundle followed by the certificates of `extra_ca_file`
// (PEM; must hold at least one certificate), for libcurl.
absl::StatusOr<std::string> UpstreamCaBundle(const std::string& extra_ca_file);

}  // namespace fivetran_gateway

#endif  // FIVETRAN_GATEWAY_SERVER_TLS_H_
