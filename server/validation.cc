#include "server/validation.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "server/common/status.h"

namespace fivetran_gateway {
namespace {

// google.protobuf.Timestamp's range, 0001-01-01T00:00:00Z to
// 9999-12-31T23:59:59.999999999Z, and Duration's, +-10,000 years.
constexpr int64_t kMinTimestampSeconds = -62135596800;
constexpr int64_t kMaxTimestampSeconds = 253402300799;
constexpr int64_t kMaxDurationSeconds = 315576000000;

absl::Status InvalidField(absl::string_view field, absl::string_view why) {
  return MakeFieldError(absl::StatusCode::kInvalidArgument, field, absl::StrCat(field, " ", why),
                        "INVALID_FIELD");
}

constexpr absl::string_view kTokenVersion = "p1";
constexpr absl::string_view kSignedTokenVersion = "p2";
constexpr size_t kMacBytes = 16;  // HMAC-SHA256, truncated (128 bits).

// HMAC-SHA256 of scope and cursor under `key`, truncated to kMacBytes.
std::string PageTokenMac(absl::string_view key, absl::string_view scope, absl::string_view cursor) {
  std::string data = absl::StrCat(scope.size(), ":", scope, cursor);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &size);
  return std::string(reinterpret_cast<const char*>(mac), kMacBytes);
}

// FNV-1a, 64 bits: stable across runs and builds (absl::Hash is not).
uint64_t Fingerprint(absl::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

absl::Status ValidateId(absl::string_view field, absl::string_view id) {
  auto bad = [&](absl::string_view why) {
    return MakeFieldError(absl::StatusCode::kInvalidArgument, field, absl::StrCat(field, " ", why),
                          "INVALID_FIELD");
  };
  if (id.empty()) {
    return MakeFieldError(absl::StatusCode::kInvalidArgument, field,
                          absl::StrCat(field, " is required"), "MISSING_FIELD");
  }
  if (id.size() > kMaxIdLength) {
    return bad(absl::StrCat("is longer than ", kMaxIdLength, " characters"));
  }
  if (id == ".") return bad("must not be \".\"");
  if (absl::StrContains(id, "..")) return bad("must not contain \"..\"");
  for (unsigned char c : id) {
    if (c < 0x20 || c == 0x7f || absl::ascii_isspace(c)) {
      return bad("must not contain whitespace or control characters");
    }
    // Fivetran ids are ASCII; this also keeps out Unicode spaces, controls
    // and bidi marks that would only confuse logs and URLs.
    if (c >= 0x80) return bad("must be printable ASCII");
    if (c == '/' || c == '?' || c == '#' || c == '%' || c == '\\') {
      return bad(absl::StrFormat("must not contain '%c'", c));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateFilter(absl::string_view field, absl::string_view value) {
  if (value.size() > kMaxFilterLength) {
    return MakeFieldError(absl::StatusCode::kInvalidArgument, field,
                          absl::StrCat(field, " is longer than ", kMaxFilterLength, " bytes"),
                          "INVALID_FIELD");
  }
  return absl::OkStatus();
}

absl::StatusOr<int> EffectivePageSize(int page_size) {
  if (page_size < 0) {
    return MakeFieldError(absl::StatusCode::kInvalidArgument, "page_size",
                          "page_size must not be negative", "INVALID_FIELD");
  }
  if (page_size == 0) return kDefaultPageSize;
  return page_size > kMaxPageSize ? kMaxPageSize : page_size;
}

std::string EncodePageToken(absl::string_view cursor, absl::string_view scope,
                            absl::string_view key) {
  if (cursor.empty()) return "";
  if (!key.empty()) {
    return absl::WebSafeBase64Escape(
        absl::StrCat(kSignedTokenVersion, ":", PageTokenMac(key, scope, cursor), cursor));
  }
  return absl::WebSafeBase64Escape(
      absl::StrCat(kTokenVersion, ":", absl::Hex(Fingerprint(scope)), ":", cursor));
}

absl::StatusOr<std::string> DecodePageToken(absl::string_view token, absl::string_view scope,
                                            absl::string_view key) {
  if (token.empty()) return std::string();
  auto invalid = [](absl::string_view why) {
    return MakeFieldError(absl::StatusCode::kInvalidArgument, "page_token",
                          absl::StrCat("page_token ", why), "INVALID_PAGE_TOKEN");
  };
  std::string raw;
  if (token.size() > kMaxPageTokenLength || !absl::WebSafeBase64Unescape(token, &raw)) {
    return invalid("is not a token issued by this gateway");
  }
  if (!key.empty()) {
    // kSignedTokenVersion ":" MAC cursor; the MAC covers scope and cursor.
    absl::string_view rest = raw;
    const size_t head = kSignedTokenVersion.size() + 1;
    if (rest.size() <= head + kMacBytes ||
        rest.substr(0, head) != absl::StrCat(kSignedTokenVersion, ":")) {
      return invalid("is not a token issued by this gateway");
    }
    absl::string_view mac = rest.substr(head, kMacBytes);
    absl::string_view cursor = rest.substr(head + kMacBytes);
    const std::string want = PageTokenMac(key, scope, cursor);
    if (CRYPTO_memcmp(mac.data(), want.data(), kMacBytes) != 0) {
      return invalid(
          "is not valid here: it was altered, or issued for a different request (other filters "
          "or method)");
    }
    return std::string(cursor);
  }
  std::vector<absl::string_view> parts = absl::StrSplit(raw, absl::MaxSplits(':', 2));
  if (parts.size() != 3 || parts[0] != kTokenVersion || parts[2].empty()) {
    return invalid("is not a token issued by this gateway");
  }
  if (parts[1] != absl::StrCat(absl::Hex(Fingerprint(scope)))) {
    return invalid("was issued for a different request (other filters or method)");
  }
  return std::string(parts[2]);
}

// Seconds and nanoseconds apart: int64 nanoseconds overflow after 2262.
google::protobuf::Timestamp TimestampOf(absl::Time t) {
  google::protobuf::Timestamp out;
  const int64_t seconds = absl::ToUnixSeconds(t);  // Rounds towards the past.
  out.set_seconds(seconds);
  out.set_nanos(static_cast<int32_t>((t - absl::FromUnixSeconds(seconds)) / absl::Nanoseconds(1)));
  return out;
}

// A request Timestamp, checked against its documented range.
absl::StatusOr<absl::Time> RequestTime(absl::string_view field,
                                       const google::protobuf::Timestamp& t) {
  if (t.nanos() < 0 || t.nanos() > 999999999) {
    return InvalidField(field, "has nanos outside 0..999999999");
  }
  if (t.seconds() < kMinTimestampSeconds || t.seconds() > kMaxTimestampSeconds) {
    return InvalidField(field, "is outside 0001-01-01T00:00:00Z..9999-12-31T23:59:59.999999999Z");
  }
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

// A request Duration, checked against its documented form; negative is
// refused (a polling interval cannot be).
absl::Status ValidateInterval(absl::string_view field, const google::protobuf::Duration& d) {
  if (d.nanos() < -999999999 || d.nanos() > 999999999) {
    return InvalidField(field, "has nanos outside -999999999..999999999");
  }
  if ((d.seconds() > 0 && d.nanos() < 0) || (d.seconds() < 0 && d.nanos() > 0)) {
    return InvalidField(field, "has seconds and nanos of different signs");
  }
  if (d.seconds() < -kMaxDurationSeconds || d.seconds() > kMaxDurationSeconds) {
    return InvalidField(field, "is outside the range of google.protobuf.Duration");
  }
  if (d.seconds() < 0 || d.nanos() < 0) return InvalidField(field, "is negative");
  return absl::OkStatus();
}

}  // namespace fivetran_gateway
