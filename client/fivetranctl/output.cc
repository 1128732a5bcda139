#include "client/fivetranctl/output.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/fivetranctl/errors.h"
#include "client/fivetranctl/proto_json.h"
#include "wire/enum_names.h"
#include "wire/json_value.h"
#include "wire/timestamps.h"

namespace fivetranctl {

namespace wire = ::fivetran_gateway::wire;

std::string ToJson(const google::protobuf::Message& message, bool pretty) {
  std::string out;
  AppendProtoJson(message, &out);
  if (!pretty) return out;
  return nlohmann::ordered_json::parse(out).dump(2, ' ', false,
                                                 nlohmann::json::error_handler_t::replace);
}

std::string ShortTime(const google::protobuf::Timestamp& ts, bool has) {
  if (!has) return "-";
  const absl::Time t = absl::FromUnixSeconds(ts.seconds());
  const absl::Duration age = absl::Now() - t;
  // Like ls -l: time of day for the last ~6 months, else the date.
  if (age < absl::Hours(24 * 182) && age > -absl::Hours(24)) {
    return absl::FormatTime("%b %d %H:%M", t, absl::UTCTimeZone());
  }
  return absl::FormatTime("%E4Y-%m-%d", t, absl::UTCTimeZone());
}

std::string LongTime(const google::protobuf::Timestamp& ts, bool has) {
  if (!has) return "never";
  return wire::FormatTimestamp(ts);
}

// ---------------------------------------------------------------------------------------------
// TableWriter.

size_t StdoutTerminalWidth() {
  if (!isatty(STDOUT_FILENO)) return 0;
  winsize size{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  size_t columns = 0;
  const char* env = std::getenv("COLUMNS");
  if (env != nullptr && absl::SimpleAtoi(env, &columns) && columns > 0) return columns;
  return 80;
}

TableWriter::TableWriter(std::ostream& out, const std::vector<Column>& columns,
                         TableOptions options)
    : out_(out), options_(options) {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].wide_only && !options.wide) continue;
    columns_.push_back(columns[i]);
    shown_.push_back(i);
  }
}

void TableWriter::AddRow(const std::vector<std::string>& cells) {
  std::vector<std::string> row;
  for (size_t i : shown_) {
    std::string cell = i < cells.size() ? OneLine(cells[i]) : "";
    row.push_back(cell.empty() ? "-" : cell);
  }
  pending_.push_back(std::move(row));
}

bool TableWriter::FitWidths() {
  const size_t n = columns_.size();
  const bool terminal = options_.width > 0;
  widths_.assign(n, 0);
  for (size_t i = 0; i < n; ++i) {
    size_t w = options_.headers ? columns_[i].header.size() : 1;
    for (const auto& row : pending_) w = std::max(w, row[i].size());
    if (terminal && columns_[i].max_width > 0) {
      w = std::min(w, std::max(columns_[i].max_width, columns_[i].header.size()));
    }
    widths_[i] = w;
  }
  if (!terminal) return true;
  auto total = [&] {
    size_t t = 2 * (n - 1);
    for (size_t w : widths_) t += w;
    return t;
  };
  // Shrink the widest shrinkable column, one character at a time, until the table fits.
  while (total() > options_.width) {
    size_t best = n;
    for (size_t i = 0; i < n; ++i) {
      const size_t floor = std::max(columns_[i].min_width, columns_[i].header.size());
      if (!columns_[i].shrink || widths_[i] <= floor) continue;
      if (best == n || widths_[i] > widths_[best]) best = i;
    }
    if (best == n) return false;
    --widths_[best];
  }
  return true;
}

void TableWriter::DropColumn(size_t i) {
  columns_.erase(columns_.begin() + static_cast<std::ptrdiff_t>(i));
  shown_.erase(shown_.begin() + static_cast<std::ptrdiff_t>(i));
  for (auto& row : pending_) row.erase(row.begin() + static_cast<std::ptrdiff_t>(i));
}

void TableWriter::ChooseWidths() {
  // Too narrow even with every shrinkable column at its floor: drop columns, rightmost first.
  while (!FitWidths()) {
    size_t drop = 0;
    for (size_t i = columns_.size(); i-- > 1;) {
      if (!columns_[i].keep) {
        drop = i;
        break;
      }
    }
    if (drop == 0) return;  // Only kept columns are left: they overflow.
    DropColumn(drop);
  }
}

