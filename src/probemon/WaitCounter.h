// SPDX-License-Identifier: BSD-3-Clause
// probemon/WaitCounter.h: wait counters that time how long code waits, per key.
//
// A wait counter is named by a key such as "myapp.wait_counter.flush". Each
// `start()` opens a wait and returns a move-only RAII guard; the wait ends when
// the guard is destroyed or `stop()` is called. Every wait is reported to the
// registered backends (pluggable sinks, see `detail::` below) and fires the
// `probemon:wait__start` / `probemon:wait__done` USDT probes, so bpftrace,
// perf or the `probemon` tool can build latency histograms in the kernel.
//
// With no backend registered and no tracer attached, `start()` + `stop()` read
// no clock, take no lock, allocate nothing and write no shared memory.
//
// Usage:
//
//   void Flush() {
//     PROBEMON_STATIC_SCOPED_WAIT_COUNTER(myapp.wait_counter.flush);
//     ...  // timed until the end of the scope
//   }
//
//   auto bytes = PROBEMON_WITH_WAIT_COUNTER(myapp.wait_counter.read, Read(fd));
//
//   probemon::WaitCounterHandle handle("myapp.wait_counter.lock");
//   auto guard = handle.start();
//   ...
//   guard.stop();  // idempotent; the destructor stops it otherwise
//
// The API matches PyTorch's c10::monitor::WaitCounterHandle, in namespace
// `probemon`, so both can live in one process.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include <probemon/detail/Export.h>

namespace probemon {
namespace detail {
class WaitCounterImpl;
class BackendSetRef;

// The part of a key's state that start() tests inline. Not for users.
struct WaitCounterHotState {
  // Backends attached to the key.
  std::atomic<std::uint32_t> backend_count{0};
};

// The semaphores of the wait__start, wait__done and wait__batch probes, in
// this order and adjacent (the build checks it), which the kernel raises
// while a tracer is attached to them. Not for users.
PROBEMON_API extern const std::uint16_t* const wait_semaphores;

// Non-zero while any of the three is raised.
inline std::uint64_t waitProbesAttached() {
#if defined(__x86_64__)
  // One 8-byte load for the three; the shift drops the fourth half-word
  // (another probe's semaphore). x86 loads it whole at any alignment. In
  // asm, since to C++ it reads past a 2-byte object: GCC's LTO sees through
  // the pointer and warns (-Wstringop-overflow), which a user's -Werror
  // build must not meet. Volatile, so it is never hoisted out of a loop: a
  // tracer may attach at any time.
  std::uint64_t words;
  asm volatile("movq (%1), %0" : "=r"(words) : "r"(wait_semaphores));
  return words << 16;
#else
  return unsigned{__atomic_load_n(&wait_semaphores[0], __ATOMIC_RELAXED)} |
         unsigned{__atomic_load_n(&wait_semaphores[1], __ATOMIC_RELAXED)} |
         unsigned{__atomic_load_n(&wait_semaphores[2], __ATOMIC_RELAXED)};
#endif
}
}  // namespace detail

// A handle to the wait counter of one key. Cheap to construct for an existing
// key; all handles of a key share the per-key state, which lives for the whole
// process, so handles may be temporaries.
class PROBEMON_API WaitCounterHandle {
 public:
  explicit WaitCounterHandle(std::string_view key);

  // One wait. Move-only; stops the wait when destroyed. A moved-from guard is
  // inert.
  class WaitGuard {
   public:
    WaitGuard(WaitGuard&& other) noexcept;
    WaitGuard(const WaitGuard&) = delete;
    WaitGuard& operator=(const WaitGuard&) = delete;
    WaitGuard& operator=(WaitGuard&&) = delete;
    ~WaitGuard() { stop(); }

    // Ends the wait. Idempotent: later calls do nothing.
    void stop() noexcept {
      // An untimed wait (nothing was listening at start()) has impl_ null, so
      // the common detached case is this one predictable branch.
      if (impl_ != nullptr) {
        stopTimed();
      }
    }

   private:
    friend class WaitCounterHandle;

    // Contexts of the first backends are kept inline; more spill to the heap.
    static constexpr std::size_t kInlineContexts = 2;

    // Only impl_ is initialized: an untimed guard costs one store.
    WaitGuard() noexcept : impl_(nullptr) {}  // NOLINT(cppcoreguidelines-pro-type-member-init)
    void stopTimed() noexcept;
    void stopRecorded() noexcept;
    void stopBatched() noexcept;
    void startOtherBackends(std::chrono::steady_clock::time_point now);
    void stopOtherBackends(std::chrono::steady_clock::time_point now) noexcept;

