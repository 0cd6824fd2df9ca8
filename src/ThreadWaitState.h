// The per-thread state of the timed path, so a timed wait writes only to
// cache lines its own thread owns:
//  - wait ids come from a per-thread block, not one shared counter;
//  - each thread caches a counted reference (BackendSetRef) to the backend
//    set of each key it uses, and a wait pins its set by counting on that
//    reference rather than on a per-key count that every thread would bounce
//    between caches.
//
// Revocation: when keys get new sets (a backend registered or unregistered),
// the registry calls dropStaleBackendRefs(), which marks every thread's
// outdated reference stale: one no wait pins lets go of its set at once, one
// with open waits when the last of them stops. So an unregistered backend is
// destroyed as soon as no wait uses it, however idle the threads that used
// it are.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "WaitCounterImpl.h"

namespace probemon::detail {

// One thread's reference to one backend set of one key, held by the
// thread's cache slot and pinned by each wait started with it.
//
// All of its life is one atomic word, so each transition is decided by the
// return value of one atomic operation: no two parties can both think they
// drop the set or free the reference, and none does so under another.
class BackendSetRef {
 public:
  // Held by a cache slot (cached) or, for a thread without a cache, by the
  // one wait it is made for.
  BackendSetRef(std::shared_ptr<const WaitBackendSet> set, const WaitCounterImpl& impl,
                std::uint64_t version, bool cached)
      : set_(std::move(set)), impl_(impl), version_(version), state_(cached ? kCached : 1) {}
  BackendSetRef(const BackendSetRef&) = delete;
  BackendSetRef& operator=(const BackendSetRef&) = delete;

  // Valid while the caller holds a pin.
  const WaitBackendSet& set() const { return *set_; }

  // Pins the set for one wait. False, without a pin, once it was marked
  // stale: the caller must fetch the key's current set.
  bool pin() {
    if (state_.fetch_add(1, std::memory_order_acq_rel) & kStale) {
      unpin();
      return false;
    }
    return true;
  }

  void unpin() {
    std::uint64_t old = state_.load(std::memory_order_relaxed);
    // The last wait on a stale set drops it while still pinned, so the
    // reference cannot be freed under it.
    while ((old & (kWaits | kStale | kDropped)) == (1 | kStale)) {
      if (state_.compare_exchange_weak(old, old | kDropped, std::memory_order_acq_rel)) {
        set_.reset();
        break;
      }
    }
    old = state_.fetch_sub(1, std::memory_order_acq_rel);
    if ((old & (kWaits | kCached)) == 1) delete this;  // last wait, no slot
  }

  // The owning thread's slot lets go (under the thread's mutex).
  void uncache() {
    if ((state_.fetch_and(~kCached, std::memory_order_acq_rel) & kWaits) == 0) delete this;
  }

  // Whether the key has moved on to a newer set.
  bool outdated() const { return impl_.backendsVersion() != version_; }

  // Marks an outdated reference stale, dropping its set at once if no wait
  // pins it. Called under the owning thread's mutex, so the slot's hold
  // keeps the reference alive meanwhile.
  void markStale() {
    std::uint64_t old = state_.fetch_or(kStale, std::memory_order_acq_rel) | kStale;
    while ((old & (kWaits | kDropped)) == 0) {
      if (state_.compare_exchange_weak(old, old | kDropped, std::memory_order_acq_rel)) {
        set_.reset();
        return;
      }
    }
  }

 private:
  static constexpr std::uint64_t kCached = std::uint64_t{1} << 63;   // a cache slot holds it
  static constexpr std::uint64_t kStale = std::uint64_t{1} << 62;    // the key has a newer set
  static constexpr std::uint64_t kDropped = std::uint64_t{1} << 61;  // set_ was let go
  static constexpr std::uint64_t kWaits = kDropped - 1;              // waits pinning it

  ~BackendSetRef() = default;

  std::shared_ptr<const WaitBackendSet> set_;
  const WaitCounterImpl& impl_;
  const std::uint64_t version_;
  std::atomic<std::uint64_t> state_;
};

class ThreadWaitState {
 public:
  // This thread's state, or null once it has been destroyed at thread exit:
  // a thread_local destroyed after it, or a static destructor of the main
  // thread, may still time a wait (see acquireUncached()).
  static ThreadWaitState* current() {
    if (__builtin_expect(current_ == nullptr, 0)) return create();
    return current_;
  }

  ThreadWaitState();
  ThreadWaitState(const ThreadWaitState&) = delete;
  ThreadWaitState& operator=(const ThreadWaitState&) = delete;
  ~ThreadWaitState();

  // A non-zero id, unique in the process.
  std::uint64_t nextWaitId() {
    if (next_id_ == end_id_) refillIds();
    return next_id_++;
  }

  // A pinned reference to the key's backend set (unpin() it when the wait
  // stops), or null if the key has no backends.
  BackendSetRef* acquireBackends(const WaitCounterImpl& impl);

  // The same for a thread whose state is gone: nothing cached, nothing
  // reused, one reference per wait.
  static BackendSetRef* acquireUncached(const WaitCounterImpl& impl);
  static std::uint64_t nextSharedWaitId();

 private:
  friend void dropStaleBackendRefs();

  struct Slot {
    const WaitCounterImpl* impl = nullptr;
    BackendSetRef* ref = nullptr;
  };
  static constexpr std::size_t kSlots = 16;  // direct-mapped by key address

  static ThreadWaitState* create();
  static BackendSetRef* newRef(const WaitCounterImpl& impl, bool cached);
  void refillIds();
  BackendSetRef* refill(Slot& slot, const WaitCounterImpl& impl);

  // initial-exec: one %fs-relative load instead of a __tls_get_addr call.
  // Only these two trivially destructible words live in static TLS (dlopen()
  // users spend 9 bytes of its surplus), and both stay readable until the
  // thread is gone; the state itself is owned by a thread_local in create().
  [[gnu::tls_model("initial-exec")]] static thread_local ThreadWaitState* current_;
  [[gnu::tls_model("initial-exec")]] static thread_local bool destroyed_;

  // Held by this thread to change its slots and by dropStaleBackendRefs() to
  // read them; the thread reads its own slots without it.
  std::mutex mu_;
  std::array<Slot, kSlots> slots_{};
  std::uint64_t next_id_ = 0;
  std::uint64_t end_id_ = 0;
};

// Marks every thread's outdated reference stale (see above). Called by the
// registry after keys got new sets.
void dropStaleBackendRefs();

}  // namespace probemon::detail
