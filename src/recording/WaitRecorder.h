// SPDX-License-Identifier: BSD-3-Clause
// The wait counter backend of a recording: registered when a recording
// starts and unregistered when it stops, so while nothing records, waits pay
// exactly what they did before (no backend, or the user's backends only).
//
// Each wait is one WaitRecord (24 bytes) in the starting thread's records:
// start() stores it and returns its address as the context, stop() writes
// the end stamp into it. When the recorder is a key's only backend and no
// tracer is attached to the wait probes, the timed path (WaitCounter.cpp)
// stamps with getApproximateTime() (rdtsc) and calls startApprox() /
// stopApprox() directly, instead of reading CLOCK_MONOTONIC twice for the
// public interface: a recorded wait then costs about half what a wait with
// one backend costs (docs/performance.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string_view>

#include <probemon/ApproximateClock.h>
#include <probemon/WaitCounter.h>

#include "RecordingStore.h"
#include "ThreadRecords.h"

namespace probemon::detail {

class WaitRecorder final : public WaitCounterBackendIf {
 public:
  WaitRecorder(std::shared_ptr<RecordingStore> store, std::uint32_t name)
      : store_(std::move(store)), queue_id_(store_->queue.id()), name_(name) {}

  // The timed path's entry points, with approximate stamps.
  std::intptr_t startApprox(approx_time_t now) noexcept { return record(now, 0); }
  static void stopApprox(approx_time_t now, std::intptr_t ctx) noexcept {
    // ctx 0: the wait was dropped (cap reached), and counted then.
    if (ctx != 0) {
      // NOLINTNEXTLINE(performance-no-int-to-ptr): the context is the record's address
      reinterpret_cast<WaitRecord*>(ctx)->end.store(now, std::memory_order_relaxed);
    }
  }

  // The public interface, used when the key has other backends too.
  std::intptr_t start(std::chrono::steady_clock::time_point now) noexcept override {
    return record(nanos(now), WaitRecord::kTimesAreNs);
  }
  void stop(std::chrono::steady_clock::time_point now, std::intptr_t ctx) noexcept override {
    stopApprox(nanos(now), ctx);
  }

 private:
  static time_t nanos(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  }

  std::intptr_t record(approx_time_t now, std::uint32_t flags) noexcept {
    ThreadRecords* records = ThreadRecords::cached(queue_id_);
    if (records == nullptr) [[unlikely]] {
      records = store_->queue.threadRecords();
      if (records == nullptr) return 0;
    }
    return reinterpret_cast<std::intptr_t>(
        records->waits.emplace(name_, flags, now, WaitRecord::kOpen));
  }

  const std::shared_ptr<RecordingStore> store_;
  const std::uint64_t queue_id_;
  const std::uint32_t name_;
};

// Makes a WaitRecorder for every key.
class WaitRecorderFactory final : public WaitCounterBackendFactoryIf {
 public:
  explicit WaitRecorderFactory(std::shared_ptr<RecordingStore> store) : store_(std::move(store)) {}

  std::unique_ptr<WaitCounterBackendIf> create(std::string_view key) noexcept override;

 private:
  const std::shared_ptr<RecordingStore> store_;
};

// `backend` as a WaitRecorder, or null if it is another kind of backend.
WaitRecorder* asWaitRecorder(WaitCounterBackendIf* backend) noexcept;

}  // namespace probemon::detail
