// SPDX-License-Identifier: BSD-3-Clause
#include "LatencyHistograms.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstring>
#include <thread>

#include "MapReaders.h"
#include "Session.h"

namespace probemon::tool {
namespace {

// Every target object with probemon probes has wait__batch: a libprobemon
// that fires it.
bool canBatch(const Target& target) {
  return std::all_of(target.objects.begin(), target.objects.end(), [](const TargetObject& object) {
    return std::any_of(object.probes.begin(), object.probes.end(),
                       [](const UsdtProbe& probe) { return probe.name == "wait__batch"; });
  });
}

// The target's flusher period (src/BatchFlusher.h).
constexpr std::chrono::milliseconds kFlusherPeriod{50};

}  // namespace

LatencyHistograms::LatencyHistograms(Session& session, std::uint32_t max_keys, const Unit& unit,
                                     KeyFilter filter, bool batch)
    : max_keys_(max_keys),
      batched_(batch && canBatch(session.target())),
      program_(session, "latency", max_keys, std::move(filter), [&](latency_bpf& skel) {
        skel.rodata->unit_ns = unit.ns;
        skel.rodata->unit_log2 = static_cast<std::uint32_t>(std::bit_width(unit.ns) - 1);
        // -p: an array by key_id for the image first traced, and the hash for
        // any other key; --path: the hash alone (the array gets one entry).
        setMaxEntries(skel.maps.hists_by_id, session.target().pid > 0 ? max_keys : 1);
        setMaxEntries(skel.maps.hists, max_keys);
      }) {
  if (!batched_) {
    program_.attach(program_->progs.handle_wait_done, "wait__done");
    return;
  }
  program_.attach(program_->progs.handle_wait_batch, "wait__batch");
  session.beforeDetach([this](const char* end) { collectBatches(end); });
}

void LatencyHistograms::collectBatches(const char* end) const {
  // The target handed everything over as it exited (thread exits, exit()).
  if (std::strcmp(end, "target exited") == 0) return;
  using Clock = std::chrono::steady_clock;
  if (program_->rodata->target_pid == 0) {
    std::this_thread::sleep_for(3 * kFlusherPeriod);
    return;
  }
  // A sweep that ends twice from now began after now.
  const __u64* sweeps = &program_->bss->batch_sweeps;
  const __u64 before = __atomic_load_n(sweeps, __ATOMIC_RELAXED);
  const auto deadline = Clock::now() + 20 * kFlusherPeriod;
  while (__atomic_load_n(sweeps, __ATOMIC_RELAXED) < before + 2 && Clock::now() < deadline) {
    std::this_thread::sleep_for(kFlusherPeriod / 10);
  }
}

std::vector<KeyHist> LatencyHistograms::histograms() const {
  std::vector<KeyHist> keys;
  auto add = [&](const pm_key& key, const Histogram& hist) {
    if (auto name = program_.names().shown(key)) keys.push_back({key, std::move(*name), hist});
  };
  if (const std::uint32_t pid = program_->rodata->target_pid; pid != 0) {
    // The array's used slots are those of the first image's keys whose
    // names were read (a key counts no wait before its name is kept): it is
    // read up to the last of them.
    std::uint32_t used = 0;
    for (const pm_key& key : program_.names().keys()) {
      if (key.generation == 0 && key.key_id <= max_keys_) {
        used = std::max(used, static_cast<std::uint32_t>(key.key_id));
      }
    }
    readHistogramArray(bpf_map__fd(program_->maps.hists_by_id), used,
                       [&](std::uint32_t slot, const Histogram& hist) {
                         if (hist.count != 0) add({pid, 0, std::uint64_t{slot} + 1}, hist);
                       });
  }
  for (const auto& [key, hist] : readHistograms(bpf_map__fd(program_->maps.hists))) {
    add(key, hist);
  }
  sortByPidAndName(keys);
  return keys;
}

std::vector<Drop> LatencyHistograms::drops() const {
  std::vector<Drop> own{
      {"waits", program_->bss->waits_dropped,
       fmt::format("waits not counted: more keys than --max-keys {}", max_keys_)}};
  if (batched_) {
    own.push_back({"batches", program_->bss->batch_dropped,
                   "waits of batches not counted: the batch could not be read from the "
                   "target's memory"});
  }
  return program_.drops(std::move(own));
}

void LatencyHistograms::forget(std::uint32_t pid) const {
  // Only --path follows processes that exit; -p keeps its one target's keys.
  if (program_->rodata->target_pid == 0) program_.forget(pid, {program_->maps.hists});
}

}  // namespace probemon::tool
