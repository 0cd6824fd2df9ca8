// SPDX-License-Identifier: BSD-3-Clause
// The callback of one DynamicCounter and the count of its invocations in
// flight, so that ~DynamicCounter can wait for them itself instead of
// trusting every backend to.
//
// Every caller (backends through the wrapper they are given, the probe
// sampler directly) goes through invoke(); close() refuses new invocations
// and waits for those in flight. The count is one atomic word waited on with
// a futex (std::atomic::wait), not a mutex and a condition variable: no lock
// is ever held while the user's callback runs, and a child of fork(), where
// the invoking threads are gone, can set the count right (forgetOtherThreads()).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>

#include <probemon/DynamicCounter.h>

namespace probemon::detail {

struct Key;

class CallbackState {
 public:
  explicit CallbackState(DynamicCounter::Callback callback) : callback_(std::move(callback)) {}

  // The user's value, or nullopt once closed (the user's state may be gone).
  // An exception from the callback propagates.
  std::optional<std::int64_t> invoke();

  // Refuses new invocations and waits for those in flight to return.
  void close();

  // In a child of fork(): the invocations in flight are only those of the
  // calling thread (the only one left); the other threads' never return.
  void forgetOtherThreads();

 private:
  // word_: in-flight invocations times kOne, plus kClosed once closed.
  static constexpr std::uint32_t kClosed = 1;
  static constexpr std::uint32_t kOne = 2;

  void leave();

  const DynamicCounter::Callback callback_;
  std::atomic<std::uint32_t> word_{0};
};

// A live counter as the registry hands it out: its key and its callback.
struct LiveCounter {
  const Key* key;
  std::shared_ptr<CallbackState> callback;
};

}  // namespace probemon::detail
