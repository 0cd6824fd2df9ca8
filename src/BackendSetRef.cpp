// SPDX-License-Identifier: BSD-3-Clause
#include "BackendSetRef.h"

namespace probemon::detail {

BackendSetRef::SetPtr BackendSetRef::dropIfUnused() {
  // The owner's pins first: an owner pin that this load misses came after the
  // caller's barrier, saw kStale and backs out without touching the set.
  const std::uint64_t local = local_pins_.load(kFastLoadOrder);
  const std::uint64_t state = state_.load(std::memory_order_acquire);
  if ((state & kDropped) != 0 || (state & ~kFlags) + local * kOnePin != 0) return nullptr;
  // The owner and a revoker may both find it unused; one of them drops it.
  if ((state_.fetch_or(kDropped, std::memory_order_acq_rel) & kDropped) != 0) return nullptr;
  return std::move(set_);
}

bool BackendSetRef::unpinShared() {
  const std::uint64_t state = state_.fetch_sub(kOnePin, std::memory_order_acq_rel) - kOnePin;
  if ((state & kCached) == 0) {
    // Retired: the count is every pin, and this was the last one.
    if ((state & ~kFlags) == 0) delete this;
    return false;
  }
  // Cached, so the owner may free it from here on. If it is stale this may
  // have been its last pin, which only a revoker's barrier can tell.
  // Rare: a wait stopped off its thread across a backend (un)registration.
  return (state & kStale) != 0;
}

BackendSetRef::SetPtr BackendSetRef::retire() {
  retired_.store(true, std::memory_order_relaxed);
  const std::uint64_t moved = local_pins_.load(std::memory_order_relaxed) * kOnePin;
  const std::uint64_t state =
      state_.fetch_add(moved - kCached, std::memory_order_acq_rel) + moved - kCached;
  if ((state & ~kFlags) != 0) return nullptr;  // the last unpin frees it
  SetPtr set = std::move(set_);
  delete this;
  return set;
}

}  // namespace probemon::detail
