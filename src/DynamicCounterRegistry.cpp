// SPDX-License-Identifier: BSD-3-Clause
#include "DynamicCounterRegistry.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "Fork.h"
#include "KeyTable.h"
#include "LockedCallback.h"

namespace probemon::detail {
namespace {

constexpr const char* kBackendMethod =
    "a DynamicCounterBackendIf's registerCounter() or unregisterCounter()";

// Unregisters where an exception cannot be reported: while rolling back
// after another one (which is the one to report) or in a destructor, where
// the other backends still need to hear of the unregistration.
void unregisterQuietly(DynamicCounterBackendIf& backend, std::string_view key) noexcept {
  try {
    backend.unregisterCounter(key);
  } catch (...) {  // NOLINT(bugprone-empty-catch): see above
  }
}

}  // namespace

DynamicCounterRegistry& DynamicCounterRegistry::instance() {
  // Leaked on purpose: see the header.
  static auto* registry = new DynamicCounterRegistry;
  return *registry;
}

DynamicCounterRegistry::DynamicCounterRegistry() : sampler_([this] { return live(); }) {
  watchForks();
}

DynamicCounterRegistry::Lock::Lock(DynamicCounterRegistry& registry)
    : registry_(registry),
      nested_(registry.holder_.load(std::memory_order_relaxed) == std::this_thread::get_id()) {
  if (nested_) return;
  registry_.mu_.lock();
  registry_.holder_.store(std::this_thread::get_id(), std::memory_order_relaxed);
}

DynamicCounterRegistry::Lock::~Lock() {
  if (nested_) return;
  std::unique_ptr<ProbeSampler::Thread> stopped;  // joined once the lock is released
  ProbeSampler& sampler = registry_.sampler_;
  if (registry_.live_.empty()) {
    stopped = sampler.stop();
  } else if (!sampler.running()) {
    sampler.start();
  }
  registry_.holder_.store(std::thread::id(), std::memory_order_relaxed);
  registry_.mu_.unlock();
}

void DynamicCounterRegistry::refuseNested(const Lock& lock, const char* call) {
  if (!lock.nested()) return;
  throw std::logic_error(std::string("probemon: ") + call +
                         " is not allowed inside a DynamicCounterBackendIf's registerCounter() "
                         "or unregisterCounter(): call it before or after");
}

DynamicCounter::Callback DynamicCounterRegistry::forBackends(
    std::shared_ptr<CallbackState> callback) {
  return [callback = std::move(callback)] { return callback->invoke().value_or(0); };
}

void DynamicCounterRegistry::add(const Key& key, const std::shared_ptr<CallbackState>& callback) {
  const Lock lock(*this);
  // Live from here: a counter a backend builds with this key is a duplicate.
  if (!live_.emplace(&key, callback).second) {
    throw std::invalid_argument("probemon::DynamicCounter: a counter with key '" + key.name +
                                "' is already registered");
  }
  const DynamicCounter::Callback wrapped = forBackends(callback);
  std::size_t told = 0;
  try {
    const LockedCallback user_code(kBackendMethod);
    for (; told < backends_.size(); ++told) {
      backends_[told]->registerCounter(key.name, wrapped);
    }
  } catch (...) {
    const LockedCallback user_code(kBackendMethod);
    for (std::size_t i = 0; i < told; ++i) {
      unregisterQuietly(*backends_[i], key.name);
    }
    live_.erase(&key);
    throw;
  }
}

void DynamicCounterRegistry::remove(const Key& key) {
  const Lock lock(*this);
  live_.erase(&key);
  const LockedCallback user_code(kBackendMethod);
  for (auto& backend : backends_) {
    unregisterQuietly(*backend, key.name);
  }
}

void DynamicCounterRegistry::addBackend(std::unique_ptr<DynamicCounterBackendIf> backend) {
  std::unique_ptr<DynamicCounterBackendIf> rejected;  // destroyed once the lock is released
  const Lock lock(*this);
  refuseNested(lock, "registerDynamicCounterBackend()");
  // Listed first, so that add() tells it of counters built while it is told
  // of these.
  DynamicCounterBackendIf& added = *backends_.emplace_back(std::move(backend));
  const std::vector<LiveCounter> before = liveLocked();
  std::vector<const Key*> told;
  const LockedCallback user_code(kBackendMethod);
  try {
    for (const LiveCounter& counter : before) {
      // Skip one the backend destroyed meanwhile (remove() told it).
      const auto it = live_.find(counter.key);
      if (it == live_.end() || it->second != counter.callback) continue;
      added.registerCounter(counter.key->name, forBackends(counter.callback));
      told.push_back(counter.key);
    }
  } catch (...) {
    // Unregistered from those it was told of here or by add().
    std::vector<const Key*> keys;
    for (const auto& entry : live_) {
      const Key* key = entry.first;
      const bool was_live = std::any_of(before.begin(), before.end(),
                                        [&](const LiveCounter& c) { return c.key == key; });
      if (!was_live || std::find(told.begin(), told.end(), key) != told.end()) keys.push_back(key);
    }
    for (const Key* key : keys) unregisterQuietly(added, key->name);
    const auto it = std::find_if(backends_.begin(), backends_.end(),
                                 [&](const auto& b) { return b.get() == &added; });
    rejected = std::move(*it);
    backends_.erase(it);
    throw;
  }
}

bool DynamicCounterRegistry::removeBackend(const DynamicCounterBackendIf* backend) {
  std::unique_ptr<DynamicCounterBackendIf> removed;  // destroyed once the lock is released
  const Lock lock(*this);
  refuseNested(lock, "unregisterDynamicCounterBackend()");
  auto it = std::find_if(backends_.begin(), backends_.end(),
                         [&](const auto& b) { return b.get() == backend; });
  if (it == backends_.end()) {
    return false;
  }
  removed = std::move(*it);
  backends_.erase(it);
  // A copy: the backend may build or destroy counters as it is told.
  const LockedCallback user_code(kBackendMethod);
  for (const LiveCounter& counter : liveLocked()) {
    unregisterQuietly(*removed, counter.key->name);
  }
  return true;
}

std::vector<LiveCounter> DynamicCounterRegistry::live() {
  const Lock lock(*this);
  return liveLocked();
}

std::vector<LiveCounter> DynamicCounterRegistry::liveLocked() const {
  std::vector<LiveCounter> counters;
  counters.reserve(live_.size());
  for (const auto& [key, callback] : live_) counters.push_back({key, callback});
  return counters;
}

void DynamicCounterRegistry::lockForFork() {
  // A backend called under the lock that forks already holds it.
  locked_for_fork_ = holder_.load(std::memory_order_relaxed) != std::this_thread::get_id();
  if (locked_for_fork_) mu_.lock();
  sampler_.awaitStarted();
}

void DynamicCounterRegistry::unlockAfterFork(bool in_child) {
  if (in_child) {
    for (const auto& entry : live_) entry.second->forgetOtherThreads();
    sampler_.restartInChild();
  }
  if (locked_for_fork_) mu_.unlock();
}

}  // namespace probemon::detail
