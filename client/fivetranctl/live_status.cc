#include "client/fivetranctl/live_status.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace fivetranctl {
namespace {

// Columns of the terminal on stderr; a status line must stay shorter, or it wraps and \r no
// longer returns to its start.
size_t StderrColumns() {
  winsize size{};
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return 80;
}

void Write(const std::string& s) {
  std::fputs(s.c_str(), stderr);
  std::fflush(stderr);
}

}  // namespace

LiveStatus::LiveStatus(bool enabled, std::string what)
    : active_(enabled && isatty(STDERR_FILENO)), what_(std::move(what)), start_(absl::Now()) {
  if (active_) ticker_ = std::thread([this] { Tick(); });
}

LiveStatus::~LiveStatus() { Stop(); }

std::string LiveStatus::Elapsed(absl::Duration d) {
  const int64_t s = absl::ToInt64Seconds(d);
  if (s < 60) return absl::StrCat(s, "s");
  if (s < 3600) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  return absl::StrFormat("%dh%02dm%02ds", s / 3600, s / 60 % 60, s % 60);
}

void LiveStatus::Set(const std::string& state) {
  if (!active_) return;
  std::lock_guard<std::mutex> lock(mu_);
  state_ = state;
  drawn_ = true;
  DrawLocked();
}

void LiveStatus::Stop() {
  if (!active_) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    if (drawn_) Write("\r\x1b[K");
  }
  wake_.notify_all();
  if (ticker_.joinable()) ticker_.join();
}

void LiveStatus::DrawLocked() {
  if (stopped_ || !drawn_) return;
  std::string line = absl::StrCat(what_, " sync_state=", state_, " elapsed ",
                                  Elapsed(absl::Now() - start_), " (waiting)");
  const size_t columns = StderrColumns();
  if (line.size() >= columns) line.resize(columns > 1 ? columns - 1 : 0);
  Write("\r\x1b[K" + line);
}

void LiveStatus::Tick() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopped_) {
    wake_.wait_for(lock, std::chrono::seconds(1));
    DrawLocked();
  }
}

}  // namespace fivetranctl
