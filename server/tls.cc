#include "server/tls.h"

#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <time.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace fivetran_gateway {
namespace {

absl::StatusOr<std::string> ReadWholeFile(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", what, " ", path));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Number of PEM certificates in `pem`; -1 when a PEM block is malformed.
int CountCertificates(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  int n = 0;
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    X509_free(cert);
    ++n;
  }
  ERR_clear_error();  // The end of the input also leaves an error behind.
  BIO_free(bio);
  return n;
}

}  // namespace

absl::Status CheckServerTlsFiles(const ServerTlsOptions& options) {
  if (options.cert_file.empty() || options.key_file.empty()) {
    return absl::InvalidArgumentError("--tls_cert and --tls_key go together");
  }
  absl::StatusOr<std::string> cert_pem = ReadWholeFile(options.cert_file, "--tls_cert");
  if (!cert_pem.ok()) return cert_pem.status();
  absl::StatusOr<std::string> key_pem = ReadWholeFile(options.key_file, "--tls_key");
  if (!key_pem.ok()) return key_pem.status();

  BIO* cert_bio = BIO_new_mem_buf(cert_pem->data(), static_cast<int>(cert_pem->size()));
  X509* cert = PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr);
  BIO_free(cert_bio);
  BIO* key_bio = BIO_new_mem_buf(key_pem->data(), static_cast<int>(key_pem->size()));
  // No passphrase callback: an encrypted key fails here rather than prompting.
  EVP_PKEY* key = PEM_read_bio_PrivateKey(
      key_bio, nullptr, [](char*, int, int, void*) { return 0; }, nullptr);
  BIO_free(key_bio);
  absl::Status status;
  if (cert == nullptr) {
    status = absl::InvalidArgumentError(
        absl::StrCat("--tls_cert ", options.cert_file, " holds no PEM certificate"));
  } else if (key == nullptr) {
    status = absl::InvalidArgumentError(
        absl::StrCat("--tls_key ", options.key_file, " holds no unencrypted PEM private key"));
  } else if (X509_check_private_key(cert, key) != 1) {
    status = absl::InvalidArgumentError(absl::StrCat(
        "--tls_key ", options.key_file, " does not match --tls_cert ", options.cert_file));
  }
  X509_free(cert);
  EVP_PKEY_free(key);
  ERR_clear_error();
  if (!status.ok()) return status;

  if (!options.client_ca_file.empty()) {
    absl::StatusOr<std::string> ca_pem = ReadWholeFile(options.client_ca_file, "--tls_client_ca");
    if (!ca_pem.ok()) return ca_pem.status();
    if (CountCertificates(*ca_pem) == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--tls_client_ca ", options.client_ca_file, " holds no PEM certificate"));
    }
  }
  return absl::OkStatus();
}

std::shared_ptr<grpc::ServerCredentials> MakeServerTlsCredentials(const ServerTlsOptions& options) {
  const unsigned int interval = static_cast<unsigned int>(
      std::max<int64_t>(1, absl::ToInt64Seconds(options.reload_interval)));
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      options.key_file, options.cert_file, options.client_ca_file, interval);
  grpc::experimental::TlsServerCredentialsOptions tls(provider);
  tls.watch_identity_key_cert_pairs();
  if (options.client_ca_file.empty()) {
    tls.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  } else {
    tls.watch_root_certs();
    tls.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  }
  return grpc::experimental::TlsServerCredentials(tls);
}

TlsFileWatch::Look TlsFileWatch::Check() {
  Look look;
  std::string contents;
  for (const std::string* path :
       {&options_.cert_file, &options_.key_file, &options_.client_ca_file}) {
    if (path->empty()) continue;
    absl::StatusOr<std::string> text = ReadWholeFile(*path, "TLS file");
    // An unreadable file (mid-replacement) counts as empty: the next look
    // sees the new one.
    absl::StrAppend(&contents, text.ok() ? text->size() : 0, ":", text.ok() ? *text : "", "\n");
    if (path == &options_.cert_file && text.ok()) {
      BIO* bio = BIO_new_mem_buf(text->data(), static_cast<int>(text->size()));
      if (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
        time_t t = 0;
        struct tm when;
        if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &when) == 1 && (t = timegm(&when)) > 0) {
          look.not_after = absl::FromTimeT(t);
        }
        X509_free(cert);
      }
      ERR_clear_error();
      BIO_free(bio);
    }
  }
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(contents.data()), contents.size(), digest);
  OPENSSL_cleanse(contents.data(), contents.size());  // It held the private key.
  std::string hex(reinterpret_cast<const char*>(digest), sizeof(digest));
  look.changed = !last_digest_.empty() && hex != last_digest_;
  last_digest_ = std::move(hex);
  return look;
}

absl::StatusOr<std::string> UpstreamCaBundle(const std::string& extra_ca_file) {
  absl::StatusOr<std::string> extra = ReadWholeFile(extra_ca_file, "--fivetran_ca_file");
  if (!extra.ok()) return extra.status();
  if (CountCertificates(*extra) == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--fivetran_ca_file ", extra_ca_file, " holds no PEM certificate"));
  }
  std::string bundle;
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("SSL_CERT_FILE"); env != nullptr && *env != '\0') {
    candidates.push_back(env);
  }
  candidates.insert(candidates.end(), {"/etc/ssl/certs/ca-certificates.crt",
                                       "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"});
  for (const std::string& path : candidates) {
    absl::StatusOr<std::string> system = ReadWholeFile(path, "system CA bundle");
    if (system.ok() && !system->empty()) {
      bundle = std::move(*system);
      break;
    }
  }
  if (!bundle.empty() && bundle.back() != '\n') bundle.push_back('\n');
  bundle += *extra;
  return bundle;
}

}  // namespace fivetran_gateway
