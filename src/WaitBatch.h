// SPDX-License-Identifier: BSD-3-Clause
// Batched probe mode: the per-thread buffer behind the wait__batch probe.
//
// While a tracer holds wait__batch's semaphore raised, a stopped wait is not
// announced with a uprobe trap (0.75-5.7 us on this VM) but appended to its thread's
// ring of pm_wait_record (probemon_abi.h): plain stores of the record and
// a release store of the ring's head, no locked instruction, no allocation.
// Every kBatch (1,024) waits the thread hands what it holds to the kernel with one
// wait__batch hit, under its buffer's mutex (try_lock: if the flusher holds
// it, the flusher is handing the same records over). The flusher
// (BatchFlusher.h) sweeps every buffer every 50 ms, so a thread that goes
// idle with a partial batch has it counted within 100 ms; a thread's buffer
// is handed over when the thread exits, and every buffer at exit().
//
// No wait is dropped: a thread whose ring is full (the flusher held its lock
// for kCapacity - kBatch waits: it was descheduled mid-hand-off, which
// happens on a loaded machine) waits for the lock and hands over itself.
// Records present when the semaphore is found low at a hand-off are
// discarded: no tracer wants them, and a later one must not count waits that
// completed before it came.
//
// A buffer is 48 KiB, allocated once per thread at its first batched wait,
// when it is registered under the registry's lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

#include "KeyTable.h"
#include "probemon_abi.h"

namespace probemon::detail {

class WaitBatch {
 public:
  // The owner hands over every kBatch waits: a trap costs 5.7 us on this
  // VM today (750 ns a month ago), 5.5 ns per wait when shared by 1,024.
  static constexpr std::uint64_t kBatch = 1024;
  // Room for one more batch while the flusher hands this one over.
  static constexpr std::uint64_t kCapacity = 2 * kBatch;

  // Records one wait of `key` on this thread. Only while wait__batch is
  // attached (callers test its semaphore).
  static void record(const Key& key, std::uint64_t duration_ns) noexcept {
    WaitBatch* batch = current_;
    if (__builtin_expect(batch == nullptr, 0)) {
      recordWithoutBuffer(key, duration_ns);
      return;
    }
    batch->push(key, duration_ns);
  }

  WaitBatch();
  WaitBatch(const WaitBatch&) = delete;
  WaitBatch& operator=(const WaitBatch&) = delete;
  // At thread exit: hands over what the thread holds.
  ~WaitBatch();

  // Records waiting to be handed over (tests).
  std::uint64_t pending() const {
    return head_.load(std::memory_order_acquire) - tail_.load(std::memory_order_acquire);
  }

  // This thread's buffer, created and registered on first use; null once
  // the thread's buffer has been destroyed (thread exit).
  static WaitBatch* current();

  // Hands over every registered buffer's records (the flusher's sweep,
  // exit()), then fires an empty batch that marks the sweep's end.
  static void handOverAll();

  // fork(): the registry's and every buffer's lock, taken before and
  // released after (Fork.h). The child forgets the other threads' buffers
  // and discards its own records, which the parent hands over.
  static void lockAllForFork();
  static void unlockAllAfterFork(bool in_child);

 private:
  void push(const Key& key, std::uint64_t duration_ns) noexcept {
    const std::uint64_t head = head_.load(std::memory_order_relaxed);  // written here only
    if (head - tail_seen_ == kCapacity) [[unlikely]] {
      tail_seen_ = tail_.load(std::memory_order_acquire);
      if (head - tail_seen_ == kCapacity) handOverWhenFull();
    }
    pm_wait_record& record = records_[head % kCapacity];
    record.key_id = key.id;
    record.duration_ns = duration_ns;
    record.key = reinterpret_cast<std::uintptr_t>(key.name.c_str());
    head_.store(head + 1, std::memory_order_release);
    if ((head + 1) % kBatch == 0) [[unlikely]]
      handOverFromOwner();
  }

  // The owner's hand-off of a full batch, unless the flusher is at it.
  void handOverFromOwner() noexcept;
  // The owner's ring is full: the flusher holds its lock and fell behind
  // (descheduled mid-hand-off, say). Waits for it rather than drop a wait.
  void handOverWhenFull() noexcept;
  // Fires wait__batch for everything between tail_ and head_ (or discards
  // it if detached) and moves tail_. Under mu_.
  void handOverLocked() noexcept;
  // A wait after this thread's buffer is gone: a batch of one, at once.
  static void recordWithoutBuffer(const Key& key, std::uint64_t duration_ns) noexcept;

  // initial-exec: one %fs-relative load on the hot path (as ThreadWaitState).
  [[gnu::tls_model("initial-exec")]] static constinit thread_local WaitBatch* current_;
  [[gnu::tls_model("initial-exec")]] static constinit thread_local bool destroyed_;

  // The owner's side: records, head_ (release) and its last look at tail_.
  alignas(64) std::atomic<std::uint64_t> head_{0};
  std::uint64_t tail_seen_ = 0;
  // The consumer's side, under mu_.
  alignas(64) std::mutex mu_;
  std::atomic<std::uint64_t> tail_{0};
  alignas(64) pm_wait_record records_[kCapacity];
};

}  // namespace probemon::detail