    // Non-null only for a timed wait; every other member is valid only then.
    detail::WaitCounterImpl* impl_;
    std::uint64_t wait_id_;
    // CLOCK_MONOTONIC ns; approximate ticks if recorded_ or batched_.
    std::int64_t start_ns_;
    // Timed for a recording alone, with approximate stamps (see
    // src/recording/WaitRecorder.h).
    bool recorded_;
    // Timed for wait__batch alone, with approximate stamps (src/WaitBatch.h).
    bool batched_;
    // The backend set this wait started with (counted), or null if none.
    detail::BackendSetRef* backends_;
    std::array<std::intptr_t, kInlineContexts> contexts_;
    std::intptr_t* more_contexts_;  // owned; null unless > kInlineContexts
  };

  // Opens a wait.
  [[nodiscard]] WaitGuard start() {
    // The whole detached cost: the three wait probes' semaphores in one
    // load, the key's backends in another, and one branch that is not taken
    // while nothing listens. Relaxed loads: a tracer or backend arriving
    // during this call may miss this one wait.
    const std::uint64_t listening =
        detail::waitProbesAttached() | hot_.backend_count.load(std::memory_order_relaxed);
    if (__builtin_expect(listening != 0, 0)) {
      return startTimed();
    }
    return WaitGuard();
  }

 private:
  WaitGuard startTimed();
  // startTimed() for any listener but wait__batch alone.
  WaitGuard startListened();

  // The key's state, a WaitCounterImpl; lives for the whole process.
  detail::WaitCounterHotState& hot_;
};

namespace detail {

// A backend's view of one key: told about every wait on it.
class PROBEMON_API WaitCounterBackendIf {
 public:
  virtual ~WaitCounterBackendIf() = default;

  // Called when a wait starts; the returned context is passed to stop().
  virtual std::intptr_t start(std::chrono::steady_clock::time_point now) noexcept = 0;
  virtual void stop(std::chrono::steady_clock::time_point now, std::intptr_t ctx) noexcept = 0;
};

// Creates a backend per key. create() runs once per (factory, key), with no
// probemon lock held but a per-key one, when the key is created or the factory
// registered, whichever comes later. It may make handles (for any key, its own
// included: one made for its own key does not wait for the key's backends to
// be attached) and DynamicCounters, but not (un)register wait counter
// backends: that throws std::logic_error.
class PROBEMON_API WaitCounterBackendFactoryIf {
 public:
  virtual ~WaitCounterBackendFactoryIf() = default;

  // May return nullptr: the backend then ignores this key.
  virtual std::unique_ptr<WaitCounterBackendIf> create(std::string_view key) noexcept = 0;
};

// Registers a factory and attaches it to every existing key and every key
// created later. Throws std::logic_error inside a factory's create() or a
// DynamicCounter backend's registerCounter()/unregisterCounter().
PROBEMON_API void registerWaitCounterBackend(std::unique_ptr<WaitCounterBackendFactoryIf> factory);

// Detaches a registered factory from every key: no wait started after this
// returns reaches its backends. Waits still open keep their backend alive
// until they stop. Returns false if the factory is not registered. Throws
// std::logic_error where registering does.
PROBEMON_API bool unregisterWaitCounterBackend(const WaitCounterBackendFactoryIf* factory);

PROBEMON_API std::vector<std::shared_ptr<WaitCounterBackendFactoryIf>>
getRegisteredWaitCounterBackends();

}  // namespace detail
}  // namespace probemon

#define PROBEMON_DETAIL_CONCAT_INNER(a, b) a##b
#define PROBEMON_DETAIL_CONCAT(a, b) PROBEMON_DETAIL_CONCAT_INNER(a, b)

// A reference to the handle of `_key` (bare tokens, e.g. myapp.wait.flush),
// constructed once per call site.
// NOLINTBEGIN(bugprone-macro-parentheses): _key is stringized, not evaluated
#define PROBEMON_STATIC_WAIT_COUNTER(_key)                       \
  []() -> ::probemon::WaitCounterHandle& {                       \
    static ::probemon::WaitCounterHandle probemon_handle(#_key); \
    return probemon_handle;                                      \
  }()
// NOLINTEND(bugprone-macro-parentheses)

// Times the rest of the enclosing scope under `_key`.
#define PROBEMON_STATIC_SCOPED_WAIT_COUNTER(_key)                   \
  auto PROBEMON_DETAIL_CONCAT(probemon_scoped_wait_, __COUNTER__) = \
      PROBEMON_STATIC_WAIT_COUNTER(_key).start();

// Evaluates `_expr` inside a wait on `_key` and yields its value.
#define PROBEMON_WITH_WAIT_COUNTER(_key, _expr) \
  [&]() -> decltype(auto) {                     \
    PROBEMON_STATIC_SCOPED_WAIT_COUNTER(_key)   \
    return _expr;                               \
  }()
