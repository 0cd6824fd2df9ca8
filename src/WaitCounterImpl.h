// SPDX-License-Identifier: BSD-3-Clause
// The per-key state of a wait counter, shared by every handle and guard of
// the key and never freed, plus the immutable set of backends attached to it.
// The registry (WaitCounterRegistry.cpp) creates it and attaches factories;
// its methods are in WaitCounterImpl.cpp.
//
// Backends change rarely (registration) and are read on every timed wait, so
// the set is copy-on-write: a writer builds a new WaitBackendSet and publishes
// it; a timed wait pins the set it started with, so its stop() reaches the
// same backend instances with their contexts even if the set was replaced.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include <probemon/WaitCounter.h>

#include "KeyTable.h"

namespace probemon::detail {

class WaitBackendSet {
 public:
  struct Entry {
    // Owning, so a factory's address is never reused while a set names it.
    std::shared_ptr<WaitCounterBackendFactoryIf> factory;
    std::shared_ptr<WaitCounterBackendIf> backend;  // shared with later sets
  };
  // The backends every wait on the key reports to.
  std::vector<Entry> active;
  // Factories whose create() returned nullptr for this key: not asked again.
  std::vector<std::shared_ptr<WaitCounterBackendFactoryIf>> declined;
};

class WaitCounterImpl : public WaitCounterHotState {
 public:
  explicit WaitCounterImpl(const Key& key) : key_(key) {}

  const Key& key() const { return key_; }

  // The hot-path test: zero means no backend, so start() need not read the
  // clock. Relaxed: a wait racing with a registration may miss the new
  // backend, and the set itself is read under backends_mu_.
  std::uint32_t backendCount() const { return backend_count.load(std::memory_order_relaxed); }

  // The current set and its version, which changes with every new set.
  struct Snapshot {
    std::shared_ptr<const WaitBackendSet> set;
    std::uint64_t version;
  };
  Snapshot backends() const {
    std::lock_guard lock(backends_mu_);
    return {backends_, version_.load(std::memory_order_relaxed)};
  }
  std::uint64_t backendsVersion() const { return version_.load(std::memory_order_acquire); }

  // Brings the attached backends in line with the registered factories:
  // creates instances for new factories, keeps existing ones, drops those of
  // unregistered factories. Serialized per key by attach_mu_, never under the
  // registry's global lock.
  void syncBackends();

  // Key creation: the creator holds attach_mu_ from before the key becomes
  // visible until its first sync is done; other threads that find the key
  // meanwhile wait in awaitReady(), so no handle sees a key before its
  // backends are attached. Except inside user code the library runs under a
  // lock (a factory's create(), a DynamicCounter backend): there a handle
  // may see the key before its backends are attached, rather than wait for
  // ever for its own creator or for one that waits for it (LockedCallback.h).
  std::unique_lock<std::mutex> lockForCreation() { return std::unique_lock(attach_mu_); }
  void markReady(std::unique_lock<std::mutex>& creation_lock);
  // Inline: every handle of an existing key passes here.
  void awaitReady() {
    if (!ready_.load(std::memory_order_acquire)) [[unlikely]]
      awaitCreator();
  }

  // fork(): the set's lock, taken before and released after (Fork.h).
  void lockForFork() { backends_mu_.lock(); }
  void unlockAfterFork() { backends_mu_.unlock(); }

 private:
  void syncBackendsLocked();
  void awaitCreator();

  const Key& key_;
  // Held only to copy or replace the pointer. (libstdc++ 12's
  // atomic<shared_ptr> is a lock too, and one TSan cannot see through.)
  mutable std::mutex backends_mu_;
  std::shared_ptr<const WaitBackendSet> backends_;
  // Written under backends_mu_; read without it by ThreadWaitState.
  std::atomic<std::uint64_t> version_{0};
  std::mutex attach_mu_;
  std::atomic<bool> ready_{false};
};

// The state of `key`, created (with backends attached) on first use.
WaitCounterImpl& waitCounterFor(std::string_view key);

// fork(): the registry's lock and every key's set lock, taken before and
// released after (Fork.h).
void lockWaitCountersForFork();
void unlockWaitCountersAfterFork(bool in_child);

}  // namespace probemon::detail
