// SPDX-License-Identifier: BSD-3-Clause
#include "ThreadWaitState.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "Fork.h"

namespace probemon::detail {
namespace {

// Ids are handed out in blocks: one shared atomic add per 1024 waits.
constexpr std::uint64_t kIdBlock = 1024;
std::atomic<std::uint64_t> g_next_id_block{1};

// Every live thread's state, for dropStaleBackendRefs().
struct Threads {
  Threads() { watchForks(); }

  std::mutex mu;
  std::vector<ThreadWaitState*> all;
};

Threads& threads() {
  // Leaked on purpose: threads may exit after static destructors ran.
  static auto* t = new Threads;
  return *t;
}

}  // namespace

constinit thread_local ThreadWaitState* ThreadWaitState::current_ = nullptr;
constinit thread_local bool ThreadWaitState::destroyed_ = false;

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
  Retired unused;  // destroyed after the lock
  std::lock_guard lock(mu_);
  retireAll(unused);
}

void ThreadWaitState::retireAll(Retired& unused) {
  for (Slot& slot : slots_) {
    if (slot.ref != nullptr) unused.push_back(slot.ref->retire());
    slot = {};
  }
}

void ThreadWaitState::refillIds() {
  next_id_ = g_next_id_block.fetch_add(kIdBlock, std::memory_order_relaxed);
  end_id_ = next_id_ + kIdBlock;
}

BackendSetRef* ThreadWaitState::newRef(const WaitCounterImpl& impl, const ThreadWaitState* owner) {
  auto snapshot = impl.backends();
  if (!snapshot.set || snapshot.set->active.empty()) return nullptr;
  return new BackendSetRef(std::move(snapshot), impl, owner);  // born with the wait's pin
}

BackendSetRef* ThreadWaitState::acquireUncached(const WaitCounterImpl& impl) {
  return newRef(impl, nullptr);
}

std::uint64_t ThreadWaitState::nextSharedWaitId() {
  return g_next_id_block.fetch_add(1, std::memory_order_relaxed);
}

BackendSetRef* ThreadWaitState::refill(Slot& slot, const WaitCounterImpl& impl) {
  BackendSetRef* fresh = newRef(impl, this);
  if (fresh == nullptr) return nullptr;
  BackendSetRef::SetPtr unused;  // destroyed after the lock
  std::lock_guard lock(mu_);
  if (slot.ref != nullptr) unused = slot.ref->retire();
  slot = {&impl, fresh};
  // A registration whose scan ran between the snapshot and now did not see
  // `fresh`: mark it here, so the next wait fetches the newer set.
  if (fresh->outdated()) fresh->markStale();
  return fresh;
}

void dropStaleBackendRefs() {
  std::vector<BackendSetRef::SetPtr> unused;  // destroyed after the locks
  Threads& t = threads();
  std::lock_guard lock(t.mu);
  // Every thread's slots stay put until the drops are done: a reference is
  // freed only by its owner's retire(), under the owner's mutex.
  std::vector<std::unique_lock<std::mutex>> held;
  std::vector<BackendSetRef*> stale;
  held.reserve(t.all.size());
  for (ThreadWaitState* state : t.all) {
    held.emplace_back(state->mu_);
    for (const auto& slot : state->slots_) {
      if (slot.ref != nullptr && slot.ref->outdated()) {
        slot.ref->markStale();
        stale.push_back(slot.ref);
      }
    }
  }
  // One barrier for all: from here on every owner sees its marks, and every
  // pin it took before is visible here.
  if (stale.empty() || !heavyBarrier()) return;
  for (BackendSetRef* ref : stale) {
    if (auto set = ref->dropIfUnused()) unused.push_back(std::move(set));
  }
}

void ThreadWaitState::lockAllForFork() {
  Threads& t = threads();
  t.mu.lock();
  for (ThreadWaitState* state : t.all) state->mu_.lock();
}

void ThreadWaitState::unlockAllAfterFork(bool in_child) {
  Threads& t = threads();
  Retired unused;  // destroyed after the locks
  if (in_child) {
    // The other threads' states stay allocated (their owners, thread_locals
    // of threads that do not exist here, never run) but are no longer seen.
    std::erase_if(t.all, [&unused](ThreadWaitState* state) {
      if (state == current_) return false;
      state->retireAll(unused);
      state->mu_.unlock();
      return true;
    });
  }
  for (ThreadWaitState* state : t.all) state->mu_.unlock();
  t.mu.unlock();
}

}  // namespace probemon::detail
