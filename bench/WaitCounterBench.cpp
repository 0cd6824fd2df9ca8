// SPDX-License-Identifier: BSD-3-Clause
// Micro-benchmarks of the wait-counter fast path against a replica of the
// reference design, measured side by side in one run (docs/performance.md).
//
//   build/bench/probemon_bench --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <probemon/Recording.h>
#include <probemon/WaitCounter.h>

#include <memory>
#include <string>

#include "ReferenceReplica.h"

namespace probemon::bench {
namespace {

// The cheapest possible backend: the cost measured is probemon's, not its.
class NopBackend final : public detail::WaitCounterBackendIf {
 public:
  std::intptr_t start(std::chrono::steady_clock::time_point now) noexcept override {
    benchmark::DoNotOptimize(now);
    return 1;
  }
  void stop(std::chrono::steady_clock::time_point now, std::intptr_t ctx) noexcept override {
    benchmark::DoNotOptimize(now);
    benchmark::DoNotOptimize(ctx);
  }
};

// Attaches NopBackends to keys starting with "bench.backend.", none to others.
class NopFactory final : public detail::WaitCounterBackendFactoryIf {
 public:
  std::unique_ptr<detail::WaitCounterBackendIf> create(std::string_view key) noexcept override {
    if (key.starts_with("bench.backend.")) return std::make_unique<NopBackend>();
    return nullptr;
  }
};

void BM_StartStop_Detached(benchmark::State& state) {
  WaitCounterHandle handle("bench.detached");
  for (auto _ : state) {
    auto guard = handle.start();
    benchmark::DoNotOptimize(guard);
  }
}
BENCHMARK(BM_StartStop_Detached)->Threads(1)->Threads(2);

// The same wait in a function of its own, as at a real call site: the loop
// above lets the compiler hoist the semaphores' address out of it; here every
// call loads it (from the GOT, for a program linking libprobemon.so).
[[gnu::noinline]] void detachedWait(WaitCounterHandle& handle) {
  auto guard = handle.start();
  benchmark::DoNotOptimize(guard);
}

void BM_StartStop_Detached_CallSite(benchmark::State& state) {
  WaitCounterHandle handle("bench.detached");
  for (auto _ : state) detachedWait(handle);
}
BENCHMARK(BM_StartStop_Detached_CallSite)->Threads(1);

void BM_Replica_StartStop_NoBackend(benchmark::State& state) {
  ReplicaWaitCounter counter;
  for (auto _ : state) {
    auto ctxs = counter.start();
    benchmark::DoNotOptimize(ctxs);
    counter.stop(ctxs);
  }
}
BENCHMARK(BM_Replica_StartStop_NoBackend)->Threads(1)->Threads(2);

void BM_StartStop_OneBackend(benchmark::State& state) {
  // Registered once for the process: factories are per process, and the
  // other benchmarks use keys this factory declines.
  static const bool registered = [] {
    detail::registerWaitCounterBackend(std::make_unique<NopFactory>());
    return true;
  }();
  benchmark::DoNotOptimize(registered);
  WaitCounterHandle handle("bench.backend.one");
  for (auto _ : state) {
    auto guard = handle.start();
    benchmark::DoNotOptimize(guard);
  }
}
BENCHMARK(BM_StartStop_OneBackend)->Threads(1)->Threads(2);

void BM_Replica_StartStop_OneBackend(benchmark::State& state) {
  ReplicaWaitCounter counter;
  counter.addBackend(std::make_unique<NopBackend>());
  for (auto _ : state) {
    auto ctxs = counter.start();
    benchmark::DoNotOptimize(ctxs);
    counter.stop(ctxs);
  }
}
BENCHMARK(BM_Replica_StartStop_OneBackend)->Threads(1)->Threads(2);

// A wait while a recording runs and is the key's only listener: TSC stamps
// and a 24-byte record in the thread's block (src/recording/WaitRecorder.h).
// A fixed iteration count bounds the memory the records take (48 MB per
// thread); the recording lives for one run.
void BM_StartStop_Recorded(benchmark::State& state) {
  static std::unique_ptr<Recording> recording;
  if (state.thread_index() == 0) {
    RecordingOptions options;
    options.max_events = 8'000'000;
    options.record_counters = false;
    recording = std::make_unique<Recording>(options);
    recording->start();
  }
  WaitCounterHandle handle("bench.recorded");
  for (auto _ : state) {
    auto guard = handle.start();
    benchmark::DoNotOptimize(guard);
  }
  if (state.thread_index() == 0) {
    recording->stop();
    const RecordingDrops drops = recording->dropped();
    if (drops.total() != 0) state.SkipWithError("the recording dropped waits");
    recording.reset();
  }
}
BENCHMARK(BM_StartStop_Recorded)->Iterations(2'000'000)->Threads(1)->Threads(2);

void BM_HandleConstruction_ExistingKey(benchmark::State& state) {
  WaitCounterHandle first("bench.handle.existing");
  for (auto _ : state) {
    WaitCounterHandle handle("bench.handle.existing");
    benchmark::DoNotOptimize(handle);
  }
}
BENCHMARK(BM_HandleConstruction_ExistingKey)->Threads(1)->Threads(2);

}  // namespace
}  // namespace probemon::bench

BENCHMARK_MAIN();
