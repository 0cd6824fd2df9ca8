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
// CLOCK_MONOTONIC (steady_clock on Linux) once at start and once at stop.
// Its id and its pin on the backend set come from ThreadWaitState, so timed
// waits on one key from many threads do not bounce a cache line either.
#include <chrono>
#include <cstdint>
#include <utility>

#include <time.h>

#include <probemon/WaitCounter.h>

#include "ThreadWaitState.h"
#include "WaitCounterImpl.h"
#include "probes.h"

namespace probemon {
namespace {

std::int64_t toNanos(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

// steady_clock::now() is clock_gettime(CLOCK_MONOTONIC) behind two calls
// into libstdc++; reading it here saves them on every timed wait. The clock
// is the one the probe ABI promises and bpf_ktime_get_ns() reads.
std::chrono::steady_clock::time_point monotonicNow() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::chrono::steady_clock::time_point(std::chrono::seconds(ts.tv_sec) +
                                               std::chrono::nanoseconds(ts.tv_nsec));
}

}  // namespace

WaitCounterHandle::WaitCounterHandle(std::string_view key) : hot_(detail::waitCounterFor(key)) {}

WaitCounterHandle::WaitGuard WaitCounterHandle::startTimed() {
  // start() saw someone listening; find out who.
  auto& impl = static_cast<detail::WaitCounterImpl&>(hot_);
  return impl.startTimed(impl.backendCount() != 0, PROBEMON_PROBE_ENABLED(wait__start));
}

namespace detail {

WaitCounterHandle::WaitGuard WaitCounterImpl::startTimed(bool backends, bool start_probe) {
  using Guard = WaitCounterHandle::WaitGuard;
  Guard guard;
  ThreadWaitState* thread = ThreadWaitState::current();
  const auto now = monotonicNow();
  guard.impl_ = this;
  if (thread != nullptr) [[likely]] {
    guard.wait_id_ = thread->nextWaitId();
    guard.backends_ = backends ? thread->acquireBackends(*this) : nullptr;
  } else {  // this thread's state is already destroyed (thread exit)
    guard.wait_id_ = ThreadWaitState::nextSharedWaitId();
    guard.backends_ = backends ? ThreadWaitState::acquireUncached(*this) : nullptr;
  }
  guard.start_ns_ = toNanos(now);
  guard.more_contexts_ = nullptr;
  if (guard.backends_ != nullptr) {
    const auto& active = guard.backends_->set().active;
    if (active.size() > Guard::kInlineContexts) {
      guard.more_contexts_ = new std::intptr_t[active.size() - Guard::kInlineContexts];
    }
    for (std::size_t i = 0; i < active.size(); ++i) {
      const std::intptr_t ctx = active[i].backend->start(now);
      if (i < Guard::kInlineContexts) {
        guard.contexts_[i] = ctx;
      } else {
        guard.more_contexts_[i - Guard::kInlineContexts] = ctx;
      }
    }
  }
  if (start_probe) {
    PROBEMON_PROBE(wait__start, key_.name.c_str(), key_.id, guard.wait_id_,
                   static_cast<std::uint64_t>(guard.start_ns_));
  }
  return guard;
}

}  // namespace detail

void WaitCounterHandle::WaitGuard::stopTimed() noexcept {
  const auto now = monotonicNow();
  const detail::Key& key = std::exchange(impl_, nullptr)->key();
  if (backends_ != nullptr) {
    const auto& active = backends_->set().active;
    for (std::size_t i = 0; i < active.size(); ++i) {
      const std::intptr_t ctx =
          i < kInlineContexts ? contexts_[i] : more_contexts_[i - kInlineContexts];
      active[i].backend->stop(now, ctx);
    }
    backends_->unpin();
    delete[] more_contexts_;
  }
  if (PROBEMON_PROBE_ENABLED(wait__done)) {
    PROBEMON_PROBE(wait__done, key.name.c_str(), key.id, wait_id_,
                   static_cast<std::uint64_t>(start_ns_),
                   static_cast<std::uint64_t>(toNanos(now) - start_ns_));
  }
}

WaitCounterHandle::WaitGuard::WaitGuard(WaitGuard&& other) noexcept
    : impl_(std::exchange(other.impl_, nullptr)) {
  // The rest is valid only for a timed wait; an untimed one copies nothing.
  if (impl_ != nullptr) {
    wait_id_ = other.wait_id_;
    start_ns_ = other.start_ns_;
    backends_ = other.backends_;
    contexts_ = other.contexts_;
    more_contexts_ = other.more_contexts_;
  }
}

}  // namespace probemon
