// SPDX-License-Identifier: BSD-3-Clause
// probemon/Recording.h: record a time window in-process and write it as a
// Chrome/Perfetto trace.
//
// A recording holds, on one timeline: every wait counter wait as a span on
// the thread that started it, DynamicCounter values as counter tracks,
// instant events, and, when the probemon Python module has registered its
// tracer (<probemon/PythonTracer.h>), every Python call. The USDT probes and
// BPF tools are unaffected; this is the in-process view beside them.
//
//   probemon::Recording recording({.max_events = 2'000'000});
//   recording.start();
//   RunWorkload();
//   recording.stop();
//   recording.exportChromeTrace("workload.json");  // open in ui.perfetto.dev
//
// Cost: while no recording runs, nothing (no backend is registered, so waits
// cost what they did). While one runs, a wait on a key with no other backend
// is stamped with the TSC and stored in 24 bytes of its thread's block,
// without a lock: about half a wait with one backend (docs/performance.md).
//
// The trace: `X` events with microsecond ts/dur (nanoseconds kept as three
// decimals, CLOCK_MONOTONIC, like `probemon trace --format chrome`), strictly
// nested per thread (a span that overruns its parent is clamped and marked
// args.clamped); waits still open at stop end at the stop time with
// args.open_at_stop; `C` counter tracks; `M` process and thread names;
// otherData with the cap and every drop by cause, and a visible marker event
// when anything was dropped.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <probemon/Result.h>
#include <probemon/detail/Export.h>

namespace probemon {

struct RecordingOptions {
  // Events stored at most, over all threads and kinds (waits, instants,
  // counter samples, Python call entries); the rest are dropped, counted by
  // cause. 1,000,000 events take 16-24 MB.
  std::int64_t max_events = 1'000'000;
  bool record_waits = true;
  // DynamicCounter values, read at start, every counter_interval, and at
  // stop (only then if the interval is 0).
  bool record_counters = true;
  std::chrono::nanoseconds counter_interval = std::chrono::milliseconds(10);
  // Make the registered Python tracer (a no-op if none is registered) and
  // ask it for garbage-collector runs.
  bool python = true;
  bool python_gc = true;
  // The trace's process name; the program's name if empty.
  std::string process_name;
};

// What a recording did not store, by cause. Never silent: also in the
// trace's otherData.dropped.
struct RecordingDrops {
  std::uint64_t waits_over_cap = 0;
  std::uint64_t python_calls_over_cap = 0;
  std::uint64_t instants_over_cap = 0;
  std::uint64_t counter_samples_over_cap = 0;
  // A DynamicCounter callback threw: no sample.
  std::uint64_t counter_callback_failed = 0;
  // Storage could not be allocated.
  std::uint64_t no_memory = 0;

  std::uint64_t total() const {
    return waits_over_cap + python_calls_over_cap + instants_over_cap + counter_samples_over_cap +
           counter_callback_failed + no_memory;
  }
};

// One recording: start() once, stop(), then read or export it. One
// recording runs at a time per process. start(), stop() and the exports are
// for one thread at a time; instant() may be called from any thread while
// the object exists.
class PROBEMON_API Recording {
 public:
  // std::invalid_argument if max_events or counter_interval is negative.
  explicit Recording(RecordingOptions options = {});
  ~Recording();  // stops a running recording
  Recording(const Recording&) = delete;
  Recording& operator=(const Recording&) = delete;

  // Starts recording. Throws std::logic_error if this recording was started
  // before or another one is running. A recording started within about 25
  // ms of the process's start may sleep until then to calibrate the clock
  // (calibrateApproximateClock()).
  void start();
  // Stops recording: waits started later are not recorded; waits still
  // open end at the stop time. Idempotent; does nothing before start().
  void stop();
  bool running() const;

  // An instant event on the calling thread, now; the name is copied. No
  // lock; nothing happens unless the recording is running.
  void instant(std::string_view name);

  // After stop() (std::logic_error otherwise).
  RecordingDrops dropped() const;
  // The events. The first call of these builds them: converts the stamps,
  // merges the Python tracer's events, nests and clamps per thread.
  const std::vector<std::shared_ptr<Result>>& events();
  // Spans clamped to their parent's end.
  std::uint64_t clamped();
  // Writes the Chrome trace JSON to `path`, streaming. Throws
  // std::runtime_error naming the path and the reason if it cannot be
  // written (and leaves no partial file).
  void exportChromeTrace(const std::string& path);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace probemon
