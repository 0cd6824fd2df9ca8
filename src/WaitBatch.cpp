// SPDX-License-Identifier: BSD-3-Clause
#include "WaitBatch.h"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <new>
#include <vector>

#include "BatchFlusher.h"
#include "Fork.h"
#include "probes.h"

namespace probemon::detail {
namespace {

// Every live thread's buffer, for the flusher, exit() and fork().
struct Buffers {
  Buffers() { watchForks(); }

  std::mutex mu;
  std::vector<WaitBatch*> all;
};

Buffers& buffers() {
  // Leaked on purpose: threads may exit after static destructors ran.
  static auto* b = new Buffers;
  return *b;
}

void fire(const pm_wait_record* records, std::uint64_t count) {
  PROBEMON_PROBE(wait__batch, records, count);
}

}  // namespace

constinit thread_local WaitBatch* WaitBatch::current_ = nullptr;
constinit thread_local bool WaitBatch::destroyed_ = false;

WaitBatch* WaitBatch::current() {
  if (current_ != nullptr || destroyed_) return current_;
  // Frees this thread's buffer, handing its records over, when the thread
  // exits.
  thread_local std::unique_ptr<WaitBatch> owner = std::make_unique<WaitBatch>();
  current_ = owner.get();
  return current_;
}

WaitBatch::WaitBatch() {
  Buffers& b = buffers();
  {
    std::lock_guard lock(b.mu);
    b.all.push_back(this);
  }
  BatchFlusher::ensureRunning();
}

WaitBatch::~WaitBatch() {
  current_ = nullptr;
  destroyed_ = true;
  Buffers& b = buffers();
  std::lock_guard lock(b.mu);
  std::erase(b.all, this);
  std::lock_guard own(mu_);
  handOverLocked();
}

void WaitBatch::handOverFromOwner() noexcept {
  if (!mu_.try_lock()) return;  // the flusher is handing these over
  handOverLocked();
  mu_.unlock();
}

void WaitBatch::handOverWhenFull() noexcept {
  std::lock_guard lock(mu_);
  handOverLocked();
  tail_seen_ = tail_.load(std::memory_order_relaxed);
}

void WaitBatch::handOverLocked() noexcept {
  const std::uint64_t head = head_.load(std::memory_order_acquire);
  const std::uint64_t tail = tail_.load(std::memory_order_relaxed);
  if (PROBEMON_PROBE_ENABLED(wait__batch) && head != tail) {
    // At most two runs: the ring may wrap.
    const std::uint64_t first = tail % kCapacity;
    const std::uint64_t run = std::min(head - tail, kCapacity - first);
    fire(&records_[first], run);
    if (run != head - tail) fire(&records_[0], head - tail - run);
  }
  // The kernel has read the records (the probe's BPF ran on this thread):
  // the owner may write over them.
  tail_.store(head, std::memory_order_release);
}

void WaitBatch::recordWithoutBuffer(const Key& key, std::uint64_t duration_ns) noexcept {
  WaitBatch* batch = nullptr;
  try {
    batch = current();
  } catch (const std::bad_alloc&) {  // no buffer: this wait goes alone, below
  }
  if (batch != nullptr) {
    batch->push(key, duration_ns);
    return;
  }
  const pm_wait_record record{key.id, duration_ns,
                              reinterpret_cast<std::uintptr_t>(key.name.c_str())};
  fire(&record, 1);
}

void WaitBatch::handOverAll() {
  Buffers& b = buffers();
  std::lock_guard lock(b.mu);
  for (WaitBatch* batch : b.all) {
    std::lock_guard own(batch->mu_);
    batch->handOverLocked();
  }
  // A batch of none says the sweep is over: a tool that saw one begin and
  // end after its session's end has every wait completed before it.
  if (PROBEMON_PROBE_ENABLED(wait__batch)) fire(nullptr, 0);
}

void WaitBatch::lockAllForFork() {
  Buffers& b = buffers();
  b.mu.lock();
  for (WaitBatch* batch : b.all) batch->mu_.lock();
}

void WaitBatch::unlockAllAfterFork(bool in_child) {
  Buffers& b = buffers();
  if (in_child) {
    // The other threads' buffers stay allocated (their owners never run
    // here) but are no longer seen; this thread's records are the parent's
    // to hand over.
    std::erase_if(b.all, [](WaitBatch* batch) {
      if (batch == current_) {
        batch->tail_.store(batch->head_.load(std::memory_order_relaxed), std::memory_order_relaxed);
        return false;
      }
      batch->mu_.unlock();
      return true;
    });
  }
  for (WaitBatch* batch : b.all) batch->mu_.unlock();
  b.mu.unlock();
  if (in_child) BatchFlusher::restartInChild();
}

}  // namespace probemon::detail
