// SPDX-License-Identifier: BSD-3-Clause
// A thread that times one wait on a key and then idles, alive with its
// probemon state (and so its cached reference to the key's backend set),
// until finish(): the shape of the tests of what unregistration does to
// threads that stopped using a backend.
#pragma once

#include <probemon/WaitCounter.h>

#include <latch>
#include <optional>
#include <string>
#include <thread>

namespace probemon::test {

class IdleThread {
 public:
  // What becomes of the first wait: stopped on the idle thread, or left
  // open and handed to the test (handedOver()).
  enum class FirstWait { Stopped, HandedOver };

  explicit IdleThread(std::string key, FirstWait first = FirstWait::Stopped)
      : key_(std::move(key)), thread_([this, first] {
          auto guard = WaitCounterHandle(key_).start();
          if (first == FirstWait::HandedOver) {
            handed_over_.emplace(std::move(guard));
          } else {
            guard.stop();
          }
          used_.count_down();
          go_.wait();
          if (wait_again_) {
            auto again = WaitCounterHandle(key_).start();
          }
        }) {
    used_.wait();
  }
  ~IdleThread() { finish(); }
  IdleThread(const IdleThread&) = delete;
  IdleThread& operator=(const IdleThread&) = delete;

  // The open first wait, with FirstWait::HandedOver; the test may stop it.
  std::optional<WaitCounterHandle::WaitGuard>& handedOver() { return handed_over_; }

  // Lets the thread time one more wait on the key (or not) and exit.
  void finish(bool wait_again = false) {
    if (!thread_.joinable()) return;
    wait_again_ = wait_again;
    go_.count_down();
    thread_.join();
  }

 private:
  const std::string key_;
  std::optional<WaitCounterHandle::WaitGuard> handed_over_;
  std::latch used_{1};
  std::latch go_{1};
  bool wait_again_ = false;
  std::thread thread_;  // last: starts once the rest is constructed
};

}  // namespace probemon::test
