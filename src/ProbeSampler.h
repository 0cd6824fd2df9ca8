// SPDX-License-Identifier: BSD-3-Clause
// The built-in reader of DynamicCounters behind the `dynamic__value` probe:
// a backend of the DynamicCounter registry that keeps nothing of its own.
//
// A thread that exists only while at least one counter is live checks the
// probe's semaphore once per interval (PROBEMON_SAMPLE_MS, default 1000 ms);
// while a tracer is attached it takes the registry's list of live counters,
// reads each with no lock held and fires dynamic__value with the value. So a
// callback may build or destroy other counters, and a slow one delays
// nothing but its own counter's destructor. Detached, its cost is one
// wake-up per interval in processes that have DynamicCounters.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <semaphore>
#include <thread>
#include <vector>

#include "CallbackState.h"

namespace probemon::detail {

class ProbeSampler {
 public:
  using LiveCounters = std::function<std::vector<LiveCounter>()>;

  // `live` lists the registry's live counters; it takes the registry's lock,
  // so it is never called with that lock held.
  explicit ProbeSampler(LiveCounters live);

  // The sampling thread. Destroying it stops it and waits for a sample in
  // progress, or, on the sampling thread itself (a callback destroying the
  // last counter), lets it end on its own.
  class Thread {
   public:
    explicit Thread(const ProbeSampler& sampler);
    ~Thread();
    Thread(const Thread&) = delete;
    Thread& operator=(const Thread&) = delete;

    // Returns once the thread runs the sampler's loop.
    void awaitStarted() const { control_->started.wait(false); }

   private:
    // Shared with the thread, which may outlive this object (see above).
    struct Control {
      std::binary_semaphore stop{0};
      std::atomic<bool> started{false};
    };
    std::shared_ptr<Control> control_;
    std::thread thread_;
  };

  // Called by the registry, under its lock, once it has live counters...
  void start() { thread_ = std::make_unique<Thread>(*this); }
  // ...and once it has none: destroy the thread returned once that lock is
  // released.
  [[nodiscard]] std::unique_ptr<Thread> stop() { return std::move(thread_); }
  bool running() const { return thread_ != nullptr; }
  // Before fork(), under the registry's lock: lets a thread that is being
  // started get to its loop, so that the child copies no thread halfway
  // through its start (which a sanitizer's allocator, say, does not survive).
  void awaitStarted() const {
    if (thread_) thread_->awaitStarted();
  }
  // In a child of fork(), where the thread does not exist: forgets it
  // (leaked: neither stopped nor joined) and starts a new one if it ran.
  void restartInChild();

 private:
  // Reads every live counter now and fires dynamic__value for each, if the
  // probe is attached.
  void sampleOnce() const;

  const LiveCounters live_;
  const std::chrono::milliseconds interval_;
  std::unique_ptr<Thread> thread_;
};

}  // namespace probemon::detail
