// SPDX-License-Identifier: BSD-3-Clause
// probemon/detail/ProbeState.h: whether a tracer is attached to a probe.
//
// For backend authors and tests: reads the probe's semaphore, which the
// kernel raises while a uprobe (bpftrace, perf, the probemon tool) is
// attached to the probe in this process. Always false in a build without
// USDT.
#pragma once

#include <probemon/detail/Export.h>

namespace probemon::detail {

// The probes of provider `probemon` (see docs/probes.md).
enum class Probe {
  WaitStart,
  WaitDone,
  CounterRegister,
  CounterUnregister,
  DynamicValue,
  WaitBatch,
};

PROBEMON_API bool probeAttached(Probe probe) noexcept;

}  // namespace probemon::detail
