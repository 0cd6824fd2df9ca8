// SPDX-License-Identifier: BSD-3-Clause
// The registry of live DynamicCounters and of their backends, with the probe
// sampler as its built-in backend.
//
// One mutex orders counter registrations, unregistrations and backend
// (un)registrations, so every backend sees each counter registered and
// unregistered exactly once, in that order. Backends are called under it;
// the users' callbacks never are: the sampler reads a copy of the live list
// (live()), so a callback may build or destroy counters, and a slow one holds
// up nothing but its own counter's destructor.
//
// The mutex is re-entrant for the thread that holds it, so a backend may
// build and destroy counters from registerCounter() and unregisterCounter()
// (every backend, itself included, is told of them at once, nested in the
// call it is in). A counter is live from the start of its registration, so
// a nested counter with its key is refused as a duplicate. A backend may not
// (un)register backends there: the list it is being called from would
// change under the caller (std::logic_error). The sampler thread runs while
// a counter is live; it is started or stopped when the outermost holder lets
// go of the mutex.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include <probemon/DynamicCounter.h>

#include "CallbackState.h"
#include "ProbeSampler.h"

namespace probemon::detail {

class DynamicCounterRegistry {
 public:
  // The process's registry; never destroyed, so static DynamicCounters may
  // die after any other static.
  static DynamicCounterRegistry& instance();

  // Registers a counter with every backend. Throws std::invalid_argument if
  // the key has a live counter, or what a backend threw, after telling the
  // backends already told to unregister it.
  void add(const Key& key, const std::shared_ptr<CallbackState>& callback);
  // Unregisters it from every backend (the caller then closes its callback).
  void remove(const Key& key);

  // See detail::registerDynamicCounterBackend and unregister... in
  // <probemon/DynamicCounter.h>.
  void addBackend(std::unique_ptr<DynamicCounterBackendIf> backend);
  bool removeBackend(const DynamicCounterBackendIf* backend);

  // The live counters, copied under the lock.
  std::vector<LiveCounter> live();

  // fork(): taken before, released after in both processes; the child also
  // drops the parent's other threads from the in-flight counts and restarts
  // the sampler. A fork from a backend called under the lock is let through.
  void lockForFork();
  void unlockAfterFork(bool in_child);

 private:
  DynamicCounterRegistry();

  // The lock, re-entrant for its holder, whom it remembers (also for
  // lockForFork()). The outermost one, when it lets go, starts or stops the
  // sampler to match the live counters.
  class Lock {
   public:
    explicit Lock(DynamicCounterRegistry& registry);
    ~Lock();
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;

    // Whether the thread already held the lock: called from a backend.
    bool nested() const { return nested_; }

   private:
    DynamicCounterRegistry& registry_;
    const bool nested_;
  };

  // Throws std::logic_error if `lock` is nested: `call` would change the
  // backends while one of them is being called.
  static void refuseNested(const Lock& lock, const char* call);

  // live(), under the lock.
  std::vector<LiveCounter> liveLocked() const;

  // The wrapper backends are given: reads through the counter's
  // CallbackState, 0 once the counter is destroyed.
  static DynamicCounter::Callback forBackends(std::shared_ptr<CallbackState> callback);

  std::mutex mu_;
  std::atomic<std::thread::id> holder_{};
  bool locked_for_fork_ = false;
  std::unordered_map<const Key*, std::shared_ptr<CallbackState>> live_;
  std::vector<std::unique_ptr<DynamicCounterBackendIf>> backends_;
  ProbeSampler sampler_;
};

}  // namespace probemon::detail
