// SPDX-License-Identifier: BSD-3-Clause
// One thread's records in a RecordQueue: the Python tracer's call entries
// (ThreadSubqueue, public) plus the library's own lists, and the
// thread-local cache that finds them on the hot path.
//
// Sizes, per event: a wait 24 bytes, an instant 24 (plus its name's bytes,
// in the thread's TextArena), a counter sample 24, a Python call entry 16.
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <string>

#include <probemon/ApproximateClock.h>
#include <probemon/RecordQueue.h>

#include "TextArena.h"

namespace probemon::detail {

// A wait counter wait. `end` is written by whichever thread stops the wait,
// possibly after the recording stopped, so it is atomic; kOpen until then.
struct WaitRecord {
  static constexpr approx_time_t kOpen = std::numeric_limits<approx_time_t>::min();
  // Set when the stamps are CLOCK_MONOTONIC ns (the wait went through the
  // public backend interface), not approximate ticks.
  static constexpr std::uint32_t kTimesAreNs = 1;

  std::uint32_t name;  // index in the recording's NameTable
  std::uint32_t flags;
  approx_time_t start;
  std::atomic<approx_time_t> end;
};
static_assert(sizeof(WaitRecord) == 24);

struct InstantRecord {
  const char* name;  // in the thread's TextArena
  std::uint32_t length;
  approx_time_t t;
};
static_assert(sizeof(InstantRecord) == 24);

struct CounterSampleRecord {
  std::uint32_t name;  // index in the recording's NameTable
  time_t t;
  std::int64_t value;
};
static_assert(sizeof(CounterSampleRecord) == 24);

class ThreadRecords final : public ThreadSubqueue {
 public:
  ThreadRecords(EventStorage& storage, std::uint64_t tid, std::string thread_name)
      : ThreadSubqueue(storage, tid),
        waits(storage),
        instants(storage),
        samples(storage),
        thread_name(std::move(thread_name)) {}

  // The calling thread's records in the queue with id `queue_id` if this
  // thread used that queue last, else null (RecordQueue::threadRecords()
  // then finds or makes them).
  static ThreadRecords* cached(std::uint64_t queue_id) noexcept {
    return cache_.queue_id == queue_id ? cache_.records : nullptr;
  }
  // Called by the queue when it made or found this thread's records.
  static void setCurrent(std::uint64_t queue_id, ThreadRecords* records) noexcept {
    cache_ = {queue_id, records};
  }

  EventList<WaitRecord> waits;
  EventList<InstantRecord> instants;
  TextArena instant_names;  // its failures are instants dropped
  EventList<CounterSampleRecord> samples;
  // pthread_getname_np() when the records were made.
  const std::string thread_name;

 private:
  struct Cache {
    std::uint64_t queue_id;  // 0: none (queue ids start at 1)
    ThreadRecords* records;
  };
  // initial-exec, like ThreadWaitState's: one %fs-relative load. Trivially
  // destructible, so it stays readable during thread exit.
  [[gnu::tls_model("initial-exec")]] static constinit thread_local Cache cache_;
};

}  // namespace probemon::detail
