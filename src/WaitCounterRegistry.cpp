// SPDX-License-Identifier: BSD-3-Clause
// Wait counter keys and backend factories: creating a key's state,
// attaching backends when either a key or a factory appears, detaching
// unregistered factories.
//
// Locking: one global mutex guards the list of keys with state and the
// factory list and is held only to read or change them, never while a
// factory runs. Factories run under the per-key attach mutex in
// WaitCounterImpl::syncBackends(). Because adding a factory and adding a key
// both happen under the global mutex, every (key, factory) pair is synced at
// least once after both exist: by the key's creator if the factory came
// first, by the registrar otherwise. Keys are found through the key table
// (KeyTable.h), which holds each key's state. Registering and unregistering
// take every key's attach mutex, so they are refused inside a factory's
// create() or a DynamicCounter backend (LockedCallback.h).
#include <algorithm>
#include <memory>
#include <mutex>
#include <new>
#include <shared_mutex>
#include <string_view>
#include <utility>
#include <vector>

#include "Fork.h"
#include "KeyTable.h"
#include "LockedCallback.h"
#include "ThreadWaitState.h"
#include "WaitCounterImpl.h"
#include "probemon_abi.h"
#include "probes.h"

namespace probemon::detail {
namespace {

struct Registry {
  Registry() { watchForks(); }

  std::shared_mutex mu;
  std::vector<WaitCounterImpl*> keys;  // every key with state, in creation order
  std::vector<std::shared_ptr<WaitCounterBackendFactoryIf>> factories;
};

Registry& registry() {
  // Leaked on purpose: per-key state must outlive static destructors that
  // still hold handles or guards.
  static auto* r = new Registry;
  return *r;
}

std::vector<WaitCounterImpl*> allKeys() {
  Registry& r = registry();
  std::shared_lock lock(r.mu);
  return r.keys;
}

void syncAllKeys() {
  for (WaitCounterImpl* impl : allKeys()) {
    impl->syncBackends();
  }
  // Threads may still cache the sets just replaced.
  dropStaleBackendRefs();
}

}  // namespace

WaitCounterImpl& waitCounterFor(std::string_view name) {
  Key& key = internKey(name);
  if (WaitCounterImpl* impl = key.wait_counter.load(std::memory_order_acquire)) {
    impl->awaitReady();
    return *impl;
  }
  auto fresh = std::make_unique<WaitCounterImpl>(key);
  auto creation_lock = fresh->lockForCreation();
  {
    Registry& r = registry();
    std::unique_lock lock(r.mu);
    if (WaitCounterImpl* impl = key.wait_counter.load(std::memory_order_relaxed)) {
      // Another thread created it first; use theirs.
      lock.unlock();
      creation_lock.unlock();
      impl->awaitReady();
      return *impl;
    }
    key.wait_counter.store(fresh.get(), std::memory_order_release);
    r.keys.push_back(fresh.get());
  }
  WaitCounterImpl* impl = fresh.release();  // immortal from here on
  impl->markReady(creation_lock);
  if (PROBEMON_PROBE_ENABLED(counter__register)) {
    PROBEMON_PROBE(counter__register, key.name.c_str(), key.id, PROBEMON_KIND_WAIT_COUNTER);
  }
  return *impl;
}

void registerWaitCounterBackend(std::unique_ptr<WaitCounterBackendFactoryIf> factory) {
  LockedCallback::refuse("registerWaitCounterBackend()");
  if (!factory) {
    return;
  }
  {
    Registry& r = registry();
    std::unique_lock lock(r.mu);
    r.factories.emplace_back(std::move(factory));
  }
  syncAllKeys();
}

bool unregisterWaitCounterBackend(const WaitCounterBackendFactoryIf* factory) {
  LockedCallback::refuse("unregisterWaitCounterBackend()");
  {
    Registry& r = registry();
    std::unique_lock lock(r.mu);
    auto it = std::find_if(r.factories.begin(), r.factories.end(),
                           [&](const auto& f) { return f.get() == factory; });
    if (it == r.factories.end()) {
      return false;
    }
    r.factories.erase(it);
  }
  syncAllKeys();
  return true;
}

std::vector<std::shared_ptr<WaitCounterBackendFactoryIf>> getRegisteredWaitCounterBackends() {
  Registry& r = registry();
  std::shared_lock lock(r.mu);
  return r.factories;
}

void lockWaitCountersForFork() {
  Registry& r = registry();
  r.mu.lock();
  for (WaitCounterImpl* impl : r.keys) impl->lockForFork();
}

void unlockWaitCountersAfterFork(bool in_child) {
  Registry& r = registry();
  for (WaitCounterImpl* impl : r.keys) impl->unlockAfterFork();
  // As the key table's (KeyTable.cpp): glibc's rwlock cannot be unlocked by
  // a thread whose id changed.
  if (in_child) {
    new (&r.mu) std::shared_mutex;
  } else {
    r.mu.unlock();
  }
}

}  // namespace probemon::detail
