// SPDX-License-Identifier: BSD-3-Clause
// Per-thread strict nesting of a recording's spans, which Perfetto requires
// of the events on one track (and chrome://tracing draws wrongly without):
// events are sorted by thread, then start, spans longest first at equal
// starts (so a parent precedes its child in the file, which is what decides
// at equal timestamps), and a span that ends after the span enclosing it is
// clamped to its parent's end and marked, as PyTorch's
// clampOverrunningPythonEvents does. That happens when a wait's guard is
// moved and stopped after an enclosing wait or call ended.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <probemon/Result.h>

namespace probemon::detail {

// Sorts `events` as above (counter samples, which belong to the process,
// last) and clamps; returns how many spans were clamped.
std::uint64_t nestPerThread(std::vector<std::shared_ptr<Result>>& events);

}  // namespace probemon::detail
