// SPDX-License-Identifier: BSD-3-Clause
// Many threads starting and stopping waits while backends come and go: the
// counts a permanent backend sees must be exact, every stop must reach the
// backend instance that saw its start, and no backend may die with a wait
// open. Also run under TSan and ASan in CI.
#include <gtest/gtest.h>
#include <probemon/DynamicCounter.h>
#include <probemon/WaitCounter.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <latch>
#include <mutex>
#include <thread>
#include <vector>

#include "RecordingBackends.h"

namespace probemon::test {
namespace {

constexpr int kThreads = 4;
constexpr int kWaitsPerKey = 2000;
const std::vector<std::string> kKeys = {"stress.a", "stress.b", "stress.c"};

// Registers and unregisters a backend recording into `log`, over and over on
// its own thread, until stop().
class Churner {
 public:
  explicit Churner(std::shared_ptr<WaitLog> log)
      : thread_([this, log = std::move(log)] {
          while (!stopped_.load()) {
            ScopedWaitBackend transient(log);
            std::this_thread::yield();
            ++rounds_;
          }
        }) {}
  ~Churner() { stop(); }
  Churner(const Churner&) = delete;
  Churner& operator=(const Churner&) = delete;

  // Returns how many rounds ran.
  int stop() {
    stopped_ = true;
    if (thread_.joinable()) thread_.join();
    return rounds_.load();
  }

 private:
  std::atomic<bool> stopped_{false};
  std::atomic<int> rounds_{0};
  std::thread thread_;  // last: starts once the rest is constructed
};

TEST(Stress, ExactCountsWhileBackendsAreRegisteredAndUnregistered) {
  auto permanent = std::make_shared<WaitLog>();
  ScopedWaitBackend backend(permanent);
  auto churn = std::make_shared<WaitLog>();
  Churner churner(churn);

  std::latch start(kThreads);
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&] {
      start.arrive_and_wait();
      for (int i = 0; i < kWaitsPerKey; ++i) {
        for (const auto& key : kKeys) {
          // Fresh handles too, so key lookup races with registration.
          auto guard = WaitCounterHandle(key).start();
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  const int churn_rounds = churner.stop();

  for (const auto& key : kKeys) {
    EXPECT_EQ(permanent->startsOf(key), kThreads * kWaitsPerKey) << key;
    EXPECT_EQ(permanent->stopsOf(key), kThreads * kWaitsPerKey) << key;
    EXPECT_EQ(churn->startsOf(key), churn->stopsOf(key)) << key;
  }
  EXPECT_EQ(permanent->unmatched_stops, 0);
  EXPECT_EQ(churn->unmatched_stops, 0);
  EXPECT_EQ(churn->open_at_destruction, 0);
  EXPECT_EQ(churn->live_backends, 0);
  EXPECT_GT(churn_rounds, 0);
}

// Guards handed from the threads that start them to threads that stop them,
// while backends come and go: pins released off their thread must balance
// the ones taken on it, and sets must be let go exactly once.
TEST(Stress, WaitsStoppedOnOtherThreadsWhileBackendsAreRegisteredAndUnregistered) {
  using Guard = WaitCounterHandle::WaitGuard;
  auto permanent = std::make_shared<WaitLog>();
  ScopedWaitBackend backend(permanent);
  auto churn = std::make_shared<WaitLog>();
  Churner churner(churn);

  constexpr int kPairs = 2;
  constexpr int kWaits = 4000;
  std::mutex mu;
  std::condition_variable ready;
  std::deque<Guard> handed;
  int producers_left = kPairs;
  std::vector<std::thread> threads;
  for (int p = 0; p < kPairs; ++p) {
    threads.emplace_back([&] {
      WaitCounterHandle handle("stress.crossed");
      for (int i = 0; i < kWaits; ++i) {
        auto guard = handle.start();
        std::lock_guard lock(mu);
        handed.push_back(std::move(guard));
        ready.notify_one();
      }
      std::lock_guard lock(mu);
      --producers_left;
      ready.notify_all();
    });
    threads.emplace_back([&] {
      while (true) {
        std::unique_lock lock(mu);
        ready.wait(lock, [&] { return !handed.empty() || producers_left == 0; });
        if (handed.empty()) return;
        Guard guard = std::move(handed.front());
        handed.pop_front();
        lock.unlock();
        guard.stop();
      }
    });
  }
  for (auto& t : threads) t.join();
  churner.stop();

  EXPECT_EQ(permanent->startsOf("stress.crossed"), kPairs * kWaits);
  EXPECT_EQ(permanent->stopsOf("stress.crossed"), kPairs * kWaits);
  EXPECT_EQ(churn->startsOf("stress.crossed"), churn->stopsOf("stress.crossed"));
  EXPECT_EQ(permanent->unmatched_stops, 0);
  EXPECT_EQ(churn->unmatched_stops, 0);
  EXPECT_EQ(churn->open_at_destruction, 0);
  EXPECT_EQ(churn->live_backends, 0) << "a set was never let go";
}

// The last registration round whose unregistration the calling thread saw
// return before it started its current wait.
thread_local int t_seen_unregistered = 0;

// A backend of registration round `round`, counting the waits it hears of
// from threads that had already seen that round unregistered: those must be
// none, however the start races with the unregistration.
class RoundBackend final : public detail::WaitCounterBackendIf {
 public:
  RoundBackend(int round, std::atomic<int>& late) : round_(round), late_(late) {}
  std::intptr_t start(std::chrono::steady_clock::time_point /*now*/) noexcept override {
    if (t_seen_unregistered >= round_) ++late_;
    return 0;
  }
  void stop(std::chrono::steady_clock::time_point /*now*/,
            std::intptr_t /*ctx*/) noexcept override {}

 private:
  const int round_;
  std::atomic<int>& late_;
};

class RoundFactory final : public detail::WaitCounterBackendFactoryIf {
 public:
  RoundFactory(int round, std::atomic<int>& late) : round_(round), late_(late) {}
  std::unique_ptr<detail::WaitCounterBackendIf> create(std::string_view /*key*/) noexcept override {
    return std::make_unique<RoundBackend>(round_, late_);
  }

 private:
  const int round_;
  std::atomic<int>& late_;
};

TEST(Stress, NoWaitStartedAfterUnregistrationReturnedReachesTheBackend) {
  constexpr int kRounds = 200;
  std::atomic<int> late{0};
  std::atomic<int> unregistered{0};  // the last round whose unregistration returned
  std::atomic<bool> done{false};
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&] {
      WaitCounterHandle handle("stress.rounds");
      while (!done.load()) {
        t_seen_unregistered = unregistered.load(std::memory_order_acquire);
        auto guard = handle.start();
      }
    });
  }
  for (int round = 1; round <= kRounds; ++round) {
    ScopedWaitBackend backend(std::make_unique<RoundFactory>(round, late));
    std::this_thread::yield();
    backend.reset();
    unregistered.store(round, std::memory_order_release);
  }
  done = true;
  for (auto& w : workers) w.join();
  EXPECT_EQ(late.load(), 0);
}

// A factory slow to create the backend of `slow_key`, to widen the window in
// which other threads find that key still being set up.
class SlowFactory final : public detail::WaitCounterBackendFactoryIf {
 public:
  SlowFactory(std::shared_ptr<WaitLog> log, std::string slow_key)
      : inner_(std::move(log)), slow_key_(std::move(slow_key)) {}
  std::unique_ptr<detail::WaitCounterBackendIf> create(std::string_view key) noexcept override {
    if (key == slow_key_) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return inner_.create(key);
  }

