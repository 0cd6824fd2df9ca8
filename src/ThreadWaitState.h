// The per-thread state of the timed path, so a timed wait writes only to
// cache lines its own thread owns:
//  - wait ids come from a per-thread block, not one shared counter;
//  - each thread keeps a counted reference (BackendSetRef) to the backend
//    set of the keys it uses, revalidated by the key's version, so a wait
//    pins its set by counting on the thread's reference rather than on a
//    per-key count that every thread would bounce between caches.
//
// The cost of caching: a thread's reference keeps a replaced set (and so an
// unregistered backend) alive until the thread notices. It notices at its
// next timed start or stop on any key with backends, and at exit.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>

#include "WaitCounterImpl.h"

namespace probemon::detail {

// One thread's reference to one backend set, shared by the waits that thread
// starts on the key. Counted, because a wait may stop on another thread or
// after its thread has exited: whoever drops the last count frees it.
class BackendSetRef {
 public:
  explicit BackendSetRef(std::shared_ptr<const WaitBackendSet> set) : set_(std::move(set)) {}

  const WaitBackendSet& set() const { return *set_; }
  void acquire() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() {
    // acq_rel: the last releaser must see every other user's accesses.
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

 private:
  ~BackendSetRef() = default;

  const std::shared_ptr<const WaitBackendSet> set_;
  std::atomic<std::uint32_t> refs_{1};  // the owning cache slot's count
};

class ThreadWaitState {
 public:
  static ThreadWaitState& current() {
    // initial-exec: one %fs-relative load instead of a __tls_get_addr call.
    // Only a pointer lives in static TLS, so dlopen() users spend 8 bytes of
    // its surplus; the state itself is owned by a thread_local that frees it
    // at thread exit.
    [[gnu::tls_model("initial-exec")]] static thread_local ThreadWaitState* state = nullptr;
    if (__builtin_expect(state == nullptr, 0)) state = create();
    return *state;
  }

  ThreadWaitState() = default;
  ThreadWaitState(const ThreadWaitState&) = delete;
  ThreadWaitState& operator=(const ThreadWaitState&) = delete;
  ~ThreadWaitState();

  // A non-zero id, unique in the process.
  std::uint64_t nextWaitId() {
    if (next_id_ == end_id_) refillIds();
    return next_id_++;
  }

  // A counted reference to the key's current backend set (release() it when
  // the wait stops), or null if the key has no backends.
  BackendSetRef* acquireBackends(const WaitCounterImpl& impl);

  // Drops cached references to sets replaced since this thread last looked.
  void dropStale() {
    if (seen_generation_ != backendsGeneration().load(std::memory_order_acquire)) sweep();
  }

 private:
  struct Slot {
    const WaitCounterImpl* impl = nullptr;
    std::uint64_t version = 0;
    BackendSetRef* ref = nullptr;
  };
  static constexpr std::size_t kSlots = 16;  // direct-mapped by key address

  static ThreadWaitState* create();
  void refillIds();
  void refill(Slot& slot, const WaitCounterImpl& impl);
  void sweep();

  std::array<Slot, kSlots> slots_{};
  std::uint64_t next_id_ = 0;
  std::uint64_t end_id_ = 0;
  std::uint64_t seen_generation_ = 0;
};

}  // namespace probemon::detail
