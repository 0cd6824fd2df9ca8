// SPDX-License-Identifier: BSD-3-Clause
// BackendSetRef: one thread's counted reference to one backend set of one
// key, held by the thread's cache slot (ThreadWaitState) and pinned by every
// timed wait that starts with it, so the wait's stop() reaches the backend
// instances that saw its start even after the key moved on to a newer set.
// This is where the revocation protocol lives; ThreadWaitState only holds
// the references and runs the revoker (dropStaleBackendRefs()).
//
// Pins from the owning thread, which is nearly all of them, are plain stores
// to a counter that only that thread writes: the timed path runs no locked
// instruction and shares no cache line with other threads. The set is
// revoked with the asymmetric barrier of AsymmetricBarrier.h:
//
//   owner (pin/unpin):  store local_pins_; lightBarrier(); load state_ (stale?)
//   revoker:            set kStale in state_; heavyBarrier(); load local_pins_
//
// so an owner that misses kStale has its pin seen by the revoker, which then
// leaves the set alone, and an owner that sees kStale backs out and fetches
// the key's current set.
//
// Everything else goes through the one atomic word state_: flag bits, and a
// count of pins moved out of local_pins_: pins released on another thread
// (a guard stopped where it was not started) count negative, and when the
// slot lets go (retire()) the owner's remaining pins move there. So the pins
// in use are local_pins_ + that count while the reference is cached, and
// that count alone after: the atomic operation that brings it to zero on a
// retired reference is the one that frees it.
//
// When keys get new sets (a backend registered or unregistered), the revoker
// marks every thread's outdated reference stale and, after one membarrier(),
// drops the sets no wait pins. Otherwise a set is dropped (the backends
// destroyed, if no newer set shares them) as soon as its reference is stale
// and unused, by whoever sees it so: the owner at its unpin, or the last wait
// on a retired reference. So an unregistered backend is destroyed as soon as
// no wait uses it, however idle the threads that used it are. Without
// membarrier() the revoker cannot tell, and an idle thread's set waits for
// that thread's next wait on the key or its exit.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "AsymmetricBarrier.h"
#include "WaitCounterImpl.h"

namespace probemon::detail {

class WaitRecorder;
WaitRecorder* asWaitRecorder(WaitCounterBackendIf* backend) noexcept;

class BackendSetRef {
 public:
  using SetPtr = std::shared_ptr<const WaitBackendSet>;
  // Who holds the reference in a cache slot: the owning thread's state, used
  // only to tell the owner's unpins from others'.
  using Owner = const void*;

  // A reference for `owner`'s cache slot, pinned once for the wait it is
  // made for; or, with owner null, a reference held only by that one wait
  // (for a thread whose state is gone).
  BackendSetRef(WaitCounterImpl::Snapshot snapshot, const WaitCounterImpl& impl, Owner owner)
      : set_(std::move(snapshot.set)),
        size_(set_->active.size()),
        first_(firstBackends(*set_)),
        recorder_(size_ == 1 ? asWaitRecorder(first_[0]) : nullptr),
        impl_(impl),
        version_(snapshot.version),
        owner_(owner),
        retired_(owner == nullptr),
        local_pins_(owner != nullptr ? 1 : 0),
        state_(owner != nullptr ? kCached : kOnePin) {}
  BackendSetRef(const BackendSetRef&) = delete;
  BackendSetRef& operator=(const BackendSetRef&) = delete;

  // The backends of the set, valid while the caller holds a pin. The first
  // few are kept here, so a timed wait reaches them in one load rather than
  // three (set_, its vector, the shared_ptr): the chain of dependent loads
  // between the two clock reads is what a timed wait pays for, since the
  // clock read waits for everything before it to complete.
  std::size_t size() const { return size_; }
  WaitCounterBackendIf& backend(std::size_t i) const {
    return i < kFirstBackends ? *first_[i] : *set_->active[i].backend;
  }

  // The set's only backend if that is a recording's WaitRecorder, else
  // null: the timed path then stamps with the TSC.
  WaitRecorder* recorder() const { return recorder_; }

  // Pins the set for a wait on the owner thread. False, without a pin, once
  // the reference is stale: the caller must fetch the key's current set.
  bool pin() {
    local_pins_.store(local_pins_.load(std::memory_order_relaxed) + 1, kFastStoreOrder);
    lightBarrier();
    if (state_.load(kFastLoadOrder) & kStale) [[unlikely]] {
      unpinLocal();
      return false;
    }
    return true;
  }

  // Releases a wait's pin; `self` is the calling thread's state (or null).
  // True when only a revoker's barrier can tell whether that was the last
  // pin of a stale reference: the caller must run dropStaleBackendRefs().
  [[nodiscard]] bool unpin(Owner self) {
    if (self == owner_ && !retired_.load(std::memory_order_relaxed)) [[likely]] {
      unpinLocal();
      return false;
    }
    return unpinShared();
  }

  // Whether the key has moved on to a newer set.
  bool outdated() const { return impl_.backendsVersion() != version_; }

  // The revoker's side, under the owner's mutex. Marks the reference stale;
  // after a heavyBarrier(), dropIfUnused() lets go of the set if no wait
  // pins it, returning it to be destroyed once the caller's locks are gone.
  void markStale() { state_.fetch_or(kStale); }
  [[nodiscard]] SetPtr dropIfUnused();

  // The owner's slot lets go, under the owner's mutex. Frees the reference
  // if no wait pins it and returns its set, to be destroyed once the
  // caller's locks are gone; later unpins go through state_ alone.
  [[nodiscard]] SetPtr retire();

 private:
  // Flags in the low bits; the count of moved pins above them, so it may
  // wrap (it counts down from zero when a guard stops on another thread)
  // without touching the flags.
  static constexpr std::uint64_t kCached = 1;   // a cache slot holds it
  static constexpr std::uint64_t kStale = 2;    // the key has a newer set
  static constexpr std::uint64_t kDropped = 4;  // set_ was let go
  static constexpr std::uint64_t kFlags = 7;
  static constexpr std::uint64_t kOnePin = 8;

  static constexpr std::size_t kFirstBackends = 2;

  ~BackendSetRef() = default;

  static std::array<WaitCounterBackendIf*, kFirstBackends> firstBackends(
      const WaitBackendSet& set) {
    std::array<WaitCounterBackendIf*, kFirstBackends> first{};
    for (std::size_t i = 0; i < first.size() && i < set.active.size(); ++i) {
      first[i] = set.active[i].backend.get();
    }
    return first;
  }

  // The owner's unpin, while the reference is cached.
  void unpinLocal() {
    local_pins_.store(local_pins_.load(std::memory_order_relaxed) - 1, kFastStoreOrder);
    lightBarrier();
    if (state_.load(kFastLoadOrder) & kStale) [[unlikely]] {
      const SetPtr unused = dropIfUnused();  // destroyed here: the owner holds no lock
    }
  }
  bool unpinShared();

  SetPtr set_;
  const std::size_t size_;
  const std::array<WaitCounterBackendIf*, kFirstBackends> first_;
  WaitRecorder* const recorder_;
  const WaitCounterImpl& impl_;
  const std::uint64_t version_;
  const Owner owner_;
  // Written by the owner only; true from birth for a reference without one.
  std::atomic<bool> retired_;
  // Pins taken minus pins released on the owner thread while cached. Written
  // by the owner only, read by revokers.
  std::atomic<std::uint64_t> local_pins_;
  std::atomic<std::uint64_t> state_;
};

}  // namespace probemon::detail
