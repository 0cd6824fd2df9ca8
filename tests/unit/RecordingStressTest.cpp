// SPDX-License-Identifier: BSD-3-Clause
// Recordings started and stopped 100 times while 4 threads wait: no crash,
// no leak (ASan), no race (TSan), and every wait that lay entirely inside a
// window recorded in it, once.
//
// Which waits lay inside: the main thread exchanges in an odd epoch after
// start() returns and an even one before calling stop(); a worker loads the
// epoch before start() and reads it with an RMW after stop(). If both reads
// give the same odd epoch, the wait began after the window opened and ended
// before it closed; and the main thread's exchange read the worker's RMW or
// a later one, so it synchronizes with it and the recording sees the
// wait's record and end stamp. Waits near the edges
// of a window may or may not be recorded; none may be recorded twice: a
// thread's recorded waits in a window never overlap, and no thread has more
// recorded waits over all windows than it made.
#include <gtest/gtest.h>
#include <probemon/Recording.h>
#include <probemon/WaitCounter.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <thread>
#include <vector>

namespace probemon::test {
namespace {

constexpr int kWindows = 100;
constexpr int kThreads = 4;

TEST(RecordingStress, StartAndStop100TimesWhileFourThreadsWait) {
  std::atomic<std::uint64_t> epoch{0};
  std::atomic<bool> done{false};
  struct Worker {
    std::uint64_t tid = 0;
    std::vector<int> inside = std::vector<int>(kWindows, 0);
    std::int64_t made = 0;
    std::thread thread;
  };
  std::vector<Worker> workers(kThreads);
  for (Worker& w : workers) {
    w.thread = std::thread([&epoch, &done, &w] {
      w.tid = static_cast<std::uint64_t>(gettid());
      WaitCounterHandle handle("recording.stress");
      while (!done.load(std::memory_order_relaxed)) {
        const std::uint64_t before = epoch.load(std::memory_order_seq_cst);
        handle.start().stop();
        ++w.made;
        const std::uint64_t after = epoch.fetch_add(0, std::memory_order_seq_cst);
        if (before == after && before % 2 == 1) ++w.inside[before / 2];
        // Bursts, so that four waiting threads leave the main thread some of
        // the two CPUs this runs on.
        if (w.made % 32 == 0) std::this_thread::sleep_for(std::chrono::microseconds(10));
      }
    });
  }

  // Per window, per thread: the recorded waits (start, end, open).
  struct Wait {
    time_t start;
    time_t end;
    bool open;
  };
  std::vector<std::map<std::uint64_t, std::vector<Wait>>> recorded(kWindows);
  RecordingOptions options;
  options.record_counters = false;
  for (int window = 0; window < kWindows; ++window) {
    Recording recording(options);
    recording.start();
    epoch.exchange(2 * window + 1, std::memory_order_seq_cst);
    std::this_thread::sleep_for(std::chrono::microseconds(300));
    epoch.exchange(2 * window + 2, std::memory_order_seq_cst);
    recording.stop();
    for (const auto& e : recording.events()) {
      recorded[window][e->tid].push_back({e->start_ns, e->end_ns, e->open_at_stop});
    }
    EXPECT_EQ(recording.dropped().total(), 0U);
  }
  done.store(true);
  for (Worker& w : workers) w.thread.join();

  int inside_total = 0;
  std::map<std::uint64_t, std::int64_t> recorded_total;
  for (int window = 0; window < kWindows; ++window) {
    for (const Worker& w : workers) {
      SCOPED_TRACE(testing::Message() << "window " << window << ", thread " << w.tid);
      const auto& waits = recorded[window][w.tid];
      const int inside = w.inside[window];
      inside_total += inside;
      const int open = static_cast<int>(
          std::count_if(waits.begin(), waits.end(), [](const Wait& x) { return x.open; }));
      recorded_total[w.tid] += static_cast<std::int64_t>(waits.size());
      // Every inside wait, closed; at most the one wait in flight at stop open.
      EXPECT_GE(static_cast<int>(waits.size()) - open, inside);
      EXPECT_LE(open, 1);
      // Recorded once: a thread's waits follow one another without overlap.
      for (std::size_t i = 1; i < waits.size(); ++i) {
        EXPECT_GE(waits[i].start, waits[i - 1].end);
      }
    }
  }
  EXPECT_GT(inside_total, 0);
  for (const Worker& w : workers) EXPECT_LE(recorded_total[w.tid], w.made);
}

}  // namespace
}  // namespace probemon::test
