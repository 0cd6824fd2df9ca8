// SPDX-License-Identifier: BSD-3-Clause
// The memory of a recording's event lists (<probemon/detail/EventList.h>):
// 2 MB chunks, huge-page backed where the kernel allows, populated up front.
#include <sys/mman.h>

#include <cstddef>
#include <cstdint>

#include <probemon/detail/EventList.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14
#endif

namespace probemon::detail {

EventStorage::~EventStorage() {
  for (const auto& [address, bytes] : chunks_) munmap(address, bytes);
}

void EventStorage::prepare() noexcept {
  std::lock_guard lock(mu_);
  if (left_ == 0) addChunkLocked();
}

void* EventStorage::allocate(std::size_t bytes) noexcept {
  bytes = (bytes + alignof(std::max_align_t) - 1) & ~(alignof(std::max_align_t) - 1);
  if (bytes > kChunkBytes) return nullptr;
  std::lock_guard lock(mu_);
  if (bytes > left_ && !addChunkLocked()) return nullptr;
  void* block = next_;
  next_ += bytes;
  left_ -= bytes;
  return block;
}

bool EventStorage::addChunkLocked() noexcept {
  // Twice the size, to cut a 2 MB-aligned chunk out of it: only an aligned
  // range can be one huge page.
  const std::size_t mapped = 2 * kChunkBytes;
  void* raw = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return false;
  const std::size_t misalignment = reinterpret_cast<std::uintptr_t>(raw) % kChunkBytes;
  const std::size_t head = misalignment == 0 ? 0 : kChunkBytes - misalignment;
  char* chunk = static_cast<char*>(raw) + head;
  if (head != 0) munmap(raw, head);
  munmap(chunk + kChunkBytes, mapped - head - kChunkBytes);
  try {
    chunks_.emplace_back(chunk, kChunkBytes);
  } catch (...) {
    munmap(chunk, kChunkBytes);
    return false;
  }
  // Both are hints: without transparent huge pages (or before Linux 5.14)
  // the chunk is faulted in page by page as it is written instead.
  madvise(chunk, kChunkBytes, MADV_HUGEPAGE);
  madvise(chunk, kChunkBytes, MADV_POPULATE_WRITE);
  next_ = chunk;
  left_ = kChunkBytes;
  return true;
}

}  // namespace probemon::detail
