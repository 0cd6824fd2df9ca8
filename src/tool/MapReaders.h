// SPDX-License-Identifier: BSD-3-Clause
// Reading the BPF maps the programs share with user space: every entry of a
// map, in batches, and the per-CPU histograms summed over CPUs; and clearing
// the entries of a process that has exited.
#pragma once

#include <bpf/bpf.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <utility>
#include <vector>

#include "Histogram.h"
#include "keys.h"

namespace probemon::tool {

// Calls `visit(key, value)` (pointers to key_size and value_size bytes) for
// every entry of a map, read in batches (BPF_MAP_LOOKUP_BATCH): a syscall
// per few thousand entries where one per key and one per value took about
// 10 % of serve's CPU per scrape of 1,000 keys. A hash is read to its end, an
// array up to `limit` entries. The batches go through a buffer kept per
// thread, so a reader that runs often touches no fresh memory. Throws
// ToolError if the kernel refuses.
void lookupBatches(int fd, std::size_t key_size, std::size_t value_size, std::uint32_t limit,
                   const std::function<void(const void* key, const void* value)>& visit);

// Every (key, value) of a map that is not per-CPU, as a snapshot.
template <typename K, typename V>
std::vector<std::pair<K, V>> readMap(int fd) {
  std::vector<std::pair<K, V>> entries;
  lookupBatches(fd, sizeof(K), sizeof(V), UINT32_MAX, [&](const void* key, const void* value) {
    auto& entry = entries.emplace_back();
    std::memcpy(&entry.first, key, sizeof(K));
    std::memcpy(&entry.second, value, sizeof(V));
  });
  return entries;
}

// Every (pid, key_id) histogram of a per-CPU pm_hist hash, summed over CPUs.
std::vector<std::pair<pm_key, Histogram>> readHistograms(int fd);
// The first `count` entries of a per-CPU pm_hist array, summed over CPUs:
// visit(index, histogram).
void readHistogramArray(int fd, std::uint32_t count,
                        const std::function<void(std::uint32_t, const Histogram&)>& visit);

// Deletes every entry of process `pid` from a hash map whose key (of
// `key_size` bytes) starts with the pid as a u32, as pm_key and pm_wait_key
// do.
void deleteEntriesOfProcess(int fd, std::size_t key_size, std::uint32_t pid);

}  // namespace probemon::tool
