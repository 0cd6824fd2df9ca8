// SPDX-License-Identifier: BSD-3-Clause
// A replica of the reference design (PyTorch's c10::monitor WaitCounter), the
// yardstick for probemon's wait-counter benchmarks: every start() and stop()
// reads steady_clock, start() fills a small inline vector with one context
// per backend, and both loop over the key's backends. Like the reference's
// (defined in c10/util/WaitCounter.cpp), start() and stop() are defined in
// their own translation unit, ReferenceReplica.cpp, so neither side of the
// comparison is inlined into the benchmark loop. Benchmark-only code.
#pragma once

#include <probemon/WaitCounter.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

namespace probemon::bench {

// Inline storage for a few contexts, like c10::SmallVector<intptr_t>.
class SmallContexts {
 public:
  void reserve(std::size_t n) {
    if (n > inline_.size()) heap_.reserve(n);
  }
  void push_back(std::intptr_t v) {
    if (heap_.capacity() == 0 && size_ < inline_.size()) {
      inline_[size_++] = v;
    } else {
      heap_.push_back(v);
      ++size_;
    }
  }
  std::intptr_t operator[](std::size_t i) const {
    return heap_.capacity() == 0 ? inline_[i] : heap_[i];
  }
  std::size_t size() const { return size_; }

 private:
  std::array<std::intptr_t, 4> inline_{};
  std::vector<std::intptr_t> heap_;
  std::size_t size_ = 0;
};

class ReplicaWaitCounter {
 public:
  void addBackend(std::unique_ptr<detail::WaitCounterBackendIf> backend) {
    backends_.push_back(std::move(backend));
  }

  SmallContexts start();
  void stop(const SmallContexts& ctxs);

 private:
  std::vector<std::unique_ptr<detail::WaitCounterBackendIf>> backends_;
};

}  // namespace probemon::bench
