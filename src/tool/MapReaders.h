// SPDX-License-Identifier: BSD-3-Clause
// Reading the BPF maps the programs share with user space: every entry of a
// map, and the per-CPU histograms summed over CPUs; and clearing the entries
// of a process that has exited.
#pragma once

#include <bpf/bpf.h>

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "Histogram.h"
#include "keys.h"

namespace probemon::tool {

// Calls `visit` with every key of a map.
template <typename K, typename Visit>
void forEachKey(int fd, Visit visit) {
  K key{}, next{};
  const K* previous = nullptr;
  while (bpf_map_get_next_key(fd, previous, &next) == 0) {
    visit(next);
    key = next;
    previous = &key;
  }
}

// Every (key, value) of a map that is not per-CPU, as a snapshot.
template <typename K, typename V>
std::vector<std::pair<K, V>> readMap(int fd) {
  std::vector<std::pair<K, V>> entries;
  forEachKey<K>(fd, [&](const K& key) {
    V value{};
    if (bpf_map_lookup_elem(fd, &key, &value) == 0) entries.emplace_back(key, value);
  });
  return entries;
}

// Every (pid, key_id) histogram of a per-CPU pm_hist hash, summed over CPUs.
std::vector<std::pair<pm_key, Histogram>> readHistograms(int fd);
// One entry of a per-CPU pm_hist map (key: pm_key or a u32 index), summed
// over CPUs; false if there is none.
bool readHistogram(int fd, const void* key, Histogram& hist);

// Deletes every entry of process `pid` from a hash map whose key (of
// `key_size` bytes) starts with the pid as a u32, as pm_key and pm_wait_key
// do.
void deleteEntriesOfProcess(int fd, std::size_t key_size, std::uint32_t pid);

}  // namespace probemon::tool
