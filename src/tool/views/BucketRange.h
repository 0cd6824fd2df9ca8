// SPDX-License-Identifier: BSD-3-Clause
// Which of the kernel's log2 seams `probemon serve` exposes as le bounds:
// --buckets FROM:TO, durations with a unit. Each end rounds up to the next
// seam, 2^k - 1 ns, so the range asked is covered and every bound stays
// exact (SecondsHistogram.h). The default, 1us:16s, is 25 bounds from
// 1.023 us to 17.18 s: the range of a wait worth a latency histogram (a
// shorter one costs less than the uprobe that times it; a longer one is a
// stuck wait, which --inflight shows). Each bucket is a line of every key's
// exposition and a series in Prometheus, and writing lines is most of what
// a scrape costs: 25 bounds instead of the kernel's 39 made a scrape of
// 1,000 keys about 1.5x cheaper in CPU (docs/performance.md, "probemon
// serve").
#pragma once

#include <string_view>

namespace probemon::tool {

inline constexpr const char* kDefaultBuckets = "1us:16s";

// Kernel slots: slot i's bound is le = 2^(i+1) - 1 ns.
struct BucketRange {
  int first_slot;  // its bucket also counts every wait below
  int last_slot;   // waits above it are only in le="+Inf"
};

// "1us:16s" -> slots 9 to 33; throws a usage ToolError on anything else.
BucketRange bucketRange(std::string_view text);

}  // namespace probemon::tool
