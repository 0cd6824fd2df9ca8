// SPDX-License-Identifier: BSD-3-Clause
#include "MapReaders.h"

#include <bpf/libbpf.h>
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>

#include "Error.h"

namespace probemon::tool {

namespace {

// A batch's keys and values take at most this much (1,000 keys' per-CPU
// histograms on 2 CPUs are 0.7 MB).
constexpr std::size_t kBatchBytes = std::size_t{1} << 20;

std::size_t roundUp8(std::size_t n) { return (n + 7) / 8 * 8; }

// Per-CPU values come back as one 8-byte-aligned slot per possible CPU.
std::size_t cpus() {
  static const int n = libbpf_num_possible_cpus();
  return static_cast<std::size_t>(n > 0 ? n : 1);
}

// pm_hist values of every CPU at `value`, summed.
Histogram sumOverCpus(const void* value) {
  static_assert(sizeof(pm_hist) % 8 == 0);
  Histogram hist;
  for (std::size_t cpu = 0; cpu < cpus(); ++cpu) {
    pm_hist part;
    std::memcpy(&part, static_cast<const std::byte*>(value) + cpu * sizeof(pm_hist), sizeof(part));
    hist.merge(part);
  }
  return hist;
}

}  // namespace

void lookupBatches(int fd, std::size_t key_size, std::size_t value_size, std::uint32_t limit,
                   const std::function<void(const void* key, const void* value)>& visit) {
  thread_local std::vector<std::byte> buffer;
  // The position tokens: a bucket index (u32) for a hash, a key for an array.
  std::vector<std::byte> in(std::max<std::size_t>(key_size, 8)), out(in.size());
  const std::size_t keys_bytes_per_entry = roundUp8(key_size);
  auto batch = static_cast<std::uint32_t>(
      std::max<std::size_t>(1, kBatchBytes / (keys_bytes_per_entry + roundUp8(value_size))));
  const void* position = nullptr;
  for (std::uint32_t done = 0; done < limit;) {
    std::uint32_t count = std::min(batch, limit - done);
    const std::size_t keys_bytes = roundUp8(key_size * count);
    buffer.resize(std::max(buffer.size(), keys_bytes + value_size * count));
    std::byte* keys = buffer.data();
    std::byte* values = buffer.data() + keys_bytes;
    LIBBPF_OPTS(bpf_map_batch_opts, opts);
    const int error = bpf_map_lookup_batch(fd, const_cast<void*>(position), out.data(), keys,
                                           values, &count, &opts);
    if (error != 0 && errno == ENOSPC && count == 0) {
      batch *= 2;  // a hash bucket holds more entries than a batch: read it whole
      continue;
    }
    if (error != 0 && errno != ENOENT) {
      throw ToolError(fmt::format("cannot read a BPF map: {}", std::strerror(errno)));
    }
    for (std::uint32_t i = 0; i < count; ++i) visit(keys + i * key_size, values + i * value_size);
    done += count;
    if (error != 0) return;  // ENOENT: that was the last
    in.swap(out);
    position = in.data();
  }
}

std::vector<std::pair<pm_key, Histogram>> readHistograms(int fd) {
  std::vector<std::pair<pm_key, Histogram>> result;
  lookupBatches(fd, sizeof(pm_key), sizeof(pm_hist) * cpus(), UINT32_MAX,
                [&](const void* key, const void* value) {
                  auto& entry = result.emplace_back();
                  std::memcpy(&entry.first, key, sizeof(pm_key));
                  entry.second = sumOverCpus(value);
                });
  return result;
}

void readHistogramArray(int fd, std::uint32_t count,
                        const std::function<void(std::uint32_t, const Histogram&)>& visit) {
  lookupBatches(fd, sizeof(std::uint32_t), sizeof(pm_hist) * cpus(), count,
                [&](const void* key, const void* value) {
                  std::uint32_t index = 0;
                  std::memcpy(&index, key, sizeof(index));
                  visit(index, sumOverCpus(value));
                });
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
