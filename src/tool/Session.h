// How long a view runs: until Ctrl-C or SIGTERM, --duration, or the target
// process exits; with a tick every --interval and, for trace, a file
// descriptor (the ring buffer) to serve when it is readable. One loop for
// every view, on poll(2) over a signalfd, a pidfd and a timerfd.
#pragma once

#include <functional>
#include <string>

#include "Options.h"
#include "Target.h"

namespace probemon::tool {

enum class EndReason { Interrupted, DurationOver, TargetExited };
const char* describe(EndReason reason);

// Blocks SIGINT and SIGTERM (they are read from a signalfd instead, so
// Ctrl-C during attach cannot leave half a setup behind) and ignores
// SIGPIPE (a closed pipe is a write error, not a death). Call first.
void blockStopSignals();

class Session {
 public:
  Session(const Options& options, const Target& target);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Also serve `fd` with `on_ready` whenever it is readable.
  void watch(int fd, std::function<void()> on_ready);

  // Runs until the end; calls on_tick every tick_s seconds (0: never).
  EndReason run(double tick_s, const std::function<void()>& on_tick);

 private:
  const Options& options_;
  int signal_fd_ = -1;
  int pid_fd_ = -1;  // -1 with --path: no single process to outlive
  int watched_fd_ = -1;
  std::function<void()> on_watched_;
};

}  // namespace probemon::tool
