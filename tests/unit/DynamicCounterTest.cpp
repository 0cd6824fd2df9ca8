// SPDX-License-Identifier: BSD-3-Clause
// DynamicCounter registration, backends and the destructor's wait for
// callbacks in flight.
#include <gtest/gtest.h>
#include <probemon/DynamicCounter.h>

#include <atomic>
#include <future>
#include <latch>
#include <stdexcept>
#include <thread>

#include "ForkedChild.h"
#include "RecordingBackends.h"

namespace probemon::test {
namespace {

using Events = std::vector<std::string>;

TEST(DynamicCounter, BackendIsToldOfRegistrationAndUnregistration) {
  auto log = std::make_shared<CounterLog>();
  ScopedCounterBackend backend(std::make_unique<RecordingCounterBackend>(log));
  {
    DynamicCounter counter("dc.basic", [] { return 7; });
    EXPECT_EQ(log->read("dc.basic"), 7);
  }
  EXPECT_EQ(log->eventsSoFar(), (Events{"register dc.basic", "unregister dc.basic"}));
}

TEST(DynamicCounter, DuplicateKeyThrowsNamingTheKeyAndChangesNothing) {
  auto log = std::make_shared<CounterLog>();
  ScopedCounterBackend backend(std::make_unique<RecordingCounterBackend>(log));
  DynamicCounter first("dc.duplicate", [] { return 1; });
  try {
    DynamicCounter second("dc.duplicate", [] { return 2; });
    FAIL() << "a duplicate key must throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'dc.duplicate'"), std::string::npos) << e.what();
  }
  EXPECT_EQ(log->eventsSoFar(), (Events{"register dc.duplicate"}));
  EXPECT_EQ(log->read("dc.duplicate"), 1) << "the first counter is still the live one";
}

TEST(DynamicCounter, KeyIsFreeAgainAfterDestruction) {
  {
    DynamicCounter first("dc.reuse", [] { return 1; });
  }
  DynamicCounter second("dc.reuse", [] { return 2; });
}

TEST(DynamicCounter, BackendRegisteredLaterIsToldAboutEveryLiveCounter) {
  DynamicCounter a("dc.late.a", [] { return 10; });
  DynamicCounter b("dc.late.b", [] { return 20; });
  auto log = std::make_shared<CounterLog>();
  ScopedCounterBackend backend(std::make_unique<RecordingCounterBackend>(log));
  auto events = log->eventsSoFar();
  std::sort(events.begin(), events.end());
  EXPECT_EQ(events, (Events{"register dc.late.a", "register dc.late.b"}));
  EXPECT_EQ(log->read("dc.late.a"), 10);
  EXPECT_EQ(log->read("dc.late.b"), 20);
}

TEST(DynamicCounter, UnregisteringABackendUnregistersLiveCounters) {
  auto log = std::make_shared<CounterLog>();
  auto owned = std::make_unique<RecordingCounterBackend>(log);
  const auto* raw = owned.get();
  detail::registerDynamicCounterBackend(std::move(owned));
  DynamicCounter counter("dc.backend.gone", [] { return 3; });
  EXPECT_TRUE(detail::unregisterDynamicCounterBackend(raw));
  EXPECT_FALSE(detail::unregisterDynamicCounterBackend(raw));
  EXPECT_EQ(log->eventsSoFar(), (Events{"register dc.backend.gone", "unregister dc.backend.gone"}));
}

