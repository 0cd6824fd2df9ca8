// SPDX-License-Identifier: BSD-3-Clause
#include "Program.h"

#include <bpf/bpf.h>
#include <fmt/format.h>

#include <cstring>
#include <string>

#include "Error.h"

namespace probemon::tool {

void setMaxEntries(bpf_map* map, std::uint32_t entries) {
  if (entries == 0) throw usageError("map sizes must be at least 1");
  const int err = bpf_map__set_max_entries(map, entries);
  if (err != 0) {
    throw ToolError(std::string("cannot size BPF map ") + bpf_map__name(map) + ": " +
                    std::strerror(-err));
  }
}

void skeletonFailed(int err, const char* program, const char* step) {
  throw ToolError(std::string("cannot ") + step + " BPF program " + program + ": " +
                  std::strerror(-err) + " (run with --verbose for libbpf's log)");
}

std::vector<Drop> withCommonDrops(std::vector<Drop> own, const CommonDrops& common,
                                  std::uint32_t max_keys) {
  own.push_back({"names", common.names,
                 fmt::format("key names not read: more keys than --max-keys {}, or not in the "
                             "process's memory when first seen (read again later)",
                             max_keys)});
  own.push_back({"images", common.images,
                 fmt::format("probe hits in processes not followed across exec and pid reuse: "
                             "more processes than --max-keys {}",
                             max_keys)});
  own.push_back({"missed", common.missed,
                 "probe hits the kernel skipped (a BPF program was already running on that CPU)"});
  return own;
}

std::optional<std::uint32_t> generationIn(int fd, std::uint32_t pid) {
  std::uint32_t generation = 0;
  if (bpf_map_lookup_elem(fd, &pid, &generation) != 0) return std::nullopt;
  return generation;
}

}  // namespace probemon::tool
