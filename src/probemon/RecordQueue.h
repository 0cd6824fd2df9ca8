// SPDX-License-Identifier: BSD-3-Clause
// probemon/RecordQueue.h: the event store of one recording, per thread and
// append-only.
//
// Each thread that records gets its own ThreadSubqueue; its events go into
// lists of fixed blocks that only that thread writes, so recording an event
// takes no lock, runs no locked instruction and allocates only when a block
// fills (<probemon/detail/EventList.h>). A reader (the recording, once it
// has stopped) walks the blocks while threads may still append, and sees
// whole events only.
//
// All lists of a queue draw from one budget, the recording's max_events, and
// one pool of memory. Once the budget is gone, events are dropped and
// counted per list, never silently.
//
// The Python tracer (<probemon/PythonTracer.h>) records call entries here:
//
//   ThreadSubqueue* sub = queue->getSubqueue();   // once per thread
//   sub->emplacePyCall(key, probemon::getApproximateTime());
//
// 16 bytes and about 2 ns per call on top of the stamp; a block of 1,024
// calls is taken on the first call and whenever one fills.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include <probemon/ApproximateClock.h>
#include <probemon/PythonTracer.h>
#include <probemon/detail/EventList.h>
#include <probemon/detail/Export.h>

namespace probemon {

// One thread's part of a RecordQueue. What a Python tracer writes.
class ThreadSubqueue {
 public:
  struct PyCall {
    python_tracer::TraceKey key;
    approx_time_t enter_t;
  };

  // Records the entry into a call on this subqueue's thread (only there).
  // False if the event was dropped (the recording's max_events reached).
  bool emplacePyCall(python_tracer::TraceKey key, approx_time_t t) noexcept {
    return py_calls_.emplace(key, t) != nullptr;
  }

  // The system thread id (gettid()) of the thread this subqueue belongs to.
  std::uint64_t tid() const { return tid_; }

  const detail::EventList<PyCall>& pyCalls() const { return py_calls_; }

  ThreadSubqueue(const ThreadSubqueue&) = delete;
  ThreadSubqueue& operator=(const ThreadSubqueue&) = delete;

 protected:
  ThreadSubqueue(detail::EventStorage& storage, std::uint64_t tid)
      : py_calls_(storage), tid_(tid) {}
  ~ThreadSubqueue() = default;

 private:
  detail::EventList<PyCall> py_calls_;
  const std::uint64_t tid_;
};

namespace detail {
class ThreadRecords;
}

class PROBEMON_API RecordQueue {
 public:
  // Stores at most max_events events over all threads and kinds.
  explicit RecordQueue(std::int64_t max_events);
  ~RecordQueue();
  RecordQueue(const RecordQueue&) = delete;
  RecordQueue& operator=(const RecordQueue&) = delete;

  // The calling thread's subqueue: created (under a lock) on the thread's
  // first call for this queue, then found with one thread-local compare.
  // Null only if it could not be allocated (counted).
  ThreadSubqueue* getSubqueue() noexcept;

  // Unique in the process, never reused: a thread-local cache compares it.
  std::uint64_t id() const { return id_; }

  // For the library: the calling thread's records (what getSubqueue()
  // returns, with the library's own lists), every thread's records, the
  // subqueues that could not be allocated, and the memory they share.
  detail::ThreadRecords* threadRecords() noexcept;
  std::vector<const detail::ThreadRecords*> allThreadRecords() const;
  std::uint64_t droppedNoMemory() const { return no_memory_.load(std::memory_order_relaxed); }
  detail::EventStorage& storage() { return storage_; }

 private:
  detail::ThreadRecords* makeThreadRecords() noexcept;

  const std::uint64_t id_;
  detail::EventStorage storage_;
  mutable std::mutex mu_;  // guards threads_
  std::vector<std::unique_ptr<detail::ThreadRecords>> threads_;
  std::atomic<std::uint64_t> no_memory_{0};
};

}  // namespace probemon
