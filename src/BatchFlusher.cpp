// SPDX-License-Identifier: BSD-3-Clause
#include "BatchFlusher.h"

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <system_error>
#include <thread>

#include <probemon/ApproximateClock.h>

#include "WaitBatch.h"

namespace probemon::detail {
namespace {

std::atomic<bool> g_running{false};

void startThread() {
  // Detached: it runs until the process ends, and touches only leaked state.
  std::thread([] {
    calibrateApproximateClock();
    for (;;) {
      std::this_thread::sleep_for(BatchFlusher::kPeriod);
      WaitBatch::handOverAll();
    }
  }).detach();
}

}  // namespace

void BatchFlusher::ensureRunning() noexcept {
  static std::once_flag once;
  try {
    std::call_once(once, [] {
      startThread();
      g_running.store(true);
      std::atexit([] { WaitBatch::handOverAll(); });
    });
  } catch (const std::system_error&) {
    // No thread now (the next buffer registered tries again): batches still
    // go every 1,024 waits and as threads exit.
  }
}

void BatchFlusher::restartInChild() {
  if (g_running.load()) startThread();
}

}  // namespace probemon::detail
