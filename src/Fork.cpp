// SPDX-License-Identifier: BSD-3-Clause
#include "Fork.h"

#include <pthread.h>

#include "DynamicCounterRegistry.h"
#include "KeyTable.h"
#include "ThreadWaitState.h"
#include "WaitBatch.h"
#include "WaitCounterImpl.h"
#include "recording/CounterSampler.h"

namespace probemon::detail {
namespace {

void beforeFork() {
  DynamicCounterRegistry::instance().lockForFork();
  ThreadWaitState::lockAllForFork();
  lockWaitCountersForFork();
  lockKeysForFork();
  WaitBatch::lockAllForFork();
}

void unlockAfterFork(bool in_child) {
  WaitBatch::unlockAllAfterFork(in_child);
  unlockKeysAfterFork(in_child);
  unlockWaitCountersAfterFork(in_child);
  ThreadWaitState::unlockAllAfterFork(in_child);
  DynamicCounterRegistry::instance().unlockAfterFork(in_child);
  if (in_child) CounterSampler::forgetRunningThreadAfterFork();
}

}  // namespace

void watchForks() {
  [[maybe_unused]] static const int registered = ::pthread_atfork(
      beforeFork, [] { unlockAfterFork(false); }, [] { unlockAfterFork(true); });
}

}  // namespace probemon::detail