void TableWriter::PrintRow(const std::vector<std::string>& cells) {
  std::string line;
  for (size_t i = 0; i < cells.size(); ++i) {
    std::string cell = cells[i];
    if (options_.width > 0 && columns_[i].shrink && cell.size() > widths_[i]) {
      cell = cell.substr(0, widths_[i] - 1) + "~";
    }
    if (i + 1 < cells.size()) {
      if (cell.size() < widths_[i]) cell.append(widths_[i] - cell.size(), ' ');
      cell += "  ";
    }
    line += cell;
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  out_ << line << '\n';
}

void TableWriter::Flush() {
  if (!started_) {
    ChooseWidths();
    std::vector<std::string> header;
    for (const Column& c : columns_) header.push_back(c.header);
    if (options_.headers) PrintRow(header);
    started_ = true;
  }
  for (const auto& row : pending_) PrintRow(row);
  pending_.clear();
  out_.flush();
}

// ---------------------------------------------------------------------------------------------
// Resources.

namespace {

template <typename E>
std::string EnumText(const std::string& raw, E value) {
  if (!raw.empty()) return raw;
  std::string s(wire::FivetranEnumString(value));
  return s.empty() ? "-" : s;
}

}  // namespace

std::string SetupStateText(const v1::Connection& c) {
  return EnumText(c.status().setup_state_raw(), c.status().setup_state());
}

std::string SyncStateText(const v1::Connection& c) {
  return EnumText(c.status().sync_state_raw(), c.status().sync_state());
}

std::vector<Column> ConnectionColumns() {
  return {{"ID", false},
          {"GROUP", false, 4, 0, true},
          {"SCHEMA", true, 8, 0, false, true},
          {"SERVICE", true, 7, 14},
          {"STATE", true, 11, 12},
          {"PAUSED", false, 4, 0, true},
          {"SCHEDULE", false, 4, 0, true},
          {"LAST SUCCESS", false, 12, 0},
          {"LAST FAILURE", false, 12, 0},
          {"CREATED", false, 4, 0, true}};
}

std::string StateText(const v1::Connection& c) {
  const std::string setup = SetupStateText(c);
  if (setup != "connected" && setup != "-") return setup;
  return SyncStateText(c);
}

std::vector<std::string> ConnectionRow(const v1::Connection& c) {
  std::string schedule = EnumText(c.schedule_type_raw(), c.schedule_type());
  if (c.has_sync_frequency()) absl::StrAppend(&schedule, "/", c.sync_frequency(), "m");
  return {c.id(),
          c.group_id(),
          c.schema(),
          c.service(),
          StateText(c),
          !c.has_paused() ? "-"
          : c.paused()    ? "yes"
                          : "no",
          schedule,
          ShortTime(c.succeeded_at(), c.has_succeeded_at()),
          ShortTime(c.failed_at(), c.has_failed_at()),
          ShortTime(c.created_at(), c.has_created_at())};
}

std::vector<Column> GroupColumns() {
  return {{"ID", false}, {"NAME", true, 8, 0, false, true}, {"CREATED", false}};
}

std::vector<std::string> GroupRow(const v1::Group& g) {
  return {g.id(), g.name(), ShortTime(g.created_at(), g.has_created_at())};
}

std::vector<Column> UserColumns() {
  return {{"ID", false},
          {"EMAIL", true, 10, 0, false, true},
          {"NAME", true, 6, 0},
          {"ROLE", true, 6, 0},
          {"STATUS", false, 6, 0},
          {"LAST LOGIN", false},
          {"VERIFIED", false, 4, 0, true},
          {"PHONE", false, 4, 0, true},
          {"CREATED", false, 4, 0, true}};
}

std::vector<std::string> UserRow(const v1::User& u) {
  std::string name = u.given_name();
  if (u.has_family_name()) name = absl::StrCat(name, name.empty() ? "" : " ", u.family_name());
  std::string status = !u.has_active() ? "-" : u.active() ? "active" : "suspended";
  if (u.has_invited() && u.invited() && !u.has_logged_in_at() && u.active()) status = "invited";
  return {u.id(),
          u.email(),
          name,
          u.has_role() ? u.role() : "-",
          status,
          ShortTime(u.logged_in_at(), u.has_logged_in_at()),
          !u.has_verified() ? "-"
          : u.verified()    ? "yes"
                            : "no",
          u.has_phone() ? u.phone() : "-",
          ShortTime(u.created_at(), u.has_created_at())};
}

namespace {

void Line(std::ostream& out, const std::string& key, const std::string& value) {
  std::string k = key + ":";
  if (k.size() < 15) k.append(15 - k.size(), ' ');
  out << k << ' ' << OneLine(value) << '\n';
}

std::string YesNo(bool has, bool value) {
  if (!has) return "-";
  return value ? "yes" : "no";
}

std::string TestStatusText(const v1::SetupTestResult& t) {
  return EnumText(t.status_raw(), t.status());
}

}  // namespace

int PrintSetupTests(std::ostream& out, const v1::Connection& c) {
  int failed = 0;
  if (c.setup_tests().empty()) {
    out << "setup tests:   none ran\n";
    return 0;
  }
  out << "setup tests:\n";
  for (const v1::SetupTestResult& t : c.setup_tests()) {
    const bool bad = t.status() == v1::SETUP_TEST_STATUS_FAILED ||
                     t.status() == v1::SETUP_TEST_STATUS_JOB_FAILED;
    if (bad) ++failed;
    std::string status = TestStatusText(t);
    std::string mark = bad ? "  !! " : "     ";
    std::string padded = status;
    if (padded.size() < 10) padded.append(10 - padded.size(), ' ');
    std::string line = absl::StrCat(mark, padded, " ", t.title());
    if (!t.message().empty()) absl::StrAppend(&line, ": ", t.message());
    out << OneLine(line) << '\n';
  }
  return failed;
}

void PrintConnectionDetails(std::ostream& out, const v1::Connection& c) {
  Line(out, "id", c.id());
  Line(out, "group", c.group_id());
  std::string service = c.service();
  if (c.has_service_version()) absl::StrAppend(&service, " (version ", c.service_version(), ")");
  Line(out, "service", service);
  Line(out, "schema", c.schema());
  Line(out, "setup state", SetupStateText(c));
  Line(out, "sync state", SyncStateText(c));
  Line(out, "update state", EnumText(c.status().update_state_raw(), c.status().update_state()));
  if (c.status().has_rescheduled_for()) {
    Line(out, "rescheduled", LongTime(c.status().rescheduled_for(), true));
  }
  Line(out, "paused", YesNo(c.has_paused(), c.paused()));
  std::string schedule = EnumText(c.schedule_type_raw(), c.schedule_type());
  if (c.has_sync_frequency()) absl::StrAppend(&schedule, ", every ", c.sync_frequency(), " min");
  if (c.has_daily_sync_time()) absl::StrAppend(&schedule, ", daily at ", c.daily_sync_time());
  Line(out, "schedule", schedule);
  Line(out, "last success", LongTime(c.succeeded_at(), c.has_succeeded_at()));
  Line(out, "last failure", LongTime(c.failed_at(), c.has_failed_at()));
  Line(out, "created", LongTime(c.created_at(), c.has_created_at()));
  if (c.has_connected_by()) Line(out, "connected by", c.connected_by());
  if (!c.networking_method_raw().empty() ||
      c.networking_method() != v1::NETWORKING_METHOD_UNSPECIFIED) {
    Line(out, "networking", EnumText(c.networking_method_raw(), c.networking_method()));
  }
  for (const auto& task : c.status().tasks()) {
    Line(out, "task", absl::StrCat(task.code(), ": ", task.message()));
  }
  for (const auto& warning : c.status().warnings()) {
    Line(out, "warning", absl::StrCat(warning.code(), ": ", warning.message()));
  }
  if (!c.config().fields().empty()) {
    out << "config:\n";
    std::vector<std::string> keys;
    for (const auto& [key, value] : c.config().fields()) keys.push_back(key);
    std::sort(keys.begin(), keys.end());
    for (const std::string& key : keys) {
      nlohmann::json v = wire::JsonFromValue(c.config().fields().at(key));
      std::string text = v.is_string() ? v.get<std::string>() : v.dump();
      if (text.size() > 60) text = text.substr(0, 59) + "~";
      out << "  " << OneLine(key) << ": " << OneLine(text) << '\n';
    }
  }
  if (!c.setup_tests().empty()) PrintSetupTests(out, c);
}

}  // namespace fivetranctl
