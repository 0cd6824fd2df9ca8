// SPDX-License-Identifier: BSD-3-Clause
// DynamicCounter values for a recording: a DynamicCounter backend that
// exists only while the recording runs, and a thread that reads every live
// counter at the recording's interval (and once at start and at stop; only
// then if the interval is 0) into counter tracks.
//
// Callbacks run with no lock held: a callback may itself construct or
// destroy a DynamicCounter (which takes the DynamicCounter registry's lock
// and calls into this backend) without deadlocking. A sample is kept only
// if its counter was still registered after the callback returned, so the 0
// that a destroyed counter's callback returns is never recorded; a callback
// that throws gives no sample and is counted.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stop_token>
#include <thread>
#include <vector>

#include <probemon/DynamicCounter.h>

#include "RecordingStore.h"

namespace probemon::detail {

class CounterSampler {
 public:
  CounterSampler(std::shared_ptr<RecordingStore> store, std::chrono::nanoseconds interval);
  ~CounterSampler();  // stop()s
  CounterSampler(const CounterSampler&) = delete;
  CounterSampler& operator=(const CounterSampler&) = delete;

  // Registers the backend (which is told about every live counter), then
  // samples once and starts the sampling thread.
  void start();
  // Takes a last sample, joins the thread and unregisters the backend.
  // Idempotent.
  void stop();

  // Callbacks that threw: no sample was recorded for them.
  std::uint64_t failures() const { return counters_->failures.load(); }

  // In a child of fork() (called by Fork.cpp's handler), for the sampler
  // that was running: forgets the parent's sampling thread instead of
  // joining it, and the locks and condition variable it used (a notify
  // would wait forever for the missing waiter, a lock it held would never
  // be released), so that stop() and the destructor return.
  static void forgetRunningThreadAfterFork() noexcept;

 private:
  void forgetThreadAfterFork() noexcept;
  struct Counter {
    std::uint32_t name;
    DynamicCounter::Callback callback;
    std::atomic<bool> registered{true};
  };
  // What the backend is told and the sampler reads; shared with the
  // backend, which the DynamicCounter registry owns and destroys.
  struct Counters {
    std::mutex mu;  // held only to change or copy `live`, never in a callback
    std::vector<std::shared_ptr<Counter>> live;
    std::atomic<std::uint64_t> failures{0};
  };
  class Backend;

  void sampleAll();
  void run(const std::stop_token& stop);

  const std::shared_ptr<RecordingStore> store_;
  const std::chrono::nanoseconds interval_;
  const std::shared_ptr<Counters> counters_;
  const DynamicCounterBackendIf* backend_ = nullptr;  // owned by the registry
  std::mutex wake_mu_;
  std::condition_variable_any wake_;
  std::jthread thread_;
};

}  // namespace probemon::detail
