// Wait counter keys and backend factories: creating keys, attaching backends
// when either a key or a factory appears, detaching unregistered factories.
//
// Locking: one global mutex guards the key map and the factory list and is
// held only to read or change them, never while a factory runs. Factories run
// under the per-key attach mutex in WaitCounterImpl::syncBackends(). Because
// adding a factory and adding a key both happen under the global mutex, every
// (key, factory) pair is synced at least once after both exist: by the key's
// creator if the factory came first, by the registrar otherwise.
#include <algorithm>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "KeyTable.h"
#include "ThreadWaitState.h"
#include "WaitCounterImpl.h"
#include "probes.h"

namespace probemon::detail {
namespace {

constexpr int kKindWaitCounter = 0;

struct Registry {
  std::shared_mutex mu;
  // Keyed by views of the immortal Key names.
  std::unordered_map<std::string_view, WaitCounterImpl*> keys;
  std::vector<WaitCounterImpl*> key_list;
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
  return r.key_list;
}

void syncAllKeys() {
  for (WaitCounterImpl* impl : allKeys()) {
    impl->syncBackends();
  }
  // Threads may still cache the sets just replaced.
  dropStaleBackendRefs();
}

}  // namespace

void WaitCounterImpl::syncBackends() {
  std::lock_guard lock(attach_mu_);
  syncBackendsLocked();
}

void WaitCounterImpl::syncBackendsLocked() {
  const auto factories = getRegisteredWaitCounterBackends();
  const auto current = backends().set;
  auto next = std::make_shared<WaitBackendSet>();
  for (const auto& factory : factories) {
    if (current) {
      const auto& active = current->active;
      auto it = std::find_if(active.begin(), active.end(),
                             [&](const auto& e) { return e.factory == factory; });
      if (it != active.end()) {
        next->active.push_back(*it);
        continue;
      }
      if (std::find(current->declined.begin(), current->declined.end(), factory) !=
          current->declined.end()) {
        next->declined.push_back(factory);
        continue;
      }
    }
    if (auto backend = factory->create(key_.name)) {
      next->active.push_back({factory, std::move(backend)});
    } else {
      next->declined.push_back(factory);
    }
  }
  const auto count = static_cast<std::uint32_t>(next->active.size());
  std::shared_ptr<const WaitBackendSet> replaced;  // freed outside the lock
  {
    std::lock_guard lock(backends_mu_);
    replaced = std::exchange(backends_, std::move(next));
    version_.fetch_add(1, std::memory_order_release);
  }
  backend_count.store(count, std::memory_order_relaxed);
}

void WaitCounterImpl::markReady(std::unique_lock<std::mutex>& creation_lock) {
  syncBackendsLocked();
  ready_.store(true, std::memory_order_release);
  creation_lock.unlock();
}

void WaitCounterImpl::awaitReady() {
  if (!ready_.load(std::memory_order_acquire)) {
    // The creator holds attach_mu_ until the key is ready.
    std::lock_guard lock(attach_mu_);
  }
}

WaitCounterImpl& waitCounterFor(std::string_view name) {
  Registry& r = registry();
  {
    std::shared_lock lock(r.mu);
    if (auto it = r.keys.find(name); it != r.keys.end()) {
      WaitCounterImpl* impl = it->second;
      lock.unlock();
      impl->awaitReady();
      return *impl;
    }
  }
  const Key& key = internKey(name);
  auto fresh = std::make_unique<WaitCounterImpl>(key);
  auto creation_lock = fresh->lockForCreation();
  {
    std::unique_lock lock(r.mu);
    auto [it, inserted] = r.keys.try_emplace(key.name, fresh.get());
    if (!inserted) {
      // Another thread created it first; use theirs.
      WaitCounterImpl* impl = it->second;
      lock.unlock();
      creation_lock.unlock();
      impl->awaitReady();
      return *impl;
    }
    r.key_list.push_back(fresh.get());
  }
  WaitCounterImpl* impl = fresh.release();  // immortal from here on
  impl->markReady(creation_lock);
  if (PROBEMON_PROBE_ENABLED(counter__register)) {
    PROBEMON_PROBE(counter__register, key.name.c_str(), key.id, kKindWaitCounter);
  }
  return *impl;
}

void registerWaitCounterBackend(std::unique_ptr<WaitCounterBackendFactoryIf> factory) {
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

}  // namespace probemon::detail
