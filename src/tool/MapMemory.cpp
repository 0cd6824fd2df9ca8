// SPDX-License-Identifier: BSD-3-Clause
#include "MapMemory.h"

#include <fmt/format.h>

#include <bit>
#include <fstream>
#include <string>

#include "Error.h"

namespace probemon::tool {
namespace {

std::uint64_t roundUp8(std::uint64_t bytes) { return (bytes + 7) / 8 * 8; }

// An element's header in a hash map (struct htab_elem without key and
// value: list node, hash, padding; about 48 bytes on x86-64) and a bucket.
constexpr std::uint64_t kHashElementHeader = 48;
constexpr std::uint64_t kHashBucket = 16;

// MemAvailable from /proc/meminfo in bytes; 0 if unknown.
std::uint64_t availableBytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string name;
  std::uint64_t kb = 0;
  std::string unit;
  while (meminfo >> name >> kb >> unit) {
    if (name == "MemAvailable:") return kb * 1024;
  }
  return 0;
}

std::string gigabytes(std::uint64_t bytes) {
  return fmt::format("{:.1f} GB", static_cast<double>(bytes) / 1e9);
}

}  // namespace

std::uint64_t estimateMapBytes(bpf_map_type type, std::uint32_t key_size, std::uint32_t value_size,
                               std::uint32_t entries, std::uint32_t possible_cpus) {
  const std::uint64_t n = entries;
  const std::uint64_t key = roundUp8(key_size);
  const std::uint64_t value = roundUp8(value_size);
  const std::uint64_t buckets = std::bit_ceil(n) * kHashBucket;
  switch (type) {
    case BPF_MAP_TYPE_ARRAY:
      return n * value;
    case BPF_MAP_TYPE_PERCPU_ARRAY:
      return n * value * possible_cpus;
    case BPF_MAP_TYPE_HASH:
    case BPF_MAP_TYPE_LRU_HASH:
      // Preallocated, with a spare element per CPU.
      return (n + possible_cpus) * (kHashElementHeader + key + value) + buckets;
    case BPF_MAP_TYPE_PERCPU_HASH:
    case BPF_MAP_TYPE_LRU_PERCPU_HASH:
      // The element holds a pointer to its per-CPU values.
      return n * (kHashElementHeader + key + 8 + value * possible_cpus) + buckets;
    case BPF_MAP_TYPE_RINGBUF:
      return n;  // max_entries is the size in bytes
    default:
      return n * (key + value);
  }
}

void checkMapMemory(const bpf_object* object, const char* name, std::uint32_t max_keys) {
  const int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) return;  // unknown: the load will say what the kernel thinks
  std::uint64_t total = 0;
  const bpf_map* map = nullptr;
  bpf_object__for_each_map(map, object) {
    total += estimateMapBytes(bpf_map__type(map), bpf_map__key_size(map), bpf_map__value_size(map),
                              bpf_map__max_entries(map), static_cast<std::uint32_t>(cpus));
  }
  const std::uint64_t available = availableBytes();
  if (available == 0 || total <= available / 2) return;
  throw ToolError(fmt::format(
      "the maps of BPF program {} would take about {} of kernel memory with --max-keys {} "
      "(preallocated, per-CPU ones once per possible CPU: {} here), more than half the {} "
      "available now: lower --max-keys (or --max-waits, --ringbuf-kb)",
      name, gigabytes(total), max_keys, cpus, gigabytes(available)));
}

}  // namespace probemon::tool
