// SPDX-License-Identifier: BSD-3-Clause
// The per-thread buffer of batched probe mode (src/WaitBatch.h) and its
// flusher, without a tracer: a thread's records are handed over (tail_
// catches up with head_) by the thread itself every batch, by the flusher
// when the thread idles, and a thread whose ring is full waits for the
// flusher rather than drop a wait. Linked statically, like the recording tests, to reach
// src/. Writers and the flusher run concurrently: keep it TSan-clean.
#include <gtest/gtest.h>

#include <chrono>
#include <semaphore>
#include <thread>
#include <vector>

#include "KeyTable.h"
#include "WaitBatch.h"

namespace probemon::test {
namespace {

using detail::WaitBatch;
using namespace std::chrono_literals;

// Polls `done` until it holds; false after 30 s (a hang, not a timing).
template <typename Done>
bool eventually(Done done) {
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

TEST(WaitBatch, AnIdleThreadsPartialBatchIsHandedOverByTheFlusher) {
  const detail::Key& key = detail::internKey("batch.unit.idle");
  std::thread([&] {
    for (int i = 0; i < 10; ++i) WaitBatch::record(key, 1000);
    WaitBatch* batch = WaitBatch::current();
    ASSERT_NE(batch, nullptr);
    EXPECT_TRUE(eventually([&] { return batch->pending() == 0; })) << batch->pending();
  }).join();
}

TEST(WaitBatch, AFullRingWaitsForTheFlusherRatherThanDrop) {
  const detail::Key& key = detail::internKey("batch.unit.full");
  WaitBatch* batch = nullptr;
  std::binary_semaphore registered{0}, filled{0};
  std::thread recorder([&] {
    WaitBatch::record(key, 1);  // registers this thread's buffer
    batch = WaitBatch::current();
    registered.release();
    filled.acquire();
    // The ring is full: this record waits for the lock, then hands over.
    for (std::uint64_t i = 0; i < WaitBatch::kCapacity + 5; ++i) WaitBatch::record(key, 1);
  });
  registered.acquire();
  ASSERT_TRUE(eventually([&] { return batch->pending() == 0; }));
  // Every buffer's lock held here (as before a fork): neither the recorder
  // nor the flusher can hand anything over.
  WaitBatch::lockAllForFork();
  filled.release();
  EXPECT_TRUE(eventually([&] { return batch->pending() == WaitBatch::kCapacity; }))
      << batch->pending();
  WaitBatch::unlockAllAfterFork(false);
  recorder.join();  // its buffer is handed over as it exits
}

TEST(WaitBatch, ThreadsRecordingWhileTheFlusherSweeps) {
  const detail::Key& key = detail::internKey("batch.unit.threads");
  std::vector<std::jthread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100000; ++i) WaitBatch::record(key, static_cast<std::uint64_t>(i));
      WaitBatch* batch = WaitBatch::current();
      EXPECT_TRUE(eventually([&] { return batch->pending() == 0; })) << batch->pending();
    });
  }
}

}  // namespace
}  // namespace probemon::test
