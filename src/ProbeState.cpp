// SPDX-License-Identifier: BSD-3-Clause
#include <probemon/detail/ProbeState.h>

#include <probemon/WaitCounter.h>

#include "probes.h"

namespace probemon::detail {

#if PROBEMON_WITH_USDT
// Followed by wait__done's and wait__batch's (probes/probemon.d).
const std::uint16_t* const wait_semaphores = &probemon_wait__start_semaphore;
#else
namespace {
// Four, as start() reads on x86-64.
constexpr std::uint16_t kNeverAttached[4] = {};
}  // namespace
const std::uint16_t* const wait_semaphores = kNeverAttached;
#endif

bool probeAttached(Probe probe) noexcept {
  switch (probe) {
    case Probe::WaitStart:
      return PROBEMON_PROBE_ENABLED(wait__start);
    case Probe::WaitDone:
      return PROBEMON_PROBE_ENABLED(wait__done);
    case Probe::CounterRegister:
      return PROBEMON_PROBE_ENABLED(counter__register);
    case Probe::CounterUnregister:
      return PROBEMON_PROBE_ENABLED(counter__unregister);
    case Probe::DynamicValue:
      return PROBEMON_PROBE_ENABLED(dynamic__value);
    case Probe::WaitBatch:
      return PROBEMON_PROBE_ENABLED(wait__batch);
  }
  return false;
}

}  // namespace probemon::detail
