// SPDX-License-Identifier: BSD-3-Clause
// probemon-bench-attach: what attaching costs, measured side by side in one
// run (docs/performance.md, "The probemon tool"):
//   - ns per wait with `probemon hist` attached, batched (its default: one
//     wait__batch hit per 1,024 waits) and with --no-batch (one wait__done
//     trap per wait), against ns per hit of an empty BPF program on one bare
//     USDT probe (no semaphore, no arguments), and per wait with the empty
//     program on wait__done instead (the cost of the library's timed path
//     and the probe alone, without hist's work);
//   - ns per wait detached, before the tool came and after it went;
//   - time from starting `probemon hist -p PID` to its "Tracing" line;
//   - CPU used by `probemon top` at a 1 s refresh.
// Rounds alternate the configurations so drift hits all alike; medians are
// reported. Needs root, like the tool.
//
//   probemon-bench-attach --tool build/src/tool/probemon [--rounds 7] [--waits 200000]
#include <bpf/libbpf.h>
#include <sys/sdt.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <probemon/ApproximateClock.h>
#include <probemon/WaitCounter.h>
#include <CLI/CLI.hpp>

#include "Target.h"
#include "ToolProcess.h"
#include "empty.skel.h"

namespace {

using probemon::bench::Clock;
using probemon::bench::median;
using probemon::bench::nsPerIteration;
using probemon::bench::ToolProcess;

__attribute__((noinline)) void bareProbe() { STAP_PROBE(probemon_bench, bare); }

// The libprobemon.so this process runs, which holds the probemon probes,
// found as the tool finds it.
std::string libprobemonPath() {
  return probemon::tool::resolveTarget({::getpid(), {}}).objects.front().path;
}

// ns per iteration of `body` with the empty BPF program on `provider:probe`
// of `path` in this process.
template <typename Body>
double withEmptyProgram(const std::string& path, const char* provider, const char* probe,
                        long iterations, Body body) {
  empty_bpf* skel = empty_bpf__open_and_load();
  if (skel == nullptr) throw std::runtime_error("cannot load the empty BPF program");
  bpf_link* link = bpf_program__attach_usdt(skel->progs.empty, ::getpid(), path.c_str(), provider,
                                            probe, nullptr);
  if (link == nullptr) {
    empty_bpf__destroy(skel);
    throw std::runtime_error(std::string("cannot attach the empty BPF program to ") + probe);
  }
  const double ns = nsPerIteration(iterations, body);
  bpf_link__destroy(link);
  empty_bpf__destroy(skel);
  return ns;
}

void oneWait(probemon::WaitCounterHandle& handle) { auto guard = handle.start(); }

// Keeps `value` computed.
void keepValue(probemon::approx_time_t value) { asm volatile("" : : "r"(value) : "memory"); }

// `body()` with wait__batch's semaphore raised as a tracer would raise it,
// but no uprobe: batched waits without the kernel's share.
template <typename Body>
double withBatchSemaphoreRaised(Body body) {
  // The third of the wait semaphores. NOLINTNEXTLINE(cppcoreguidelines-pro-type-const-cast)
  auto* semaphore = const_cast<std::uint16_t*>(probemon::detail::wait_semaphores + 2);
  __atomic_fetch_add(semaphore, 1, __ATOMIC_RELAXED);
  const double ns = body();
  __atomic_fetch_sub(semaphore, 1, __ATOMIC_RELAXED);
  return ns;
}

void run(const std::string& tool, int rounds, long waits, double top_seconds);

}  // namespace

int main(int argc, char** argv) try {
  CLI::App app{"probemon-bench-attach: the attached cost of probemon hist, side by side"};
  std::string tool = "probemon";
  int rounds = 7;
  long waits = 200000;
  double top_seconds = 10;
  app.add_option("--tool", tool, "the probemon tool")->required();
  app.add_option("--rounds", rounds, "alternating rounds; medians are reported")
      ->check(CLI::Range(1, 100));
  app.add_option("--waits", waits, "waits (probe hits) per measurement")
      ->check(CLI::Range(1000L, 100000000L));
  app.add_option("--top-seconds", top_seconds, "how long probemon top runs")
      ->check(CLI::Range(2.0, 600.0));
  CLI11_PARSE(app, argc, argv);
  if (::geteuid() != 0) {
    std::fprintf(stderr, "probemon-bench-attach: needs root: run it with sudo\n");
    return 1;
  }
  run(tool, rounds, waits, top_seconds);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "probemon-bench-attach: %s\n", e.what());
  return 1;
}

