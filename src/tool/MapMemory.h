// SPDX-License-Identifier: BSD-3-Clause
// How much kernel memory a BPF program's maps take once loaded, estimated
// from their types and sizes before the load, and the check that refuses
// sizes the machine cannot hold. Maps are preallocated, and a per-CPU map
// holds one value per possible CPU: at --max-keys 16 M, hist's histograms
// alone would take 5.9 GB per CPU, far past what a 2-CPU, 24 GB machine
// has, and the kernel would try.
#pragma once

#include <bpf/libbpf.h>

#include <cstdint>

namespace probemon::tool {

// Bytes a map of `type` takes with `entries` entries, roughly as the kernel
// allocates them (element headers, buckets, one value per CPU for per-CPU
// maps).
std::uint64_t estimateMapBytes(bpf_map_type type, std::uint32_t key_size, std::uint32_t value_size,
                               std::uint32_t entries, std::uint32_t possible_cpus);

// Throws ToolError, before `object` (the BPF program `name`) is loaded, if
// its maps would take more than half the memory available now
// (MemAvailable), saying how much and what to lower (`max_keys` is the
// program's --max-keys).
void checkMapMemory(const bpf_object* object, const char* name, std::uint32_t max_keys);

}  // namespace probemon::tool
