// SPDX-License-Identifier: BSD-3-Clause
// Micro-benchmarks of the in-process recording beside the wait-counter ones
// (same binary, same run; docs/performance.md): what a Python tracer's call
// entry costs on the C++ side, and what building and writing a trace costs
// per event.
#include <benchmark/benchmark.h>
#include <probemon/ApproximateClock.h>
#include <probemon/RecordQueue.h>
#include <probemon/Recording.h>
#include <probemon/WaitCounter.h>

#include <memory>

namespace probemon::bench {
namespace {

void BM_GetApproximateTime(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(getApproximateTime());
}
BENCHMARK(BM_GetApproximateTime);

void BM_GetTime(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(getTime());
}
BENCHMARK(BM_GetTime);

// A Python tracer's call entry: a TSC stamp and a 16-byte record in the
// thread's subqueue (the pointer cached, as the tracer is told to).
void BM_PyCallEntry(benchmark::State& state) {
  RecordQueue queue(static_cast<std::int64_t>(state.max_iterations));
  ThreadSubqueue* subqueue = queue.getSubqueue();
  std::uint64_t key = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        subqueue->emplacePyCall(python_tracer::TraceKey(++key & 1023), getApproximateTime()));
  }
}
BENCHMARK(BM_PyCallEntry)->Iterations(4'000'000);

// Stopping, building the events and writing the trace, per recorded wait
// (100,000 waits on 4 keys, one thread).
void BM_ExportPerWait(benchmark::State& state) {
  constexpr int kWaits = 100'000;
  WaitCounterHandle keys[] = {
      WaitCounterHandle("bench.export.a"), WaitCounterHandle("bench.export.b"),
      WaitCounterHandle("bench.export.c"), WaitCounterHandle("bench.export.d")};
  RecordingOptions options;
  options.record_counters = false;
  for (auto _ : state) {
    state.PauseTiming();
    auto recording = std::make_unique<Recording>(options);
    recording->start();
    for (int i = 0; i < kWaits; ++i) keys[i % 4].start().stop();
    state.ResumeTiming();
    recording->stop();
    recording->exportChromeTrace("/dev/null");
    state.PauseTiming();
    recording.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * kWaits);
}
BENCHMARK(BM_ExportPerWait)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace probemon::bench