TEST(DynamicCounter, DestructorWaitsForCallbacksInFlight) {
  auto log = std::make_shared<CounterLog>();
  ScopedCounterBackend backend(std::make_unique<RecordingCounterBackend>(log));
  std::latch entered(1);
  std::latch release(1);
  auto counter = std::make_unique<DynamicCounter>("dc.inflight", [&] {
    entered.count_down();
    release.wait();
    return 5;
  });
  // The backend's reader is inside the callback...
  auto reader = std::async(std::launch::async, [&] { return log->read("dc.inflight"); });
  entered.wait();
  // ...so the destructor must not return until the callback does, although
  // this backend's unregisterCounter does not wait.
  std::atomic<bool> destroyed{false};
  std::thread destroyer([&] {
    counter.reset();
    destroyed = true;
  });
  EXPECT_EQ(reader.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  EXPECT_FALSE(destroyed.load()) << "destructor returned while a callback was running";
  release.count_down();
  destroyer.join();
  EXPECT_TRUE(destroyed.load());
  EXPECT_EQ(reader.get(), 5);
}

TEST(DynamicCounter, CallbackHeldPastDestructionNoLongerCallsTheUser) {
  auto log = std::make_shared<CounterLog>();
  ScopedCounterBackend backend(std::make_unique<RecordingCounterBackend>(log));
  int calls = 0;
  {
    DynamicCounter counter("dc.stale", [&] { return ++calls; });
    EXPECT_EQ(log->read("dc.stale"), 1);
  }
  EXPECT_EQ(log->read("dc.stale"), 0) << "a backend that kept the callback gets 0";
  EXPECT_EQ(calls, 1);
}

TEST(DynamicCounter, ThrowingCallbackPropagatesToTheBackendAndDestructionStillReturns) {
  auto log = std::make_shared<CounterLog>();
  ScopedCounterBackend backend(std::make_unique<RecordingCounterBackend>(log));
  {
    DynamicCounter counter("dc.throws", []() -> std::int64_t { throw std::runtime_error("boom"); });
    EXPECT_THROW(log->read("dc.throws"), std::runtime_error);
  }
  EXPECT_EQ(log->eventsSoFar().back(), "unregister dc.throws");
}

TEST(DynamicCounter, ThrowingBackendLeavesNoHalfRegisteredKey) {
  auto good = std::make_shared<CounterLog>();
  ScopedCounterBackend first(std::make_unique<RecordingCounterBackend>(good));
  auto bad_log = std::make_shared<CounterLog>();
  auto bad = std::make_unique<RecordingCounterBackend>(bad_log, [](std::string_view key) {
    if (key == "dc.rollback") throw std::runtime_error("backend refuses");
  });
  const auto* bad_raw = bad.get();
  detail::registerDynamicCounterBackend(std::move(bad));
  EXPECT_THROW(DynamicCounter("dc.rollback", [] { return 1; }), std::runtime_error);
  EXPECT_EQ(good->eventsSoFar(), (Events{"register dc.rollback", "unregister dc.rollback"}));
  EXPECT_TRUE(detail::unregisterDynamicCounterBackend(bad_raw));
  // The key was never left registered, so it can be used now.
  DynamicCounter retry("dc.rollback", [] { return 2; });
  EXPECT_EQ(good->read("dc.rollback"), 2);
}

TEST(DynamicCounter, BackendThrowingOnRegistrationIsNotKept) {
  DynamicCounter live("dc.refused", [] { return 1; });
  auto log = std::make_shared<CounterLog>();
  auto refusing = std::make_unique<RecordingCounterBackend>(
      log, [](std::string_view) { throw std::runtime_error("no"); });
  const auto* raw = refusing.get();
  EXPECT_THROW(detail::registerDynamicCounterBackend(std::move(refusing)), std::runtime_error);
  EXPECT_FALSE(detail::unregisterDynamicCounterBackend(raw));
}

// A child of fork() has none of the parent's threads: making and destroying
// DynamicCounters there must not wait for the parent's sampler thread (which
// the child would otherwise join, and whose condition variable it would
// notify, forever).
TEST(DynamicCounter, AForkedChildMakesAndDestroysCounters) {
  PROBEMON_SKIP_FORK_WITH_THREADS_UNDER_SANITIZERS();
  auto parent = std::make_unique<DynamicCounter>("dc.fork.parent", [] { return 1; });
  // Setup, not an assertion: fork while the sampler thread waits, as it does
  // nearly always.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(runInForkedChild([&] {
              parent.reset();  // the last counter: the sampler thread is stopped
              // A new sampler thread, on a fresh condition variable, waits and is
              // stopped again.
              DynamicCounter child("dc.fork.child", [] { return 2; });
              std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }),
            0);
}

}  // namespace
}  // namespace probemon::test

