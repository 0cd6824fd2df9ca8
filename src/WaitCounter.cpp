// SPDX-License-Identifier: BSD-3-Clause
// The wait-counter fast path: WaitCounterHandle::start() and the guard's
// stop().
//
// Detached (no backend on the key, no tracer on wait__start/wait__done),
// the inline start() in the header is three loads and one predictable branch
// and returns a guard whose only initialized member is a null pointer; its
// destructor is one inline test. Nothing shared is written and nothing here
// runs.
//
// A wait is timed when a backend or an attached probe needs it: it reads
// CLOCK_MONOTONIC (steady_clock on Linux) once at start and once at stop;
// or, when a recording's WaitRecorder is the key's only backend and no
// probe is attached, the TSC instead (getApproximateTime()). When
// wait__batch alone listens (batched probe mode), the wait is stamped with
// the TSC too and its stop appends it to its thread's batch (WaitBatch.h):
// no trap, no clock_gettime, no locked instruction.
// Its id and its pin on the backend set come from ThreadWaitState, so timed
// waits on one key from many threads do not bounce a cache line either.
#include <chrono>
#include <cstdint>
#include <utility>

#include <time.h>

#include <probemon/ApproximateClock.h>
#include <probemon/WaitCounter.h>

#include "ThreadWaitState.h"
#include "WaitBatch.h"
#include "WaitCounterImpl.h"
#include "probes.h"
#include "recording/WaitRecorder.h"

