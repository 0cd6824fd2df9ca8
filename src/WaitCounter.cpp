// The wait-counter fast path: WaitCounterHandle::start() and the guard's
// stop().
//
// Detached (no backend on the key, no tracer on wait__start/wait__done),
// start() is three loads and one predictable branch and returns an empty
// guard whose stop() is a single inline test. Nothing is written, so threads
// on the same key share no cache line in writable state.
//
// A wait is timed when a backend or an attached probe needs it: it reads
// CLOCK_MONOTONIC (steady_clock on Linux) once at start and once at stop, and
// gets a wait_id from a per-thread block so threads do not contend on one
// counter.
#include <chrono>
#include <cstdint>
#include <memory>
#include <utility>

#include <probemon/WaitCounter.h>

#include "WaitCounterImpl.h"
#include "probes.h"

namespace probemon {
namespace {

std::int64_t toNanos(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

// Non-zero ids unique in the process: each thread reserves a block at a time.
std::uint64_t nextWaitId() {
  constexpr std::uint64_t kBlock = 1024;
  static std::atomic<std::uint64_t> next_block{1};
  thread_local std::uint64_t next = 0;
  thread_local std::uint64_t end = 0;
  if (next == end) {
    next = next_block.fetch_add(kBlock, std::memory_order_relaxed);
    end = next + kBlock;
  }
  return next++;
}

}  // namespace

WaitCounterHandle::WaitCounterHandle(std::string_view key) : impl_(detail::waitCounterFor(key)) {}

WaitCounterHandle::WaitGuard WaitCounterHandle::start() {
  WaitGuard guard;
  // Each test is a plain load; evaluate all three without short-circuit
  // branches, then branch once.
  const bool start_probe = PROBEMON_PROBE_ENABLED(wait__start);
  const bool done_probe = PROBEMON_PROBE_ENABLED(wait__done);
  if (__builtin_expect(start_probe | done_probe | impl_.hasBackends(), 0)) {
    impl_.startTimed(guard, start_probe);
  }
  return guard;
}

namespace detail {

void WaitCounterImpl::startTimed(WaitCounterHandle::WaitGuard& guard, bool start_probe) {
  const auto now = std::chrono::steady_clock::now();
  guard.impl_ = this;
  guard.wait_id_ = nextWaitId();
  guard.start_ns_ = toNanos(now);
  if (hasBackends()) {
    guard.backends_ = backends();
  }
  if (guard.backends_) {
    const auto& active = guard.backends_->active;
    if (active.size() > WaitCounterHandle::WaitGuard::kInlineContexts) {
      guard.more_contexts_ = std::make_unique<std::intptr_t[]>(
          active.size() - WaitCounterHandle::WaitGuard::kInlineContexts);
    }
    for (std::size_t i = 0; i < active.size(); ++i) {
      const std::intptr_t ctx = active[i].backend->start(now);
      if (i < WaitCounterHandle::WaitGuard::kInlineContexts) {
        guard.contexts_[i] = ctx;
      } else {
        guard.more_contexts_[i - WaitCounterHandle::WaitGuard::kInlineContexts] = ctx;
      }
    }
  }
  if (start_probe) {
    PROBEMON_PROBE(wait__start, key_.name.c_str(), key_.id, guard.wait_id_,
                   static_cast<std::uint64_t>(guard.start_ns_));
  }
}

}  // namespace detail

void WaitCounterHandle::WaitGuard::stopTimed() noexcept {
  const auto now = std::chrono::steady_clock::now();
  detail::WaitCounterImpl* impl = std::exchange(impl_, nullptr);
  if (backends_) {
    const auto& active = backends_->active;
    for (std::size_t i = 0; i < active.size(); ++i) {
      const std::intptr_t ctx =
          i < kInlineContexts ? contexts_[i] : more_contexts_[i - kInlineContexts];
      active[i].backend->stop(now, ctx);
    }
    backends_.reset();
    more_contexts_.reset();
  }
  if (PROBEMON_PROBE_ENABLED(wait__done)) {
    const detail::Key& key = impl->key();
    const std::int64_t end_ns = toNanos(now);
    PROBEMON_PROBE(wait__done, key.name.c_str(), key.id, wait_id_,
                   static_cast<std::uint64_t>(start_ns_),
                   static_cast<std::uint64_t>(end_ns - start_ns_));
  }
}

WaitCounterHandle::WaitGuard::WaitGuard(WaitGuard&& other) noexcept
    : impl_(std::exchange(other.impl_, nullptr)),
      wait_id_(other.wait_id_),
      start_ns_(other.start_ns_),
      backends_(std::move(other.backends_)),
      contexts_(other.contexts_),
      more_contexts_(std::move(other.more_contexts_)) {}

}  // namespace probemon
