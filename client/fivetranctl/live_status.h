// A one-line status redrawn in place on a terminal (stderr): what is being waited for, its
// latest state and the time elapsed, refreshed every second. Off a terminal it draws nothing,
// and the caller prints plain lines instead (cron logs stay line-oriented).
#ifndef CLIENT_FIVETRANCTL_LIVE_STATUS_H_
#define CLIENT_FIVETRANCTL_LIVE_STATUS_H_

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "absl/time/time.h"

namespace fivetranctl {

class LiveStatus {
 public:
  // Active when `enabled` and stderr is a terminal. `what` starts the line, e.g.
  // "connection=decent_dropsy".
  LiveStatus(bool enabled, std::string what);
  ~LiveStatus();
  LiveStatus(const LiveStatus&) = delete;
  LiveStatus& operator=(const LiveStatus&) = delete;

  bool active() const { return active_; }
  // The state to show; the first call starts drawing.
  void Set(const std::string& state);
  // Erases the line and stops redrawing (before the final lines are printed).
  void Stop();

  // "42s", "3m05s", "1h02m03s".
  static std::string Elapsed(absl::Duration d);

 private:
  void DrawLocked();
  void Tick();

  const bool active_;
  const std::string what_;
  const absl::Time start_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::string state_;  // guarded by mu_
  bool drawn_ = false;
  bool stopped_ = false;
  std::thread ticker_;
};

}  // namespace fivetranctl

#endif  // CLIENT_FIVETRANCTL_LIVE_STATUS_H_
