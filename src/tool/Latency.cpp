#include "Latency.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <tuple>

namespace probemon::tool {
namespace {

SkeletonPtr<latency_bpf> load(const Options& options, const Target& target, const Unit& unit) {
  checkCanTrace();
  auto skel = openSkeleton(latency_bpf__open, latency_bpf__destroy, "latency");
  skel->rodata->unit_ns = unit.ns;
  skel->rodata->unit_log2 = static_cast<std::uint32_t>(std::bit_width(unit.ns) - 1);
  // One of the two histogram maps is used; the other gets one entry.
  const bool one_process = target.pid > 0;
  skel->rodata->one_process = one_process;
  setMaxEntries(skel->maps.hists_by_id, one_process ? options.max_keys : 1);
  setMaxEntries(skel->maps.hists, one_process ? 1 : options.max_keys);
  setMaxEntries(skel->maps.key_names, options.max_keys);
  checkSkeletonStep(latency_bpf__load(skel.get()), "latency", "load");
  return skel;
}

}  // namespace

LatencyTracer::LatencyTracer(const Options& options, const Target& target, const Unit& unit)
    : options_(options),
      skel_(load(options, target, unit)),
      attachment_(target),
      names_(bpf_map__fd(skel_->maps.key_names), options.key_glob) {
  attachment_.attach(skel_->progs.handle_wait_done, "wait__done");
}

std::vector<KeyHist> LatencyTracer::histograms() const {
  std::vector<KeyHist> keys;
  auto add = [&](const pm_key& key, const Histogram& hist) {
    KeyName name = names_.lookup(key);
    if (names_.matches(name)) keys.push_back({key, std::move(name), hist});
  };
  if (skel_->rodata->one_process) {
    // The array's used slots are those of the keys whose names were read.
    const int fd = bpf_map__fd(skel_->maps.hists_by_id);
    Histogram hist;
    for (const pm_key& key : names_.keys()) {
      const std::uint32_t slot = static_cast<std::uint32_t>(key.key_id - 1);
      if (readHistogram(fd, &slot, hist) && hist.count != 0) add(key, hist);
    }
  } else {
    for (const auto& [key, hist] : readHistograms(bpf_map__fd(skel_->maps.hists))) add(key, hist);
  }
  std::sort(keys.begin(), keys.end(), [](const KeyHist& a, const KeyHist& b) {
    return std::tie(a.key.pid, a.name.name) < std::tie(b.key.pid, b.name.name);
  });
  return keys;
}

std::vector<Drop> LatencyTracer::drops() const {
  return {{"waits", skel_->bss->waits_dropped,
           fmt::format("waits not counted: more keys than --max-keys {}", options_.max_keys)},
          namesDropped(skel_->bss->names_dropped, options_.max_keys),
          hitsMissed(attachment_.missedEvents())};
}

}  // namespace probemon::tool
