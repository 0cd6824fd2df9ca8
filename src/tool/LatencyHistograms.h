// SPDX-License-Identifier: BSD-3-Clause
// latency.bpf.c as hist and top read it: per-key log2 histograms of the
// waits' durations (wait__done), aggregated in the kernel's per-CPU maps in
// a unit chosen at load, and read back summed over CPUs.
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
  LatencyHistograms(Session& session, std::uint32_t max_keys, const Unit& unit, KeyFilter filter);

  // The histograms of the keys the filter selects, with waits, by pid and
  // name.
  std::vector<KeyHist> histograms() const;
  std::vector<Drop> drops() const;
  // Frees the entries of process `pid`, which has exited (Program::forget);
  // --path only: with -p nothing is freed.
  void forget(std::uint32_t pid) const;

 private:
  const std::uint32_t max_keys_;
  Program<latency_bpf> program_;
};

}  // namespace probemon::tool