namespace probemon {
namespace {

std::int64_t toNanos(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

// steady_clock::now() is clock_gettime(CLOCK_MONOTONIC) behind two calls
// into libstdc++; reading it here saves them on every timed wait. The clock
// is the one the probe ABI promises and bpf_ktime_get_ns() reads.
std::chrono::steady_clock::time_point monotonicNow() {
  timespec ts;  // NOLINT(cppcoreguidelines-pro-type-member-init): filled in, cannot fail
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::chrono::steady_clock::time_point(std::chrono::seconds(ts.tv_sec) +
                                               std::chrono::nanoseconds(ts.tv_nsec));
}

// A per-wait tracer attached during a batched wait: it has no wait id (none
// was taken) and its start is now minus the duration, as stopRecorded().
// Out of line, so the batched stop stays small.
[[gnu::noinline, gnu::cold]] void fireDoneAfterBatched(const detail::Key& key,
                                                       std::uint64_t duration) noexcept {
  PROBEMON_PROBE(wait__done, key.name.c_str(), key.id, detail::ThreadWaitState::nextSharedWaitId(),
                 static_cast<std::uint64_t>(getTime()) - duration, duration);
}

}  // namespace

WaitCounterHandle::WaitCounterHandle(std::string_view key) : hot_(detail::waitCounterFor(key)) {}

WaitCounterHandle::WaitGuard WaitCounterHandle::startTimed() {
  // start() saw someone listening. Only wait__batch, once the flusher has
  // calibrated the TSC: nothing to look up, one stamp (src/WaitBatch.h), in
  // a function of its own so it pays none of startListened()'s prologue.
  auto& impl = static_cast<detail::WaitCounterImpl&>(hot_);
  if (PROBEMON_PROBE_ENABLED(wait__batch) && impl.backendCount() == 0 &&
      !PROBEMON_PROBE_ENABLED(wait__start) && !PROBEMON_PROBE_ENABLED(wait__done) &&
      detail::approx_ns_per_tick.load(std::memory_order_relaxed) != 0) [[likely]] {
    WaitGuard guard;
    guard.batched_ = true;
    guard.start_ns_ = getApproximateTime();
    guard.impl_ = &impl;
    return guard;
  }
  return startListened();
}

WaitCounterHandle::WaitGuard WaitCounterHandle::startListened() {
  // Find out who listens.
  auto& impl = static_cast<detail::WaitCounterImpl&>(hot_);
  // impl_ stays null until the wait has fully started, so that if a
  // backend's context storage cannot be allocated the guard is inert.
  WaitGuard guard;
  guard.batched_ = false;
  const bool backends = impl.backendCount() != 0;
  detail::ThreadWaitState* thread = detail::ThreadWaitState::current();
  if (thread != nullptr) [[likely]] {
    guard.wait_id_ = thread->nextWaitId();
    guard.backends_ = backends ? thread->acquireBackends(impl) : nullptr;
  } else {  // this thread's state is already destroyed (thread exit)
    guard.wait_id_ = detail::ThreadWaitState::nextSharedWaitId();
    guard.backends_ = backends ? detail::ThreadWaitState::acquireUncached(impl) : nullptr;
  }
  guard.more_contexts_ = nullptr;
  if (detail::BackendSetRef* set = guard.backends_; set != nullptr && set->recorder() != nullptr &&
                                                    !PROBEMON_PROBE_ENABLED(wait__start) &&
                                                    !PROBEMON_PROBE_ENABLED(wait__done)) {
    // Only a recording listens: it needs no CLOCK_MONOTONIC time now, so
    // stamp with the TSC (see src/recording/WaitRecorder.h).
    guard.recorded_ = true;
    guard.start_ns_ = getApproximateTime();
    guard.contexts_[0] = set->recorder()->startApprox(guard.start_ns_);
    guard.impl_ = &impl;
    return guard;
  }
  const auto now = monotonicNow();
  guard.recorded_ = false;
  guard.start_ns_ = toNanos(now);
  if (detail::BackendSetRef* set = guard.backends_) {
    if (set->size() > 1) [[unlikely]] {
      try {
        guard.startOtherBackends(now);
      } catch (...) {
        detail::ThreadWaitState::releaseBackends(*set);
        throw;
      }
    }
    // The first backend outside any loop: most keys have one.
    guard.contexts_[0] = set->backend(0).start(now);
  }
  guard.impl_ = &impl;
  if (guard.backends_ != nullptr &&
      (PROBEMON_PROBE_ENABLED(wait__start) || PROBEMON_PROBE_ENABLED(wait__done) ||
       PROBEMON_PROBE_ENABLED(wait__batch))) {
    // Tracers time the wait, not the instrumentation: a backend whose
    // start() is slow must not lengthen the duration they see (stopTimed()
    // reads its clock before the backends stop, for the same reason).
    guard.start_ns_ = toNanos(monotonicNow());
  }
  if (PROBEMON_PROBE_ENABLED(wait__start)) {
    const detail::Key& key = impl.key();
    PROBEMON_PROBE(wait__start, key.name.c_str(), key.id, guard.wait_id_,
                   static_cast<std::uint64_t>(guard.start_ns_));
  }
  return guard;
}

void WaitCounterHandle::WaitGuard::stopTimed() noexcept {
  if (batched_) {
    stopBatched();
    return;
  }
  if (recorded_) {
    stopRecorded();
    return;
  }
  const auto now = monotonicNow();
  const detail::WaitCounterImpl* impl = std::exchange(impl_, nullptr);
  if (detail::BackendSetRef* set = backends_) {
    set->backend(0).stop(now, contexts_[0]);
    if (set->size() > 1) [[unlikely]] {
      stopOtherBackends(now);
    }
    detail::ThreadWaitState::releaseBackends(*set);
  }
  if (PROBEMON_PROBE_ENABLED(wait__done)) {
    const detail::Key& key = impl->key();
    PROBEMON_PROBE(wait__done, key.name.c_str(), key.id, wait_id_,
                   static_cast<std::uint64_t>(start_ns_),
                   static_cast<std::uint64_t>(toNanos(now) - start_ns_));
  }
  if (PROBEMON_PROBE_ENABLED(wait__batch)) {
    detail::WaitBatch::record(impl->key(), static_cast<std::uint64_t>(toNanos(now) - start_ns_));
  }
}

void WaitCounterHandle::WaitGuard::stopBatched() noexcept {
  const approx_time_t end = getApproximateTime();
  const detail::WaitCounterImpl* impl = std::exchange(impl_, nullptr);
  const auto duration = static_cast<std::uint64_t>(approxDurationToNs(end - start_ns_));
  if (PROBEMON_PROBE_ENABLED(wait__batch)) [[likely]] {
    detail::WaitBatch::record(impl->key(), duration);
  }
  if (PROBEMON_PROBE_ENABLED(wait__done)) [[unlikely]] {
    fireDoneAfterBatched(impl->key(), duration);
  }
}

void WaitCounterHandle::WaitGuard::stopRecorded() noexcept {
  const approx_time_t end = getApproximateTime();
  const detail::WaitCounterImpl* impl = std::exchange(impl_, nullptr);
  detail::WaitRecorder::stopApprox(end, contexts_[0]);
  detail::ThreadWaitState::releaseBackends(*backends_);
  if (PROBEMON_PROBE_ENABLED(wait__done)) {
    // A tracer attached during the wait: the probe ABI's times are
    // CLOCK_MONOTONIC ns, so the start is now minus the measured duration.
    const time_t duration = approxDurationToNs(end - start_ns_);
    const detail::Key& key = impl->key();
    PROBEMON_PROBE(wait__done, key.name.c_str(), key.id, wait_id_,
                   static_cast<std::uint64_t>(getTime() - duration),
                   static_cast<std::uint64_t>(duration));
  }
  if (PROBEMON_PROBE_ENABLED(wait__batch)) {
    detail::WaitBatch::record(impl->key(),
                              static_cast<std::uint64_t>(approxDurationToNs(end - start_ns_)));
  }
}

void WaitCounterHandle::WaitGuard::startOtherBackends(std::chrono::steady_clock::time_point now) {
  const std::size_t size = backends_->size();
  // Allocated before any backend hears of the wait: if it throws, none has.
  if (size > kInlineContexts) {
    more_contexts_ = new std::intptr_t[size - kInlineContexts];
  }
  for (std::size_t i = 1; i < size; ++i) {
    const std::intptr_t ctx = backends_->backend(i).start(now);
    (i < kInlineContexts ? contexts_[i] : more_contexts_[i - kInlineContexts]) = ctx;
  }
}

void WaitCounterHandle::WaitGuard::stopOtherBackends(
    std::chrono::steady_clock::time_point now) noexcept {
  for (std::size_t i = 1; i < backends_->size(); ++i) {
    backends_->backend(i).stop(
        now, i < kInlineContexts ? contexts_[i] : more_contexts_[i - kInlineContexts]);
  }
  delete[] more_contexts_;
}

WaitCounterHandle::WaitGuard::WaitGuard(WaitGuard&& other) noexcept
    : impl_(std::exchange(other.impl_, nullptr)) {
  // The rest is valid only for a timed wait; an untimed one copies nothing.
  if (impl_ != nullptr) {
    wait_id_ = other.wait_id_;
    start_ns_ = other.start_ns_;
    recorded_ = other.recorded_;
    batched_ = other.batched_;
    backends_ = other.backends_;
    contexts_ = other.contexts_;
    more_contexts_ = other.more_contexts_;
  }
}

}  // namespace probemon
