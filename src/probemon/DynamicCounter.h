// SPDX-License-Identifier: BSD-3-Clause
// probemon/DynamicCounter.h: pull-style gauges, read on demand by backends.
//
// A DynamicCounter publishes a value (a queue depth, bytes in flight, ...)
// under a key by a callback that backends call whenever they want a sample.
// Construction fires the `probemon:counter__register` USDT probe (kind 1),
// destruction `probemon:counter__unregister`; while a tracer is attached to
// `probemon:dynamic__value`, a sampler thread reads every live counter once per
// interval (PROBEMON_SAMPLE_MS in the environment, default 1000) and fires
// that probe with the value.
//
// Usage:
//
//   probemon::DynamicCounter depth("myapp.queue.depth",
//                                  [&] { return queue.size(); });
//
// The callback must be thread-safe, must not block and must not throw. If it
// throws anyway, the exception propagates to the backend that called it (the
// built-in probe sampler drops that sample and goes on); the in-flight
// bookkeeping stays correct, so the destructor still returns.
//
// The API matches PyTorch's c10::monitor::DynamicCounter, in namespace
// `probemon`.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include <probemon/detail/Export.h>

namespace probemon {

class PROBEMON_API DynamicCounter {
 public:
  using Callback = std::function<std::int64_t()>;

  // Registers the counter with every backend. Only one counter per key may be
  // live: a duplicate throws std::invalid_argument naming the key and changes
  // nothing. If a backend throws, the backends already told are told to
  // unregister, the key stays free and the exception propagates.
  DynamicCounter(std::string_view key, Callback getCounterCallback);

  // Unregisters the counter from every backend, then waits for every callback
  // invocation still in flight to return, whatever the backends did.
  ~DynamicCounter();

  DynamicCounter(const DynamicCounter&) = delete;
  DynamicCounter& operator=(const DynamicCounter&) = delete;
  DynamicCounter(DynamicCounter&&) = delete;
  DynamicCounter& operator=(DynamicCounter&&) = delete;

 private:
  struct Guard;
  std::unique_ptr<Guard> guard_;
};

namespace detail {

// Called under the registry's lock, which orders registrations. Its methods
// may build and destroy DynamicCounters (every backend, this one included, is
// told of them at once, nested in the call) and make wait counter handles,
// but not (un)register backends of either kind: that throws
// std::logic_error.
class PROBEMON_API DynamicCounterBackendIf {
 public:
  virtual ~DynamicCounterBackendIf() = default;

  virtual void registerCounter(std::string_view key,
                               DynamicCounter::Callback getCounterCallback) = 0;
  // Should wait for the ongoing invocations it made; ~DynamicCounter waits for
  // all of them anyway.
  virtual void unregisterCounter(std::string_view key) = 0;
};

// Registers a backend and tells it about every live counter. If it throws,
// the counters it was told about are unregistered from it, it is not kept
// and the exception propagates.
PROBEMON_API void registerDynamicCounterBackend(std::unique_ptr<DynamicCounterBackendIf> backend);

// Unregisters every live counter from the backend, then destroys it. Returns
// false if it is not registered.
PROBEMON_API bool unregisterDynamicCounterBackend(const DynamicCounterBackendIf* backend);

}  // namespace detail
}  // namespace probemon
