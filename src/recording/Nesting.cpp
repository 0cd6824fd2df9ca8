// SPDX-License-Identifier: BSD-3-Clause
// Per-thread nesting and clamping (Nesting.h).
#include "Nesting.h"

#include <algorithm>
#include <tuple>

namespace probemon::detail {

std::uint64_t nestPerThread(std::vector<std::shared_ptr<Result>>& events) {
  const auto order = [](const Result& e) {
    const bool counter = e.kind == Result::Kind::CounterSample;
    // Spans before points at one start, longer spans first.
    return std::make_tuple(counter, counter ? 0 : e.tid, e.start_ns, !e.isSpan(), -e.end_ns);
  };
  std::stable_sort(events.begin(), events.end(),
                   [&](const auto& a, const auto& b) { return order(*a) < order(*b); });
  std::uint64_t clamped = 0;
  std::vector<time_t> open_ends;  // of the enclosing spans, innermost last
  std::uint64_t tid = 0;
  for (const auto& event : events) {
    if (!event->isSpan()) continue;
    if (event->tid != tid) {
      tid = event->tid;
      open_ends.clear();
    }
    while (!open_ends.empty() && open_ends.back() <= event->start_ns) open_ends.pop_back();
    if (!open_ends.empty() && event->end_ns > open_ends.back()) {
      event->end_ns = open_ends.back();
      event->clamped = true;
      ++clamped;
    }
    open_ends.push_back(event->end_ns);
  }
  return clamped;
}

}  // namespace probemon::detail
