// SPDX-License-Identifier: BSD-3-Clause
#include "MapReaders.h"

#include <bpf/libbpf.h>

#include <cstring>

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

void deleteEntriesOfProcess(int fd, std::size_t key_size, std::uint32_t pid) {
  // Collected first: deleting the key an iteration stands on restarts it.
  std::vector<std::uint8_t> keys, key(key_size), next(key_size);
  const void* previous = nullptr;
  while (bpf_map_get_next_key(fd, previous, next.data()) == 0) {
    std::uint32_t key_pid = 0;
    std::memcpy(&key_pid, next.data(), sizeof(key_pid));
    if (key_pid == pid) keys.insert(keys.end(), next.begin(), next.end());
    key.swap(next);
    previous = key.data();
  }
  for (std::size_t at = 0; at < keys.size(); at += key_size) bpf_map_delete_elem(fd, &keys[at]);
}

}  // namespace probemon::tool
