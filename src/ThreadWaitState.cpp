#include "ThreadWaitState.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

namespace probemon::detail {
namespace {

// Ids are handed out in blocks: one shared atomic add per 1024 waits.
constexpr std::uint64_t kIdBlock = 1024;
std::atomic<std::uint64_t> g_next_id_block{1};

// Every live thread's state, for dropStaleBackendRefs().
struct Threads {
  std::mutex mu;
  std::vector<ThreadWaitState*> all;
};

Threads& threads() {
  // Leaked on purpose: threads may exit after static destructors ran.
  static auto* t = new Threads;
  return *t;
}

}  // namespace

thread_local ThreadWaitState* ThreadWaitState::current_ = nullptr;
thread_local bool ThreadWaitState::destroyed_ = false;

ThreadWaitState* ThreadWaitState::create() {
  if (destroyed_) return nullptr;
  // Frees this thread's state, and so its references, when the thread exits.
  thread_local std::unique_ptr<ThreadWaitState> owner = std::make_unique<ThreadWaitState>();
  current_ = owner.get();
  return current_;
}

ThreadWaitState::ThreadWaitState() {
  Threads& t = threads();
  std::lock_guard lock(t.mu);
  t.all.push_back(this);
}

ThreadWaitState::~ThreadWaitState() {
  current_ = nullptr;
  destroyed_ = true;
  {
    Threads& t = threads();
    std::lock_guard lock(t.mu);
    std::erase(t.all, this);
  }
  std::lock_guard lock(mu_);
  for (Slot& slot : slots_) {
    if (slot.ref != nullptr) slot.ref->uncache();
  }
}

void ThreadWaitState::refillIds() {
  next_id_ = g_next_id_block.fetch_add(kIdBlock, std::memory_order_relaxed);
  end_id_ = next_id_ + kIdBlock;
}

BackendSetRef* ThreadWaitState::acquireBackends(const WaitCounterImpl& impl) {
  Slot& slot =
      slots_[(reinterpret_cast<std::uintptr_t>(&impl) / alignof(WaitCounterImpl)) % kSlots];
  if (slot.impl == &impl && slot.ref != nullptr && slot.ref->pin()) return slot.ref;
  return refill(slot, impl);
}

BackendSetRef* ThreadWaitState::newRef(const WaitCounterImpl& impl, bool cached) {
  auto snapshot = impl.backends();
  if (!snapshot.set || snapshot.set->active.empty()) return nullptr;
  return new BackendSetRef(std::move(snapshot.set), impl, snapshot.version, cached);
}

BackendSetRef* ThreadWaitState::acquireUncached(const WaitCounterImpl& impl) {
  return newRef(impl, /*cached=*/false);  // born with the wait's pin
}

std::uint64_t ThreadWaitState::nextSharedWaitId() {
  return g_next_id_block.fetch_add(1, std::memory_order_relaxed);
}

BackendSetRef* ThreadWaitState::refill(Slot& slot, const WaitCounterImpl& impl) {
  BackendSetRef* fresh = newRef(impl, /*cached=*/true);
  if (fresh == nullptr) return nullptr;
  fresh->pin();  // not stale yet: only this thread knows it
  std::lock_guard lock(mu_);
  if (slot.ref != nullptr) slot.ref->uncache();
  slot = {&impl, fresh};
  return fresh;
}

void dropStaleBackendRefs() {
  Threads& t = threads();
  std::lock_guard lock(t.mu);
  for (ThreadWaitState* state : t.all) {
    std::lock_guard slots_lock(state->mu_);
    for (const auto& slot : state->slots_) {
      if (slot.ref != nullptr && slot.ref->outdated()) slot.ref->markStale();
    }
  }
}

}  // namespace probemon::detail
