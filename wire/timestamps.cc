#include "wire/timestamps.h"

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "wire/snippet.h"

namespace fivetran_gateway::wire {
namespace {

using ::google::protobuf::Timestamp;

constexpr size_t kSnippetChars = 40;

}  // namespace

absl::StatusOr<Timestamp> ParseTimestamp(absl::string_view text) {
  auto bad = [&text]() {
    return absl::InvalidArgumentError(
        absl::StrCat("not an RFC 3339 timestamp: \"", Sanitize(text, kSnippetChars), "\""));
  };
  size_t i = 0;
  // Reads exactly n digits.
  auto digits = [&](int n, int* out) {
    int v = 0;
    for (int k = 0; k < n; ++k, ++i) {
      if (i >= text.size() || !absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) {
        return false;
      }
      v = v * 10 + (text[i] - '0');
    }
    *out = v;
    return true;
  };
  auto lit = [&](char c) {
    if (i < text.size() && text[i] == c) {
      ++i;
      return true;
    }
    return false;
  };
  int year, month, day, hour, minute, second;
  if (!digits(4, &year) || !lit('-') || !digits(2, &month) || !lit('-') || !digits(2, &day)) {
    return bad();
  }
  if (!lit('T') && !lit('t')) return bad();
  if (!digits(2, &hour) || !lit(':') || !digits(2, &minute) || !lit(':') || !digits(2, &second)) {
    return bad();
  }
  int32_t nanos = 0;
  if (lit('.')) {
    int n = 0;
    while (i < text.size() && absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) {
      if (++n > 9) return bad();
      nanos = nanos * 10 + (text[i] - '0');
      ++i;
    }
    if (n == 0) return bad();
    for (; n < 9; ++n) nanos *= 10;
  }
  int64_t offset = 0;
  if (lit('Z') || lit('z')) {
  } else if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
    const int sign = text[i] == '-' ? -1 : 1;
    ++i;
    int oh, om;
    if (!digits(2, &oh) || !lit(':') || !digits(2, &om) || oh > 23 || om > 59) return bad();
    offset = sign * (oh * 3600 + om * 60);
  } else {
    return bad();
  }
  if (i != text.size()) return bad();

  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1) return bad();
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (day > kDays[month - 1] + (month == 2 && leap ? 1 : 0)) return bad();
  if (hour > 23 || minute > 59 || second > 60) return bad();

  // Days since 1970-01-01 (H. Hinnant's days_from_civil).
  const int64_t y = year - (month <= 2 ? 1 : 0);
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const int64_t days = era * 146097 + doe - 719468;
  const int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset;
  if (seconds < google::protobuf::util::TimeUtil::kTimestampMinSeconds ||
      seconds > google::protobuf::util::TimeUtil::kTimestampMaxSeconds) {
    return bad();
  }
  Timestamp ts;
  ts.set_seconds(seconds);
  ts.set_nanos(nanos);
  return ts;
}

std::string FormatTimestamp(const Timestamp& ts) {
  return google::protobuf::util::TimeUtil::ToString(ts);
}

}  // namespace fivetran_gateway::wire
