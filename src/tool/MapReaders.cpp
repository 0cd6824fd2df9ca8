// SPDX-License-Identifier: BSD-3-Clause
#include "MapReaders.h"

#include <bpf/libbpf.h>

namespace probemon::tool {

bool readHistogram(int fd, const void* key, Histogram& hist) {
  static_assert(sizeof(pm_hist) % 8 == 0);
  // Per-CPU values come back as one 8-byte-aligned slot per possible CPU.
  static const int cpus = libbpf_num_possible_cpus();
  std::vector<pm_hist> per_cpu(static_cast<std::size_t>(cpus > 0 ? cpus : 1));
  if (bpf_map_lookup_elem(fd, key, per_cpu.data()) != 0) return false;
  hist = Histogram();
  for (const auto& part : per_cpu) hist.merge(part);
  return true;
}

std::vector<std::pair<pm_key, Histogram>> readHistograms(int fd) {
  std::vector<std::pair<pm_key, Histogram>> result;
  forEachKey<pm_key>(fd, [&](const pm_key& key) {
    Histogram hist;
    if (readHistogram(fd, &key, hist)) result.emplace_back(key, hist);
  });
  return result;
}

}  // namespace probemon::tool
