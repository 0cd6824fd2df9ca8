// SPDX-License-Identifier: BSD-3-Clause
#include "BucketRange.h"

#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "Error.h"
#include "hist.h"

namespace probemon::tool {
namespace {

constexpr int kLastSlot = PM_HIST_SLOTS - 2;  // the last slot is only +Inf

struct UnitSuffix {
  std::string_view suffix;
  double ns;
};
constexpr UnitSuffix kUnits[] = {{"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}};

// "250us" in ns; negative if it is no duration.
double durationNs(std::string_view text) {
  for (const auto& [suffix, ns] : kUnits) {
    if (!text.ends_with(suffix)) continue;
    const std::string_view number = text.substr(0, text.size() - suffix.size());
    double value = -1;
    const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (number.empty() || ec != std::errc() || end != number.data() + number.size() ||
        !std::isfinite(value) || value < 0) {
      return -1;
    }
    return value * ns;
  }
  return -1;
}

// The first slot whose bound 2^(slot+1) - 1 ns is at or above `ns`.
int slotAtOrAbove(double ns) {
  int slot = 0;
  while (slot <= kLastSlot && std::ldexp(1.0, slot + 1) - 1 < ns) ++slot;
  return slot;
}

}  // namespace

BucketRange bucketRange(std::string_view text) {
  const auto colon = text.find(':');
  const double from = colon == std::string_view::npos ? -1 : durationNs(text.substr(0, colon));
  const double to = colon == std::string_view::npos ? -1 : durationNs(text.substr(colon + 1));
  const BucketRange range{slotAtOrAbove(from), slotAtOrAbove(to)};
  if (from < 0 || to < 0 || from > to || range.last_slot > kLastSlot) {
    throw usageError(fmt::format(
        "--buckets '{}': give FROM:TO, two durations with a unit (ns, us, ms or s), FROM at most "
        "TO and TO at most 549.75s (the kernel's last bound), e.g. {}",
        text, kDefaultBuckets));
  }
  return range;
}

}  // namespace probemon::tool
