// SPDX-License-Identifier: BSD-3-Clause
// The per-thread state of the timed path, so a timed wait writes only to
// cache lines its own thread owns and runs no locked instruction:
//  - wait ids come from a per-thread block, not one shared counter;
//  - each thread caches a reference (BackendSetRef) to the backend set of
//    each key it uses, and a wait pins its set with a plain store to that
//    reference's per-thread count rather than an atomic add to a per-key
//    count that every thread would bounce between caches.
// When keys get new sets, dropStaleBackendRefs() revokes the outdated
// references of every thread; BackendSetRef.h explains how.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <vector>

#include "BackendSetRef.h"
#include "WaitCounterImpl.h"

namespace probemon::detail {

// The revoker: marks every thread's outdated reference stale and drops the
// sets no wait pins. Called by the registry after keys got new sets, and by a
// wait that released a stale reference's pin on another thread.
void dropStaleBackendRefs();

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
  BackendSetRef* acquireBackends(const WaitCounterImpl& impl) {
    // Direct-mapped by key address; a slot naming the key always has a ref.
    Slot& slot =
        slots_[(reinterpret_cast<std::uintptr_t>(&impl) / alignof(WaitCounterImpl)) % kSlots];
    if (slot.impl == &impl && slot.ref->pin()) [[likely]]
      return slot.ref;
    return refill(slot, impl);
  }

  // The same for a thread whose state is gone: nothing cached, nothing
  // reused, one reference per wait.
  static BackendSetRef* acquireUncached(const WaitCounterImpl& impl);
  static std::uint64_t nextSharedWaitId();

  // Releases a wait's pin, on whichever thread the wait stops.
  static void releaseBackends(BackendSetRef& set) {
    if (set.unpin(current_)) [[unlikely]]
      dropStaleBackendRefs();
  }

  // fork(): every thread's lock, taken before and released after (Fork.h).
  // The child forgets the states of the threads it does not have: their
  // references are retired (a wait they left open keeps its set).
  static void lockAllForFork();
  static void unlockAllAfterFork(bool in_child);

 private:
  friend void dropStaleBackendRefs();
  using Retired = std::vector<BackendSetRef::SetPtr>;

  struct Slot {
    const WaitCounterImpl* impl = nullptr;
    BackendSetRef* ref = nullptr;
  };
  static constexpr std::size_t kSlots = 16;

  static ThreadWaitState* create();
  // A reference to the key's current set for `owner`'s slot (or, owner null,
  // for one wait), pinned once; null if the key has no backends.
  static BackendSetRef* newRef(const WaitCounterImpl& impl, const ThreadWaitState* owner);
  void refillIds();
  BackendSetRef* refill(Slot& slot, const WaitCounterImpl& impl);
  // Lets go of every slot's reference, under mu_; the sets to destroy once
  // the caller's locks are gone are added to `unused`.
  void retireAll(Retired& unused);

  // initial-exec: one %fs-relative load instead of a __tls_get_addr call.
  // Only these two trivially destructible words live in static TLS (dlopen()
  // users spend 9 bytes of its surplus), and both stay readable until the
  // thread is gone; the state itself is owned by a thread_local in create().
  [[gnu::tls_model("initial-exec")]] static constinit thread_local ThreadWaitState* current_;
  [[gnu::tls_model("initial-exec")]] static constinit thread_local bool destroyed_;

  // Held by this thread to change its slots and by dropStaleBackendRefs() to
  // read them; the thread reads its own slots without it.
  std::mutex mu_;
  std::array<Slot, kSlots> slots_{};
  std::uint64_t next_id_ = 0;
  std::uint64_t end_id_ = 0;
};

}  // namespace probemon::detail
