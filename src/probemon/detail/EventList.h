// SPDX-License-Identifier: BSD-3-Clause
// probemon/detail/EventList.h: the storage under a RecordQueue. Not for
// users; in a public header because ThreadSubqueue::emplacePyCall() is
// inline, for the Python tracer's per-call hot path.
//
// EventList<T>: one thread's events of one kind, in blocks of 1,024. Only
// the owning thread appends (no lock, no locked instruction); any thread may
// read concurrently: a block publishes its count with a release store, so a
// reader sees whole events, and a prefix of them.
//
// EventStorage: what the lists of one queue share. The budget (max_events):
// a list reserves up to a block's worth when it takes a new block, so the cap
// costs nothing per event. And the memory: blocks are carved from 2 MB
// chunks mapped with MADV_HUGEPAGE and populated in one madvise() call,
// because first-touch page faults are what storing events costs most on a
// VM: about 70 ns per 24-byte event here with 4 KB faults, 1-3 ns with one
// populated huge page per 2 MB. Chunks are unmapped with the storage.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

#include <probemon/detail/Export.h>

namespace probemon::detail {

class PROBEMON_API EventStorage {
 public:
  static constexpr std::size_t kChunkBytes = std::size_t{2} << 20;

  explicit EventStorage(std::int64_t max_events) : remaining_(max_events) {}
  ~EventStorage();
  EventStorage(const EventStorage&) = delete;
  EventStorage& operator=(const EventStorage&) = delete;

  // Grants up to `want` events; 0 once the cap is reached.
  std::uint32_t reserve(std::uint32_t want) noexcept {
    const std::int64_t before = remaining_.fetch_sub(want, std::memory_order_relaxed);
    if (before <= 0) return 0;
    return before < want ? static_cast<std::uint32_t>(before) : want;
  }

  // Zeroed, populated memory for one block (at most kChunkBytes, aligned for
  // any event), or null if none could be mapped. Takes a lock.
  void* allocate(std::size_t bytes) noexcept;
  // Maps and populates a chunk now, so the first events do not pay for it.
  void prepare() noexcept;

 private:
  bool addChunkLocked() noexcept;

  std::atomic<std::int64_t> remaining_;
  std::mutex mu_;
  std::vector<std::pair<void*, std::size_t>> chunks_;  // to unmap
  char* next_ = nullptr;
  std::size_t left_ = 0;
};

template <typename T>
class EventList {
  static_assert(std::is_trivially_destructible_v<T>, "events are overwritten in place");

 public:
  static constexpr std::uint32_t kBlockEvents = 1024;

  explicit EventList(EventStorage& storage) : storage_(storage) {}
  EventList(const EventList&) = delete;
  EventList& operator=(const EventList&) = delete;

  // Stores one event and returns it, or returns null and counts the drop.
  template <typename... Args>
  T* emplace(Args&&... args) noexcept {
    if (used_ == capacity_) [[unlikely]] {
      if (!grow()) return nullptr;
    }
    // Over the default-constructed, trivially destructible item.
    T* slot = new (&tail_->items[used_]) T{std::forward<Args>(args)...};
    // Publishes the event: a reader that sees the count sees its contents.
    tail_->published.store(++used_, std::memory_order_release);
    return slot;
  }

  // Visits a prefix of the events, in order: whatever was published when
  // the walk reached it.
  template <typename F>
  void forEach(F&& visit) const {
    for (const Block* b = head_.load(std::memory_order_acquire); b != nullptr;) {
      // `next` first: the writer links a block only after publishing the
      // last event of the one before, so a block with a successor is seen
      // whole, and no event is skipped while later ones are seen.
      const Block* next = b->next.load(std::memory_order_acquire);
      const std::uint32_t n = b->published.load(std::memory_order_acquire);
      for (std::uint32_t i = 0; i < n; ++i) visit(b->items[i]);
      b = next;
    }
  }

  // Events not stored: the budget was gone, or no block could be had.
  std::uint64_t droppedOverCap() const { return over_cap_.load(std::memory_order_relaxed); }
  std::uint64_t droppedNoMemory() const { return no_memory_.load(std::memory_order_relaxed); }

 private:
  // Lives in the storage's chunks; never destroyed, only unmapped.
  struct Block {
    std::atomic<std::uint32_t> published{0};
    std::atomic<Block*> next{nullptr};
    T items[kBlockEvents];
  };
  static_assert(sizeof(Block) <= EventStorage::kChunkBytes);
  static_assert(alignof(Block) <= alignof(std::max_align_t));

  // Single writer: a relaxed load and store, no locked instruction.
  static void bump(std::atomic<std::uint64_t>& counter) {
    counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

  [[gnu::noinline]] bool grow() noexcept {
    const std::uint32_t granted = storage_.reserve(kBlockEvents);
    if (granted == 0) {
      bump(over_cap_);
      return false;
    }
    // A block of fewer events than asked for is the last this list gets, and
    // the budget it could not use stays spent: the cap is an upper bound.
    void* memory = storage_.allocate(sizeof(Block));
    if (memory == nullptr) {
      bump(no_memory_);
      return false;
    }
    auto* block = new (memory) Block;
    if (tail_ == nullptr) {
      head_.store(block, std::memory_order_release);
    } else {
      tail_->next.store(block, std::memory_order_release);
    }
    tail_ = block;
    used_ = 0;
    capacity_ = granted;
    return true;
  }

  EventStorage& storage_;
  std::atomic<Block*> head_{nullptr};
  Block* tail_ = nullptr;
  std::uint32_t used_ = 0;
  std::uint32_t capacity_ = 0;
  std::atomic<std::uint64_t> over_cap_{0};
  std::atomic<std::uint64_t> no_memory_{0};
};

}  // namespace probemon::detail
