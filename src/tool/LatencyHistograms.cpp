// SPDX-License-Identifier: BSD-3-Clause
#include "LatencyHistograms.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>

#include "MapReaders.h"
#include "Session.h"

namespace probemon::tool {

LatencyHistograms::LatencyHistograms(Session& session, std::uint32_t max_keys, const Unit& unit,
                                     KeyFilter filter)
    : max_keys_(max_keys),
      program_(session, "latency", max_keys, std::move(filter), [&](latency_bpf& skel) {
        skel.rodata->unit_ns = unit.ns;
        skel.rodata->unit_log2 = static_cast<std::uint32_t>(std::bit_width(unit.ns) - 1);
        // -p: an array by key_id for the image first traced, and the hash for
        // any other key; --path: the hash alone (the array gets one entry).
        setMaxEntries(skel.maps.hists_by_id, session.target().pid > 0 ? max_keys : 1);
        setMaxEntries(skel.maps.hists, max_keys);
      }) {
  program_.attach(program_->progs.handle_wait_done, "wait__done");
}

std::vector<KeyHist> LatencyHistograms::histograms() const {
  std::vector<KeyHist> keys;
  auto add = [&](const pm_key& key, const Histogram& hist) {
    if (auto name = program_.names().shown(key)) keys.push_back({key, std::move(*name), hist});
  };
  if (const std::uint32_t pid = program_->rodata->target_pid; pid != 0) {
    // The array's used slots are those of the first image's keys whose
    // names were read (a key counts no wait before its name is kept): it is
    // read up to the last of them.
    std::uint32_t used = 0;
    for (const pm_key& key : program_.names().keys()) {
      if (key.generation == 0 && key.key_id <= max_keys_) {
        used = std::max(used, static_cast<std::uint32_t>(key.key_id));
      }
    }
    readHistogramArray(bpf_map__fd(program_->maps.hists_by_id), used,
                       [&](std::uint32_t slot, const Histogram& hist) {
                         if (hist.count != 0) add({pid, 0, std::uint64_t{slot} + 1}, hist);
                       });
  }
  for (const auto& [key, hist] : readHistograms(bpf_map__fd(program_->maps.hists))) {
    add(key, hist);
  }
  sortByPidAndName(keys);
  return keys;
}

std::vector<Drop> LatencyHistograms::drops() const {
  return program_.drops(
      {{"waits", program_->bss->waits_dropped,
        fmt::format("waits not counted: more keys than --max-keys {}", max_keys_)}});
}

void LatencyHistograms::forget(std::uint32_t pid) const {
  // Only --path follows processes that exit; -p keeps its one target's keys.
  if (program_->rodata->target_pid == 0) program_.forget(pid, {program_->maps.hists});
}

}  // namespace probemon::tool
