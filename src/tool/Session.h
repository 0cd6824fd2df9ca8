// SPDX-License-Identifier: BSD-3-Clause
// One run of a view: its target, the BPF programs attached to it, and how
// long it lasts: until Ctrl-C or SIGTERM, --duration, or the -p target's
// exit (unless the view outlives it, as serve does), with a rendering every
// --interval and, for trace, a file descriptor (the ring buffer) served when
// it is readable. One poll(2) loop over a signalfd, the target's pidfd and a
// timerfd, for every view.
//
//   Session session(options.target, options.duration_s);
//   LatencyHistograms latency(session, ...);   // loads and attaches (Program.h)
//   session.run({.what = "waits", .every_s = 1, .render = [&](const char* end) { ... }});
#pragma once

#include <functional>
#include <vector>

#include "Fd.h"
#include "Target.h"

namespace probemon::tool {

class Attachment;

// Blocks SIGINT and SIGTERM (they are read from a signalfd instead, so
// Ctrl-C during attach cannot leave half a setup behind) and ignores
// SIGPIPE (a closed pipe is a write error, not a death). Call first.
void blockStopSignals();

class Session {
 public:
  // Resolves the target (Target.h). `duration_s` 0: no time limit. Throws
  // ToolError.
  Session(const TargetSpec& target, double duration_s);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const Target& target() const { return target_; }

  // Throws ToolError if Ctrl-C or SIGTERM came (while attaching: the
  // attached programs detach as the error unwinds them).
  void throwIfStopped() const;

  // Also serve `fd` with `on_ready` whenever it is readable.
  void watch(int fd, std::function<void()> on_ready);

  // Also run `collect` when the run is over (with why, as render's `end`),
  // before any program is detached: a program collects what the target
  // still holds (LatencyHistograms' batched mode).
  void beforeDetach(std::function<void(const char* end)> collect);

  // What a view shows while it runs.
  struct Display {
    const char* what;                      // "waits": "Tracing probemon waits in PID 42..."
    double every_s = 0;                    // render(nullptr) this often; 0: never
    std::function<void()> announced = {};  // right after that line, e.g. a table header
    // Every `every_s`, with `end` null, and once when it is over, every
    // program detached, with why: "interrupted", "duration over" or
    // "target exited".
    std::function<void(const char* end)> render;
    // If set, the -p target's exit does not end the run: this is called
    // once, and the run goes on until a signal or --duration (serve keeps
    // serving what it gathered).
    std::function<void()> target_exited = {};
  };

  // Says on stderr that every probe is attached, runs until the end, runs
  // the beforeDetach() calls, detaches every program of the session (in
  // the reverse order of attaching) and renders the last time.
  void run(const Display& display);

 private:
  friend class Attachment;  // (un)registers itself, to be detached by run()

  const char* loop(const Display& display);

  const Target target_;
  const double duration_s_;
  Fd signal_fd_;
  int watched_fd_ = -1;
  std::function<void()> on_watched_;
  std::vector<std::function<void(const char* end)>> before_detach_;
  std::vector<Attachment*> attachments_;
};

}  // namespace probemon::tool
