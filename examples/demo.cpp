// SPDX-License-Identifier: BSD-3-Clause
// probemon-demo: a small "training service" instrumented with probemon, to
// trace with the probemon tool, bpftrace or perf.
//
//   probemon-demo --seconds 30
//
// Threads and what they wait on (keys under demo.wait_counter.):
//   loader x2      produce batches into a bounded queue; wait on
//                  `dataloader.produce` while it is full
//   trainer x2     `dataloader.next` (pop a batch: mostly quick, stalls when
//                  the loaders fall behind), `allreduce` (2-8 ms, rarely a
//                  250 ms straggler), `optimizer.step` (sub-millisecond)
//   checkpointer   `checkpoint.save` (80-200 ms) every two seconds
// DynamicCounters: demo.queue.depth, demo.batches.trained, demo.bytes_in_flight.
// Runs for --seconds (0: until SIGINT/SIGTERM) and prints a one-line summary.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <deque>
#include <iostream>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include <unistd.h>

#include <probemon/DynamicCounter.h>
#include <probemon/WaitCounter.h>
#include <CLI/CLI.hpp>

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::atomic<bool> g_stop{false};

extern "C" void onSignal(int /*signo*/) { g_stop.store(true); }

// Sleeps a random duration drawn log-normally around `median`.
void busyFor(std::mt19937_64& rng, std::chrono::microseconds median, double spread) {
  std::lognormal_distribution<double> dist(std::log(static_cast<double>(median.count())), spread);
  std::this_thread::sleep_for(std::chrono::microseconds(static_cast<std::int64_t>(dist(rng))));
}

class BatchQueue {
 public:
  explicit BatchQueue(std::size_t capacity) : capacity_(capacity) {}

  bool push(std::int64_t batch) {
    std::unique_lock lock(mu_);
    if (queue_.size() >= capacity_) {
      PROBEMON_STATIC_SCOPED_WAIT_COUNTER(demo.wait_counter.dataloader.produce);
      not_full_.wait(lock, [&] { return queue_.size() < capacity_ || g_stop.load(); });
    }
    if (g_stop.load()) {
      return false;
    }
    queue_.push_back(batch);
    not_empty_.notify_one();
    return true;
  }

  bool pop(std::int64_t& batch) {
    PROBEMON_STATIC_SCOPED_WAIT_COUNTER(demo.wait_counter.dataloader.next);
    std::unique_lock lock(mu_);
    not_empty_.wait(lock, [&] { return !queue_.empty() || g_stop.load(); });
    if (queue_.empty()) {
      return false;
    }
    batch = queue_.front();
    queue_.pop_front();
    not_full_.notify_one();
    return true;
  }

  std::int64_t depth() {
    std::lock_guard lock(mu_);
    return static_cast<std::int64_t>(queue_.size());
  }

  // After g_stop is set. Under the lock, so no waiter can be between its
  // predicate check and its wait.
  void wakeAll() {
    std::lock_guard lock(mu_);
    not_full_.notify_all();
    not_empty_.notify_all();
  }

 private:
  const std::size_t capacity_;
  std::mutex mu_;
  std::condition_variable not_full_;
  std::condition_variable not_empty_;
  std::deque<std::int64_t> queue_;
};

void loader(BatchQueue& queue, std::atomic<std::int64_t>& bytes, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::bernoulli_distribution slow_read(0.02);
  for (std::int64_t batch = 0; !g_stop.load(); ++batch) {
    bytes.fetch_add(1 << 20);
    busyFor(rng, slow_read(rng) ? 40ms : 1500us, 0.4);  // decode a batch
    bytes.fetch_sub(1 << 20);
    if (!queue.push(batch)) {
      return;
    }
  }
}

void trainer(BatchQueue& queue, std::atomic<std::int64_t>& trained, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::bernoulli_distribution straggler(0.01);
  probemon::WaitCounterHandle allreduce("demo.wait_counter.allreduce");
  std::int64_t batch = 0;
  while (!g_stop.load() && queue.pop(batch)) {
    busyFor(rng, 1ms, 0.3);  // forward and backward
    {
      auto wait = allreduce.start();
      busyFor(rng, straggler(rng) ? 250ms : 4ms, 0.35);
    }
    PROBEMON_WITH_WAIT_COUNTER(demo.wait_counter.optimizer.step, busyFor(rng, 200us, 0.5));
    trained.fetch_add(1);
  }
}

void checkpointer(unsigned seed) {
  std::mt19937_64 rng(seed);
  auto next = Clock::now() + 2s;
  while (!g_stop.load()) {
    if (Clock::now() < next) {
      std::this_thread::sleep_for(20ms);
      continue;
    }
    PROBEMON_STATIC_SCOPED_WAIT_COUNTER(demo.wait_counter.checkpoint.save);
    busyFor(rng, 120ms, 0.3);
    next = Clock::now() + 2s;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"probemon demo workload: a multi-threaded training loop with wait counters"};
  double seconds = 10;
  app.add_option("--seconds", seconds, "how long to run; 0 runs until SIGINT/SIGTERM")
      ->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);

  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);

  BatchQueue queue(8);
  std::atomic<std::int64_t> trained{0};
  std::atomic<std::int64_t> bytes{0};
  probemon::DynamicCounter depth("demo.queue.depth", [&] { return queue.depth(); });
  probemon::DynamicCounter batches("demo.batches.trained", [&] { return trained.load(); });
  probemon::DynamicCounter in_flight("demo.bytes_in_flight", [&] { return bytes.load(); });

  std::cout << "probemon-demo: pid " << ::getpid() << ", running ";
  if (seconds > 0) {
    std::cout << seconds << " s" << std::endl;
  } else {
    std::cout << "until interrupted" << std::endl;
  }
  std::vector<std::jthread> threads;
  threads.emplace_back(loader, std::ref(queue), std::ref(bytes), 1);
  threads.emplace_back(loader, std::ref(queue), std::ref(bytes), 2);
  threads.emplace_back(trainer, std::ref(queue), std::ref(trained), 3);
  threads.emplace_back(trainer, std::ref(queue), std::ref(trained), 4);
  threads.emplace_back(checkpointer, 5);

  const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  while (!g_stop.load() && (seconds == 0 || Clock::now() < deadline)) {
    std::this_thread::sleep_for(10ms);
  }
  g_stop.store(true);
  queue.wakeAll();
  threads.clear();
  std::cout << "probemon-demo: trained " << trained.load() << " batches" << std::endl;
  return 0;
}
