// SPDX-License-Identifier: BSD-3-Clause
// Copies of short strings (instant event names) in blocks that one thread
// appends to, so recording a name allocates only when a block fills. The
// copies stay where they are until the arena is destroyed, so records may
// point at them and other threads may read them once those records are
// published.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string_view>
#include <vector>

namespace probemon::detail {

class TextArena {
 public:
  static constexpr std::size_t kBlockBytes = 4096;

  // A copy of `text`, or null (counted) if no memory could be had. Owner
  // thread only.
  const char* copy(std::string_view text) noexcept {
    if (text.empty()) return "";
    if (text.size() > left_) [[unlikely]] {
      // A longer string gets a block of its own; the current one stays.
      const std::size_t size = std::max(text.size(), kBlockBytes);
      char* block = new (std::nothrow) char[size];
      try {
        if (block == nullptr) throw std::bad_alloc();
        blocks_.emplace_back(block);
      } catch (...) {
        delete[] block;
        failures_.store(failures_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        return nullptr;
      }
      if (text.size() >= kBlockBytes) {
        std::memcpy(block, text.data(), text.size());
        return block;
      }
      next_ = block;
      left_ = size;
    }
    char* out = next_;
    std::memcpy(out, text.data(), text.size());
    next_ += text.size();
    left_ -= text.size();
    return out;
  }

  // Copies that could not be made (written by the owner, read by anyone).
  std::uint64_t failures() const { return failures_.load(std::memory_order_relaxed); }

 private:
  std::vector<std::unique_ptr<char[]>> blocks_;
  std::atomic<std::uint64_t> failures_{0};
  char* next_ = nullptr;
  std::size_t left_ = 0;
};

}  // namespace probemon::detail