namespace {

void run(const std::string& tool, int rounds, long waits, double top_seconds) {
  const std::string self = std::to_string(::getpid());
  probemon::WaitCounterHandle handle("bench.attach");
  const std::string library = libprobemonPath();
  std::vector<double> bare, empty_done, attached, batched, before, after, attach_ms;
  std::vector<double> stamps, by_hand, empty_batch;
  for (int round = 0; round < rounds; ++round) {
    before.push_back(nsPerIteration(waits, [&] { oneWait(handle); }));

    // Baseline: an empty program on the bare probe in this process.
    bare.push_back(withEmptyProgram("/proc/self/exe", "probemon_bench", "bare", waits, bareProbe));
    empty_done.push_back(
        withEmptyProgram(library, "probemon", "wait__done", waits, [&] { oneWait(handle); }));

    // probemon hist attached to this process, one trap per wait.
    ToolProcess hist({tool, "hist", "-p", self, "--no-batch"});
    attach_ms.push_back(hist.waitAttached());
    attached.push_back(nsPerIteration(waits, [&] { oneWait(handle); }));
    hist.finish(SIGINT);

    // The same, batched (its default).
    ToolProcess batch({tool, "hist", "-p", self});
    batch.waitAttached();
    batched.push_back(nsPerIteration(waits, [&] { oneWait(handle); }));
    batch.finish(SIGINT);

    // Where a batched wait's time goes: its two TSC stamps; the library's
    // whole share, with wait__batch's semaphore raised by hand and no uprobe
    // (its hand-offs are nops); and with an empty program on wait__batch,
    // which adds a trap per hand-off but none of hist's work per wait.
    stamps.push_back(nsPerIteration(waits, [] {
      const probemon::approx_time_t start = probemon::getApproximateTime();
      keepValue(probemon::getApproximateTime() - start);
    }));
    by_hand.push_back(
        withBatchSemaphoreRaised([&] { return nsPerIteration(waits, [&] { oneWait(handle); }); }));
    empty_batch.push_back(
        withEmptyProgram(library, "probemon", "wait__batch", waits, [&] { oneWait(handle); }));

    after.push_back(nsPerIteration(waits, [&] { oneWait(handle); }));
  }

  // probemon top at a 1 s refresh while this process keeps waiting.
  std::atomic<bool> stop{false};
  std::jthread load([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      oneWait(handle);
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  });
  ToolProcess top(
      {tool, "top", "-p", self, "--interval", "1", "--duration", fmt::format("{}", top_seconds)});
  top.waitAttached();
  const auto top_start = Clock::now();
  const double top_cpu_s = top.finish(0);
  const double top_wall_s = std::chrono::duration<double>(Clock::now() - top_start).count();
  stop = true;

  const double ratio = median(attached) / median(bare);
  fmt::print("probemon-bench-attach: {} rounds x {} waits, medians\n", rounds, waits);
  fmt::print("  {:<58} {:>10.1f} ns\n", "empty BPF program on a bare USDT probe, per hit",
             median(bare));
  fmt::print("  {:<58} {:>10.1f} ns  ({:.3f}x the bare probe)\n",
             "wait with probemon hist --no-batch attached, per wait", median(attached), ratio);
  fmt::print("  {:<58} {:>10.1f} ns  (1/{:.1f} of the bare probe)\n",
             "wait with probemon hist attached, batched, per wait", median(batched),
             median(bare) / median(batched));
  fmt::print("  {:<58} {:>10.1f} ns  ({:.3f}x the bare probe)\n",
             "wait with the empty program on wait__done, per wait", median(empty_done),
             median(empty_done) / median(bare));
  fmt::print("  {:<58} {:>10.1f} ns\n", "  batched: wait with the empty program on wait__batch",
             median(empty_batch));
  fmt::print("  {:<58} {:>10.1f} ns\n", "  batched: wait, semaphore raised by hand, no uprobe",
             median(by_hand));
  fmt::print("  {:<58} {:>10.1f} ns\n", "  batched: its two TSC stamps alone", median(stamps));
  fmt::print("  {:<58} {:>10.1f} ns\n", "wait detached, before the tool", median(before));
  fmt::print("  {:<58} {:>10.1f} ns\n", "wait detached, after the tool came and went",
             median(after));
  fmt::print("  {:<58} {:>10.1f} ms  (max {:.1f})\n", "probemon hist -p: start to attached",
             median(attach_ms), *std::max_element(attach_ms.begin(), attach_ms.end()));
  fmt::print("  {:<58} {:>10.2f} %   ({:.3f} s CPU in {:.1f} s)\n",
             "probemon top --interval 1: CPU of one core", 100 * top_cpu_s / top_wall_s, top_cpu_s,
             top_wall_s);
}

}  // namespace