 private:
  RecordingFactory inner_;
  const std::string slow_key_;
};

TEST(Stress, ConcurrentFirstUseOfAKeyCreatesOneBackendAndMissesNoWait) {
  auto log = std::make_shared<WaitLog>();
  ScopedWaitBackend backend(std::make_unique<SlowFactory>(log, "stress.first.use"));
  std::latch start(kThreads);
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&] {
      start.arrive_and_wait();
      auto guard = WaitCounterHandle("stress.first.use").start();
    });
  }
  for (auto& w : workers) w.join();
  EXPECT_EQ(log->createsOf("stress.first.use"), 1);
  EXPECT_EQ(log->startsOf("stress.first.use"), kThreads);
  EXPECT_EQ(log->stopsOf("stress.first.use"), kThreads);
}

TEST(Stress, DynamicCountersComeAndGoWhileABackendReadsThem) {
  auto log = std::make_shared<CounterLog>();
  ScopedCounterBackend backend(std::make_unique<RecordingCounterBackend>(log));
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done.load()) {
      DynamicCounter::Callback cb;
      {
        std::lock_guard lock(log->mu);
        for (auto& [key, callback] : log->callbacks) cb = callback;
      }
      if (cb) cb();
    }
  });
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([t] {
      const std::string key = "stress.dynamic." + std::to_string(t);
      for (int i = 0; i < 500; ++i) {
        DynamicCounter counter(key, [i] { return i; });
      }
    });
  }
  for (auto& w : workers) w.join();
  done = true;
  reader.join();
  EXPECT_EQ(log->eventsSoFar().size(), static_cast<std::size_t>(kThreads * 500 * 2));
}

}  // namespace
}  // namespace probemon::test
