// SPDX-License-Identifier: BSD-3-Clause
#include "OpenWaits.h"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>

#include "MapReaders.h"

namespace probemon::tool {
namespace {

// The clock of the waits' start_ns and of bpf_ktime_get_ns().
std::uint64_t monotonicNs() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000ULL +
         static_cast<std::uint64_t>(now.tv_nsec);
}

}  // namespace

OpenWaits::OpenWaits(Session& session, std::uint32_t max_keys, std::uint32_t max_waits,
                     KeyFilter filter)
    : max_waits_(max_waits),
      program_(session, "inflight", max_keys, std::move(filter),
               [&](inflight_bpf& skel) { setMaxEntries(skel.maps.waits, max_waits); }) {
  program_.attach(program_->progs.handle_wait_start, "wait__start");
  program_.attach(program_->progs.handle_wait_done, "wait__done");
  program_->data->attached_ns = monotonicNs();
}

std::vector<OpenWait> OpenWaits::openFor(std::uint64_t min_age_ns) const {
  const std::uint64_t now = monotonicNs();
  std::vector<OpenWait> open;
  for (const auto& [id, wait] : readMap<pm_wait_key, pm_wait>(bpf_map__fd(program_->maps.waits))) {
    const std::uint64_t age = now > wait.start_ns ? now - wait.start_ns : 0;
    if (age < min_age_ns) continue;
    const pm_key key{id.pid, 0, wait.key_id};
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
      {{"evicted", program_->bss->waits_evicted,
        fmt::format("open waits evicted: more open at once than --max-waits {}", max_waits_)}});
}

void OpenWaits::forget(std::uint32_t pid) const { program_.forget(pid, {program_->maps.waits}); }

}  // namespace probemon::tool
