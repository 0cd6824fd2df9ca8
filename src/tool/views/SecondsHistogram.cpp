// SPDX-License-Identifier: BSD-3-Clause
#include "SecondsHistogram.h"

#include <cstddef>

namespace probemon::tool {

double bucketUpperSeconds(int slot) { return static_cast<double>(bucketHigh(slot)) / 1e9; }

prometheus::ClientMetric::Histogram secondsHistogram(const Histogram& hist,
                                                     const BucketRange& range) {
  prometheus::ClientMetric::Histogram out;
  out.bucket.reserve(static_cast<std::size_t>(range.last_slot - range.first_slot + 1));
  std::uint64_t cumulative = 0;
  for (int slot = 0; slot < PM_HIST_SLOTS; ++slot) {
    cumulative += hist.slots[static_cast<std::size_t>(slot)];
    if (slot >= range.first_slot && slot <= range.last_slot) {
      out.bucket.push_back({cumulative, bucketUpperSeconds(slot)});
    }
  }
  // The serializer adds le="+Inf" with the sample count.
  out.sample_count = cumulative;
  out.sample_sum = static_cast<double>(hist.sum_ns) / 1e9;
  return out;
}

}  // namespace probemon::tool
