// SPDX-License-Identifier: BSD-3-Clause
#include "DynamicCounterRegistry.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "Fork.h"
#include "KeyTable.h"

namespace probemon::detail {
namespace {

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

DynamicCounterRegistry::Lock::Lock(const DynamicCounterRegistry& registry) : registry_(registry) {
  registry_.mu_.lock();
  registry_.holder_.store(std::this_thread::get_id(), std::memory_order_relaxed);
}

DynamicCounterRegistry::Lock::~Lock() {
  registry_.holder_.store(std::thread::id(), std::memory_order_relaxed);
  registry_.mu_.unlock();
}

DynamicCounter::Callback DynamicCounterRegistry::forBackends(
    std::shared_ptr<CallbackState> callback) {
  return [callback = std::move(callback)] { return callback->invoke().value_or(0); };
}

void DynamicCounterRegistry::add(const Key& key, const std::shared_ptr<CallbackState>& callback) {
  const Lock lock(*this);
  if (live_.contains(&key)) {
    throw std::invalid_argument("probemon::DynamicCounter: a counter with key '" + key.name +
                                "' is already registered");
  }
  const DynamicCounter::Callback wrapped = forBackends(callback);
  std::size_t told = 0;
  try {
    for (; told < backends_.size(); ++told) {
      backends_[told]->registerCounter(key.name, wrapped);
    }
  } catch (...) {
    for (std::size_t i = 0; i < told; ++i) {
      unregisterQuietly(*backends_[i], key.name);
    }
    throw;
  }
  live_.emplace(&key, callback);
  if (live_.size() == 1) sampler_.start();
}

void DynamicCounterRegistry::remove(const Key& key) {
  std::unique_ptr<ProbeSampler::Thread> stopped;  // joined once the lock is released
  const Lock lock(*this);
  live_.erase(&key);
  for (auto& backend : backends_) {
    unregisterQuietly(*backend, key.name);
  }
  if (live_.empty()) stopped = sampler_.stop();
}

void DynamicCounterRegistry::addBackend(std::unique_ptr<DynamicCounterBackendIf> backend) {
  const Lock lock(*this);
  std::vector<const Key*> told;
  try {
    for (const auto& [key, callback] : live_) {
      backend->registerCounter(key->name, forBackends(callback));
      told.push_back(key);
    }
  } catch (...) {
    for (const Key* key : told) {
      unregisterQuietly(*backend, key->name);
    }
    throw;
  }
  backends_.push_back(std::move(backend));
}

bool DynamicCounterRegistry::removeBackend(const DynamicCounterBackendIf* backend) {
  std::unique_ptr<DynamicCounterBackendIf> removed;  // destroyed once the lock is released
  const Lock lock(*this);
  auto it = std::find_if(backends_.begin(), backends_.end(),
                         [&](const auto& b) { return b.get() == backend; });
  if (it == backends_.end()) {
    return false;
  }
  removed = std::move(*it);
  backends_.erase(it);
  for (const auto& entry : live_) {
    unregisterQuietly(*removed, entry.first->name);
  }
  return true;
}

std::vector<LiveCounter> DynamicCounterRegistry::live() const {
  std::vector<LiveCounter> counters;
  const Lock lock(*this);
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
