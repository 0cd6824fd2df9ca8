// SPDX-License-Identifier: BSD-3-Clause
// The flusher of batched probe mode: a thread that hands every thread's
// partial batch (WaitBatch.h) to the kernel every 50 ms, so a thread that
// stops waiting still has its last waits counted within 100 ms, and a tool
// that detaches can collect them: each sweep ends with an empty batch the
// tool counts (docs/probes.md). A sweep of threads with nothing to hand
// over takes a lock per thread and fires nothing.
//
// The thread starts at a process's first batched wait and runs until the
// process ends: after a tool detaches, its cost is one wake-up per 50 ms (a
// sweep discards records the detached tool no longer wants). It also
// calibrates the approximate clock (ApproximateClock.h), which waits
// stamped with the TSC need. exit() hands every buffer over too (an atexit
// handler). A child of fork() starts its own thread.
#pragma once

#include <chrono>

namespace probemon::detail {

class BatchFlusher {
 public:
  static constexpr std::chrono::milliseconds kPeriod{50};

  // Starts the thread once per process.
  static void ensureRunning() noexcept;
  // In a child of fork(), where the thread does not exist: starts one if
  // the parent had one.
  static void restartInChild();
};

}  // namespace probemon::detail
