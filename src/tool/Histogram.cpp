// SPDX-License-Identifier: BSD-3-Clause
#include "Histogram.h"

#include <fmt/format.h>

#include <algorithm>

#include "Error.h"

namespace probemon::tool {
namespace {

constexpr int kStars = 40;  // width of bcc's distribution bar

int lastUsedSlot(const Histogram& hist) {
  for (int i = PM_HIST_SLOTS - 1; i >= 0; --i) {
    if (hist.slots[static_cast<std::size_t>(i)] != 0) return i;
  }
  return -1;
}

// Histogram or pm_hist into `into`.
template <typename Part>
void mergeInto(Histogram& into, const Part& part) {
  for (std::size_t i = 0; i < into.slots.size(); ++i) into.slots[i] += part.slots[i];
  if (part.count == 0) return;
  const std::uint64_t part_min = part.min_ns, part_max = part.max_ns;
  into.min_ns = into.count == 0 ? part_min : std::min(into.min_ns, part_min);
  into.max_ns = std::max(into.max_ns, part_max);
  into.count += part.count;
  into.sum_ns += part.sum_ns;
}

}  // namespace

Unit unitNamed(const std::string& name) {
  if (name == "nsecs") return {"nsecs", 1};
  if (name == "usecs") return {"usecs", 1000};
  if (name == "msecs") return {"msecs", 1000000};
  throw usageError("--units must be nsecs, usecs or msecs");
}

void Histogram::merge(const pm_hist& part) { mergeInto(*this, part); }
void Histogram::merge(const Histogram& other) { mergeInto(*this, other); }

Histogram Histogram::since(const Histogram& earlier) const {
  Histogram delta = *this;
  for (std::size_t i = 0; i < slots.size(); ++i) delta.slots[i] -= earlier.slots[i];
  delta.count -= earlier.count;
  delta.sum_ns -= earlier.sum_ns;
  return delta;
}

std::uint64_t bucketLow(int slot) { return slot == 0 ? 0 : std::uint64_t{1} << slot; }
std::uint64_t bucketHigh(int slot) {
  return slot == PM_HIST_SLOTS - 1 ? kOpenHigh : (std::uint64_t{1} << (slot + 1)) - 1;
}

std::uint64_t Histogram::percentileNs(double p, const Unit& unit) const {
  if (count == 0) return 0;
  const double rank = p * static_cast<double>(count);
  double seen = 0;
  for (int i = 0; i < PM_HIST_SLOTS; ++i) {
    const double in_slot = static_cast<double>(slots[static_cast<std::size_t>(i)]);
    if (in_slot == 0 || seen + in_slot < rank) {
      seen += in_slot;
      continue;
    }
    // The bucket's range, narrowed to the [min, max] actually seen.
    const std::uint64_t low = std::clamp(bucketLow(i) * unit.ns, min_ns, max_ns);
    const std::uint64_t high = bucketHigh(i) == kOpenHigh
                                   ? max_ns
                                   : std::clamp((bucketHigh(i) + 1) * unit.ns, min_ns, max_ns);
    const double fraction = (rank - seen) / in_slot;
    return low + static_cast<std::uint64_t>(static_cast<double>(high - low) * fraction);
  }
  return max_ns;
}

std::string log2HistText(const Histogram& hist, const Unit& unit) {
  const int last = lastUsedSlot(hist);
  if (last < 0) return "";
  const std::uint64_t most = *std::max_element(hist.slots.begin(), hist.slots.end());
  // Wider columns once bucket bounds pass 32 bits, as bcc does.
  const bool wide = bucketHigh(last) > 0xFFFFFFFFULL;
  const int width = wide ? 20 : 10;
  std::string text = fmt::format("{:{}}{:<{}} : count    distribution\n", "", wide ? 15 : 5,
                                 unit.name, wide ? 29 : 19);
  for (int i = 0; i <= last; ++i) {
    const std::uint64_t n = hist.slots[static_cast<std::size_t>(i)];
    const int stars = static_cast<int>(n * kStars / most);
    const std::string high =
        bucketHigh(i) == kOpenHigh ? std::string("inf") : std::to_string(bucketHigh(i));
    text += fmt::format("{:>{}} -> {:<{}} : {:<8} |{:<{}}|\n", bucketLow(i), width, high, width, n,
                        std::string(static_cast<std::size_t>(stars), '*'), kStars);
  }
  return text;
}

std::string formatNs(std::uint64_t ns) {
  if (ns >= 10'000'000'000ULL) return fmt::format("{:.1f}s", static_cast<double>(ns) / 1e9);
  if (ns >= 1'000'000) return fmt::format("{:.2f}ms", static_cast<double>(ns) / 1e6);
  if (ns >= 1'000) return fmt::format("{:.1f}us", static_cast<double>(ns) / 1e3);
  return fmt::format("{}ns", ns);
}

nlohmann::json histogramJson(const Histogram& hist, const Unit& unit) {
  nlohmann::json buckets = nlohmann::json::array();
  for (int i = 0; i < PM_HIST_SLOTS; ++i) {
    const std::uint64_t n = hist.slots[static_cast<std::size_t>(i)];
    if (n == 0) continue;
    const std::uint64_t high = bucketHigh(i);
    buckets.push_back({{"low", bucketLow(i)},
                       {"high", high == kOpenHigh ? nlohmann::json(nullptr) : nlohmann::json(high)},
                       {"count", n}});
  }
  return {{"count", hist.count},
          {"sum_ns", hist.sum_ns},
          {"min_ns", hist.min_ns},
          {"max_ns", hist.max_ns},
          {"p50_ns", hist.percentileNs(0.50, unit)},
          {"p90_ns", hist.percentileNs(0.90, unit)},
          {"p99_ns", hist.percentileNs(0.99, unit)},
          {"buckets", std::move(buckets)}};
}

}  // namespace probemon::tool
