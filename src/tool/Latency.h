// latency.bpf.c as `hist` and `top` use it: loaded, sized and attached to
// wait__done of the target, and read back as per-key histograms.
#pragma once

#include <vector>

#include "Attach.h"
#include "Drops.h"
#include "Histogram.h"
#include "Maps.h"
#include "Options.h"
#include "Target.h"
#include "latency.h"
#include "latency.skel.h"

namespace probemon::tool {

struct KeyHist {
  pm_key key;
  KeyName name;
  Histogram hist;
};

class LatencyTracer {
 public:
  // Loads and attaches; throws ToolError.
  LatencyTracer(const Options& options, const Target& target, const Unit& unit);

  // The histograms of the keys --key matches, by pid and name.
  std::vector<KeyHist> histograms() const;
  std::vector<Drop> drops() const;
  void announce() const { attachment_.announce("waits"); }
  void detach() { attachment_.detach(); }

 private:
  const Options& options_;
  SkeletonPtr<latency_bpf> skel_;
  Attachment attachment_;
  KeyNames names_;
};

}  // namespace probemon::tool
