// SPDX-License-Identifier: BSD-3-Clause
#include "CallbackState.h"

namespace probemon::detail {
namespace {

// The invocations running on this thread, innermost first: a callback may
// read another counter. Only forgetOtherThreads() walks it.
struct Invocation {
  const CallbackState* state;
  const Invocation* outer;
};
constinit thread_local const Invocation* t_innermost = nullptr;

}  // namespace

std::optional<std::int64_t> CallbackState::invoke() {
  if ((word_.fetch_add(kOne, std::memory_order_acquire) & kClosed) != 0) {
    leave();
    return std::nullopt;
  }
  const Invocation self{this, t_innermost};
  t_innermost = &self;
  struct Leave {
    CallbackState* state;
    const Invocation* outer;
    ~Leave() {
      t_innermost = outer;
      state->leave();
    }
  } leave{this, self.outer};
  return callback_();
}

void CallbackState::leave() {
  // Sequentially consistent, like the store that close() may sleep on: the
  // wake-up must not be missed.
  if (word_.fetch_sub(kOne) - kOne == kClosed) word_.notify_all();
}

void CallbackState::close() {
  std::uint32_t word = word_.fetch_or(kClosed) | kClosed;
  while (word != kClosed) {
    word_.wait(word);
    word = word_.load();
  }
}

void CallbackState::forgetOtherThreads() {
  std::uint32_t own = 0;
  for (const Invocation* i = t_innermost; i != nullptr; i = i->outer) {
    if (i->state == this) own += kOne;
  }
  word_.store((word_.load(std::memory_order_relaxed) & kClosed) | own, std::memory_order_relaxed);
}

}  // namespace probemon::detail
