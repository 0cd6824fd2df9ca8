// SPDX-License-Identifier: BSD-3-Clause
// A key's kernel histogram as a Prometheus histogram in seconds, exact at
// every bucket seam. The kernel counts a wait of d ns in slot i when
// 2^i <= d < 2^(i+1) (slot 0 also holds 0 and 1), so the bucket of slot i
// has the upper bound le = 2^(i+1) - 1 ns: a wait of d ns is counted in every
// bucket with le >= d and in none below. (Labelling slot i with 2^i, as
// floor(log2(d)) invites, puts 2^i + 1 ns under a bound below it; that is
// ebpf_exporter's issue #488.) The last slot, 2^39 ns (9.2 minutes) and
// more, is only in le="+Inf". serve loads the latency program in
// nanoseconds, so these bounds are the kernel's own. A range of them
// (BucketRange) stays exact: its first bucket counts every wait below it
// too, the waits above its last are only in le="+Inf".
#pragma once

#include <prometheus/client_metric.h>

#include "BucketRange.h"
#include "Histogram.h"

namespace probemon::tool {

// Upper bound of slot `slot` in seconds: (2^(slot+1) - 1) ns.
double bucketUpperSeconds(int slot);

// `hist` must be bucketed in nanoseconds (Unit nsecs); the bounds are those
// of `range`'s slots. Its count is that of its buckets, so le="+Inf" and
// _count agree even when a scrape reads a CPU's histogram between two of
// the BPF program's stores.
prometheus::ClientMetric::Histogram secondsHistogram(const Histogram& hist,
                                                     const BucketRange& range);

}  // namespace probemon::tool
