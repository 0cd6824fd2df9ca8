#include "ThreadWaitState.h"

#include <atomic>
#include <memory>

namespace probemon::detail {
namespace {

// Ids are handed out in blocks: one shared atomic add per 1024 waits.
constexpr std::uint64_t kIdBlock = 1024;
std::atomic<std::uint64_t> g_next_id_block{1};

}  // namespace

ThreadWaitState* ThreadWaitState::create() {
  // Frees this thread's state, and so its references, when the thread exits.
  thread_local std::unique_ptr<ThreadWaitState> owner = std::make_unique<ThreadWaitState>();
  return owner.get();
}

ThreadWaitState::~ThreadWaitState() {
  for (Slot& slot : slots_) {
    if (slot.ref != nullptr) slot.ref->release();
    slot = Slot{};
  }
}

void ThreadWaitState::refillIds() {
  next_id_ = g_next_id_block.fetch_add(kIdBlock, std::memory_order_relaxed);
  end_id_ = next_id_ + kIdBlock;
}

BackendSetRef* ThreadWaitState::acquireBackends(const WaitCounterImpl& impl) {
  dropStale();
  Slot& slot =
      slots_[(reinterpret_cast<std::uintptr_t>(&impl) / alignof(WaitCounterImpl)) % kSlots];
  // Acquire pairs with the version bump after a new set is published, so a
  // matching version means the cached set is still the key's current one.
  if (slot.impl != &impl || slot.version != impl.backendsVersion()) {
    refill(slot, impl);
  }
  if (slot.ref != nullptr) slot.ref->acquire();
  return slot.ref;
}

void ThreadWaitState::sweep() {
  // Read first: a replacement after this read bumps it again, so it is not
  // missed by the next check.
  seen_generation_ = backendsGeneration().load(std::memory_order_acquire);
  for (Slot& slot : slots_) {
    if (slot.ref != nullptr && slot.version != slot.impl->backendsVersion()) {
      slot.ref->release();
      slot.ref = nullptr;
    }
  }
}

void ThreadWaitState::refill(Slot& slot, const WaitCounterImpl& impl) {
  auto snapshot = impl.backends();
  if (slot.ref != nullptr) slot.ref->release();
  slot.impl = &impl;
  slot.version = snapshot.version;
  slot.ref = snapshot.set && !snapshot.set->active.empty()
                 ? new BackendSetRef(std::move(snapshot.set))
                 : nullptr;
}

}  // namespace probemon::detail
