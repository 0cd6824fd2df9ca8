// SPDX-License-Identifier: BSD-3-Clause
// The detached promise, checked rather than benchmarked: with no backend on
// the key and no tracer attached, start()+stop() read no clock and allocate
// nothing; a timed wait reads the clock exactly twice.
//
// This binary counts by interposing: it defines clock_gettime, which the
// library's calls resolve to (an executable's symbols come first), and
// replaces the global operator new.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <probemon/WaitCounter.h>
#include <probemon/detail/ProbeState.h>
#include <time.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "RecordingBackends.h"

namespace {
std::atomic<long> g_clock_reads{0};
std::atomic<long> g_allocations{0};
}  // namespace

extern "C" int clock_gettime(clockid_t clock, timespec* ts) noexcept {
  using Fn = int (*)(clockid_t, timespec*);
  static const Fn real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "clock_gettime"));
  g_clock_reads.fetch_add(1, std::memory_order_relaxed);
  return real(clock, ts);
}

void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t /*size*/) noexcept { std::free(p); }

namespace probemon::test {
namespace {

bool tracerAttached() {
  return detail::probeAttached(detail::Probe::WaitStart) ||
         detail::probeAttached(detail::Probe::WaitDone);
}

void scopedWait() { PROBEMON_STATIC_SCOPED_WAIT_COUNTER(cost.detached.scoped); }

TEST(DetachedCost, StartAndStopReadNoClockAndAllocateNothing) {
  if (tracerAttached()) GTEST_SKIP() << "a tracer is attached to this test process";
  WaitCounterHandle handle("cost.detached");
  scopedWait();  // creates its key: that allocates, once
  const long clocks = g_clock_reads.load();
  const long allocations = g_allocations.load();
  for (int i = 0; i < 1000; ++i) {
    auto guard = handle.start();
    guard.stop();
    scopedWait();
  }
  EXPECT_EQ(g_clock_reads.load() - clocks, 0);
  EXPECT_EQ(g_allocations.load() - allocations, 0);
}

TEST(DetachedCost, TimedWaitReadsTheClockTwice) {
  if (tracerAttached()) GTEST_SKIP() << "a tracer is attached to this test process";
  auto log = std::make_shared<WaitLog>();
  ScopedWaitBackend backend(log);
  WaitCounterHandle handle("cost.timed");
  { auto warm = handle.start(); }  // the thread's first timed wait sets up its state
  const long clocks = g_clock_reads.load();
  for (int i = 0; i < 10; ++i) {
    auto guard = handle.start();
  }
  EXPECT_EQ(g_clock_reads.load() - clocks, 20);
  EXPECT_EQ(log->stopsOf("cost.timed"), 11);
}

}  // namespace
}  // namespace probemon::test
