// SPDX-License-Identifier: BSD-3-Clause
#include "BatchFlusher.h"

#include <atomic>
#include <cstdlib>
#include <mutex>
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

void BatchFlusher::ensureRunning() {
  static std::once_flag once;
  std::call_once(once, [] {
    std::atexit([] { WaitBatch::handOverAll(); });
    g_running.store(true);
    startThread();
  });
}

void BatchFlusher::restartInChild() {
  if (g_running.load()) startThread();
}

}  // namespace probemon::detail
