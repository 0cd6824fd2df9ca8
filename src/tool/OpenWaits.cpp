// SPDX-License-Identifier: BSD-3-Clause
#include "OpenWaits.h"

#include <bpf/bpf.h>
#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <map>

#include "LiveProcess.h"
#include "MapReaders.h"

namespace probemon::tool {
namespace {

// This tool's CLOCK_MONOTONIC, in ns.
std::int64_t monotonicNs() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

}  // namespace

OpenWaits::OpenWaits(Session& session, std::uint32_t max_keys, std::uint32_t max_waits,
                     KeyFilter filter)
    : max_waits_(max_waits),
      program_(session, "inflight", max_keys, std::move(filter),
               [&](inflight_bpf& skel) { setMaxEntries(skel.maps.waits, max_waits); }) {
  // The end first: a wait whose start is recorded always has its end seen.
  program_.attach(program_->progs.handle_wait_done, "wait__done");
  program_.attach(program_->progs.handle_wait_start, "wait__start");
}

std::vector<OpenWait> OpenWaits::openFor(std::uint64_t min_age_ns) const {
  const int fd = bpf_map__fd(program_->maps.waits);
  // Per process: whether it exited, its generation now (read after, so a
  // pid reused meanwhile shows in one or the other) and how far its clock is
  // from the host's.
  struct Process {
    bool exited;
    std::optional<std::uint32_t> generation;
    std::int64_t clock_ahead_ns;
  };
  std::map<std::uint32_t, Process> processes;
  const std::int64_t now = monotonicNs() - monotonicOffsetNs(0);  // the host's clock
  std::vector<OpenWait> open;
  for (const auto& [id, wait] : readMap<pm_wait_key, pm_wait>(fd)) {
    auto [it, fresh] = processes.try_emplace(id.pid);
    if (fresh) {
      const int pid = static_cast<int>(id.pid);
      const bool exited = processExited(pid);
      it->second = {exited, program_.generation(id.pid), monotonicOffsetNs(pid)};
    }
    const Process& process = it->second;
    if (process.exited ||
        (id.generation != PM_GENERATION_UNTRACKED && process.generation != id.generation)) {
      // Its image is gone: the wait will never end.
      bpf_map_delete_elem(fd, &id);
      continue;
    }
    const std::int64_t start = static_cast<std::int64_t>(wait.start_ns) - process.clock_ahead_ns;
    const std::uint64_t age = now > start ? static_cast<std::uint64_t>(now - start) : 0;
    if (age < min_age_ns) continue;
    const pm_key key{id.pid, id.generation, wait.key_id};
    if (auto name = program_.names().shown(key)) {
      open.push_back({key, std::move(*name), wait.tid, id.wait_id, wait.start_ns, age});
    }
  }
  std::sort(open.begin(), open.end(),
            [](const OpenWait& a, const OpenWait& b) { return a.age_ns > b.age_ns; });
  return open;
}

std::vector<Drop> OpenWaits::drops() const {
  return program_.drops(
      {{"untracked", program_->bss->waits_untracked,
        fmt::format("waits not tracked: more open at once than --max-waits {}", max_waits_)}});
}

void OpenWaits::forget(std::uint32_t pid) const { program_.forget(pid, {program_->maps.waits}); }

}  // namespace probemon::tool
