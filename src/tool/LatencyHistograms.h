// SPDX-License-Identifier: BSD-3-Clause
// latency.bpf.c as hist, top and serve read it: per-key log2 histograms of
// the waits' durations, aggregated in the kernel's per-CPU maps in a unit
// chosen at load, and read back summed over CPUs.
//
// Batched (the default where the target's libprobemon has wait__batch), the
// program reads batches of waits (src/WaitBatch.h): one probe hit per 1,024
// waits instead of one per wait. Waits reach the maps up to 100 ms late
// (the target's flusher hands partial batches over every 50 ms), so at the
// end of a run, before detaching, it waits until the -p target's flusher
// has begun and ended a sweep (two sweeps' ends, at most 1 s): every wait
// completed before the end is then counted or reported dropped. With
// --path, whose processes sweep on their own, it waits three flusher
// periods. A target that exited has handed everything over already.
#pragma once

#include <cstdint>
#include <vector>

#include "Drops.h"
#include "Histogram.h"
#include "KeyFilter.h"
#include "KeyNames.h"
#include "Program.h"
#include "latency.h"
#include "latency.skel.h"

namespace probemon::tool {

struct KeyHist {
  pm_key key;
  KeyName name;
  Histogram hist;
};

class LatencyHistograms {
 public:
  // Loads the program into `session` and attaches it; throws ToolError.
  // `batch`: batched mode, if every target object has wait__batch.
  LatencyHistograms(Session& session, std::uint32_t max_keys, const Unit& unit, KeyFilter filter,
                    bool batch);

  bool batched() const { return batched_; }

  // The histograms of the keys the filter selects, with waits, by pid and
  // name.
  std::vector<KeyHist> histograms() const;
  std::vector<Drop> drops() const;
  // Frees the entries of process `pid`, which has exited (Program::forget);
  // --path only: with -p nothing is freed.
  void forget(std::uint32_t pid) const;

 private:
  // Waits for the target's flusher before the session detaches.
  void collectBatches(const char* end) const;

  const std::uint32_t max_keys_;
  const bool batched_;
  Program<latency_bpf> program_;
};

}  // namespace probemon::tool
