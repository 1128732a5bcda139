// Rendering of gateway resources: proto3 JSON, and aligned tables that fit the terminal (and
// never cut anything when stdout is not a terminal).
#ifndef CLIENT_FIVETRANCTL_OUTPUT_H_
#define CLIENT_FIVETRANCTL_OUTPUT_H_

#include <google/protobuf/message.h>
#include <google/protobuf/timestamp.pb.h>

#include <ostream>
#include <string>
#include <vector>

#include "fivetran/gateway/v1/connection.pb.h"
#include "fivetran/gateway/v1/group.pb.h"
#include "fivetran/gateway/v1/user.pb.h"

namespace fivetranctl {

namespace v1 = ::fivetran::gateway::v1;

enum class OutputFormat { kTable, kJson, kJsonl };

// Proto3 JSON mapping with the proto field names (snake_case); every non-optional field is
// printed (also when it has its default value), so scripts always find the same keys.
// `pretty` = indented multi-line; otherwise one line.
std::string ToJson(const google::protobuf::Message& message, bool pretty);

// For tables, in UTC, like ls -l: "Nov 29 14:00" within the last ~6 months, else "2025-03-02";
// "-" when unset.
std::string ShortTime(const google::protobuf::Timestamp& ts, bool has);
// Full RFC 3339 UTC, or "never" when unset.
std::string LongTime(const google::protobuf::Timestamp& ts, bool has);

// A column of a streamed table.
struct Column {
  std::string header;
  // Columns that may be cut (with a trailing '~') to fit a terminal. Others (ids, times) are
  // never cut.
  bool shrink = false;
  size_t min_width = 4;
  // Upper bound of the natural width on a terminal (0 = none).
  size_t max_width = 0;
  // Shown with -o wide only.
  bool wide_only = false;
  // Kept on a narrow terminal: when shrinking is not enough, the other columns are dropped,
  // the rightmost first (the first column, the id, is always kept).
  bool keep = false;
};

struct TableOptions {
  // Columns of the terminal to fit; 0 = not a terminal: no cell is ever cut.
  size_t width = 0;
  bool headers = true;
  bool wide = false;  // -o wide: every column
};

// The width of the terminal on stdout (its window size, else $COLUMNS, else 80); 0 when stdout
// is not a terminal.
size_t StdoutTerminalWidth();

// A table printed in batches: the column widths are chosen from the first batch (and the
// headers), so that the table fits the terminal, then kept for later batches, so rows can be
// printed as pages arrive.
class TableWriter {
 public:
  TableWriter(std::ostream& out, const std::vector<Column>& columns, TableOptions options = {});
  // `cells` has one cell per column of the full (wide) set.
  void AddRow(const std::vector<std::string>& cells);
  // Prints the buffered rows (and, the first time, the header).
  void Flush();

 private:
  void ChooseWidths();
  // Natural widths (capped by max_width on a terminal), then the shrinkable columns narrowed
  // until the table fits; false when it still does not.
  bool FitWidths();
  void DropColumn(size_t i);
  void PrintRow(const std::vector<std::string>& cells);

  std::ostream& out_;
  std::vector<Column> columns_;  // those shown
  std::vector<size_t> shown_;    // their indexes in the full set
  TableOptions options_;
  std::vector<size_t> widths_;
  std::vector<std::vector<std::string>> pending_;
  bool started_ = false;
};

// Table columns (the full set, with those of -o wide) and rows of each resource.
std::vector<Column> ConnectionColumns();
std::vector<std::string> ConnectionRow(const v1::Connection& c);
std::vector<Column> GroupColumns();
std::vector<std::string> GroupRow(const v1::Group& g);
std::vector<Column> UserColumns();
std::vector<std::string> UserRow(const v1::User& u);

// "connected", "scheduled", ...: Fivetran's raw string, else the enum's string, else "-".
std::string SetupStateText(const v1::Connection& c);
std::string SyncStateText(const v1::Connection& c);
// The table's STATE: the setup state when it is not "connected" (incomplete, broken), else the
// sync state (scheduled, syncing, paused, rescheduled).
std::string StateText(const v1::Connection& c);

// Multi-line "key  value" view of one connection (for get and create), including config, tasks,
// warnings and setup tests.
void PrintConnectionDetails(std::ostream& out, const v1::Connection& c);

// The setup-test results, one per line, failures marked; returns the number of tests that did
// not pass (FAILED or JOB_FAILED).
int PrintSetupTests(std::ostream& out, const v1::Connection& c);

}  // namespace fivetranctl

#endif  // CLIENT_FIVETRANCTL_OUTPUT_H_
