// SPDX-License-Identifier: BSD-3-Clause
// The histogram every view prints: bcc-style log2 tables, percentile
// estimates and JSON, from the per-CPU pm_hist values summed in user space.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "hist.h"

namespace probemon::tool {

// The unit the BPF program buckets in.
struct Unit {
  const char* name;  // "usecs", as bcc's column header
  std::uint64_t ns;  // nanoseconds per unit
};
// nsecs, usecs or msecs; throws a usage ToolError otherwise.
Unit unitNamed(const std::string& name);

struct Histogram {
  std::array<std::uint64_t, PM_HIST_SLOTS> slots{};
  std::uint64_t count = 0;
  std::uint64_t sum_ns = 0;
  std::uint64_t min_ns = 0;
  std::uint64_t max_ns = 0;

  // Adds one CPU's share.
  void merge(const pm_hist& part);
  // Adds another histogram of the same unit (e.g. of another process).
  void merge(const Histogram& other);
  // The waits added since `earlier` (a snapshot of the same histogram); min
  // and max stay those of all time, as a delta cannot recover them.
  Histogram since(const Histogram& earlier) const;
  // The p-th percentile (0 < p < 1) in ns, interpolated inside its log2
  // bucket narrowed to [min, max]: an estimate within one bucket.
  std::uint64_t percentileNs(double p, const Unit& unit) const;
};

// Bucket i covers [low, high] in units: bcc's "low -> high" rows. The last
// bucket also holds everything above it (pm_hist_slot()): it has no high
// (kOpenHigh), printed "inf" and null in JSON.
inline constexpr std::uint64_t kOpenHigh = ~std::uint64_t{0};
std::uint64_t bucketLow(int slot);
std::uint64_t bucketHigh(int slot);

// The bcc table ("usecs : count | ****") up to the last non-empty bucket.
std::string log2HistText(const Histogram& hist, const Unit& unit);

// "5.06ms", "812us", "97ns": a duration for humans.
std::string formatNs(std::uint64_t ns);

// count, sum/min/max/p50/p90/p99 in ns and the non-empty buckets.
nlohmann::json histogramJson(const Histogram& hist, const Unit& unit);

}  // namespace probemon::tool
