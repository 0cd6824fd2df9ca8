// SPDX-License-Identifier: BSD-3-Clause
// WaitCounterHandle, WaitGuard, the macros and backend registration. Keys are
// process-wide and immortal, so every test uses keys of its own.
#include <gtest/gtest.h>
#include <probemon/WaitCounter.h>

#include <future>
#include <optional>
#include <thread>
#include <type_traits>

#include "IdleThread.h"
#include "RecordingBackends.h"

namespace probemon::test {
namespace {

using Guard = WaitCounterHandle::WaitGuard;

static_assert(!std::is_copy_constructible_v<Guard>);
static_assert(!std::is_copy_assignable_v<Guard>);
static_assert(!std::is_move_assignable_v<Guard>);
static_assert(std::is_nothrow_move_constructible_v<Guard>);

TEST(WaitCounter, WithoutBackendsStartAndStopDoNothing) {
  ASSERT_TRUE(detail::getRegisteredWaitCounterBackends().empty());
  WaitCounterHandle handle("wc.detached");
  auto guard = handle.start();
  guard.stop();
  guard.stop();
}

TEST(WaitCounter, BackendSeesEveryStartAndStopWithItsContext) {
  auto log = std::make_shared<WaitLog>();
  ScopedWaitBackend backend(log);
  WaitCounterHandle handle("wc.basic");
  for (int i = 0; i < 5; ++i) {
    auto guard = handle.start();
  }
  EXPECT_EQ(log->createsOf("wc.basic"), 1);
  EXPECT_EQ(log->startsOf("wc.basic"), 5);
  EXPECT_EQ(log->stopsOf("wc.basic"), 5);
  EXPECT_EQ(log->unmatched_stops, 0);
  EXPECT_EQ(log->negative_durations, 0);
}

TEST(WaitCounter, StopIsIdempotent) {
  auto log = std::make_shared<WaitLog>();
  ScopedWaitBackend backend(log);
  auto guard = WaitCounterHandle("wc.idempotent").start();
  guard.stop();
  guard.stop();
  EXPECT_EQ(log->stopsOf("wc.idempotent"), 1);
}

TEST(WaitCounter, MovedFromGuardIsInert) {
  auto log = std::make_shared<WaitLog>();
  ScopedWaitBackend backend(log);
  WaitCounterHandle handle("wc.moved");
  {
    auto first = handle.start();
    Guard second(std::move(first));
    first.stop();  // NOLINT(bugprone-use-after-move): inert by contract
    EXPECT_EQ(log->stopsOf("wc.moved"), 0);
    second.stop();
    EXPECT_EQ(log->stopsOf("wc.moved"), 1);
  }
  EXPECT_EQ(log->startsOf("wc.moved"), 1);
  EXPECT_EQ(log->stopsOf("wc.moved"), 1);
  EXPECT_EQ(log->unmatched_stops, 0);
}

TEST(WaitCounter, FactoryReturningNullptrIgnoresTheKeyAndIsNotAskedAgain) {
  auto log = std::make_shared<WaitLog>();
  ScopedWaitBackend backend(log, [](std::string_view key) { return key != "wc.ignored"; });
  WaitCounterHandle ignored("wc.ignored");
  WaitCounterHandle kept("wc.kept");
  { auto a = ignored.start(); }
  { auto b = kept.start(); }
  // Registering another factory re-syncs every key; the first is not re-asked.
  auto other = std::make_shared<WaitLog>();
  ScopedWaitBackend second(other);
  { auto a = ignored.start(); }
  EXPECT_EQ(log->createsOf("wc.ignored"), 1);
  EXPECT_EQ(log->startsOf("wc.ignored"), 0);
  EXPECT_EQ(log->startsOf("wc.kept"), 1);
  EXPECT_EQ(other->startsOf("wc.ignored"), 1);
}

TEST(WaitCounter, BackendRegisteredAfterTheKeyExistsIsAttachedToIt) {
  WaitCounterHandle handle("wc.late");
  { auto before = handle.start(); }
  auto log = std::make_shared<WaitLog>();
  ScopedWaitBackend backend(log);
  EXPECT_EQ(log->createsOf("wc.late"), 1);
  { auto after = handle.start(); }
  EXPECT_EQ(log->startsOf("wc.late"), 1);
  EXPECT_EQ(log->stopsOf("wc.late"), 1);
}

TEST(WaitCounter, UnregisteredBackendSeesNoNewWaitsButFinishesOpenOnes) {
  auto log = std::make_shared<WaitLog>();
  ScopedWaitBackend backend(log);
  WaitCounterHandle handle("wc.unregister");
  auto open = handle.start();
  backend.reset();
  EXPECT_EQ(log->live_backends, 1) << "the open wait keeps its backend alive";
  { auto after = handle.start(); }
  open.stop();
  EXPECT_EQ(log->startsOf("wc.unregister"), 1);
  EXPECT_EQ(log->stopsOf("wc.unregister"), 1);
  EXPECT_EQ(log->live_backends, 0) << "destroyed with the last wait that used it";
  EXPECT_EQ(log->open_at_destruction, 0);
  EXPECT_TRUE(detail::getRegisteredWaitCounterBackends().empty());
}

TEST(WaitCounter, IdleThreadThatUsedABackendDoesNotKeepItAliveAfterUnregistration) {
  auto log = std::make_shared<WaitLog>();
  ScopedWaitBackend backend(log);
  IdleThread idle("wc.idle.thread");
  backend.reset();
  EXPECT_EQ(log->live_backends, 0) << "a thread's cached reference kept the backend alive";
  idle.finish();
  EXPECT_EQ(log->stopsOf("wc.idle.thread"), 1);
}

TEST(WaitCounter, GuardMovedToAnotherThreadStopsThereAfterItsThreadExited) {
  auto log = std::make_shared<WaitLog>();
  ScopedWaitBackend backend(log);
  std::optional<Guard> moved;
  std::thread starter([&] { moved.emplace(WaitCounterHandle("wc.moved.thread").start()); });
  starter.join();
  backend.reset();
  EXPECT_EQ(log->live_backends, 1) << "the open wait keeps its backend";
  moved.reset();
  EXPECT_EQ(log->stopsOf("wc.moved.thread"), 1);
  EXPECT_EQ(log->unmatched_stops, 0);
  EXPECT_EQ(log->live_backends, 0);
}

TEST(WaitCounter, GuardStoppedOnAnotherThreadWhileItsThreadIdlesReleasesTheBackend) {
  auto log = std::make_shared<WaitLog>();
  ScopedWaitBackend backend(log);
  IdleThread starter("wc.moved.idle", IdleThread::FirstWait::HandedOver);
  backend.reset();
  EXPECT_EQ(log->live_backends, 1) << "the open wait keeps its backend";
  starter.handedOver().reset();  // the last pin, released off its thread
  EXPECT_EQ(log->stopsOf("wc.moved.idle"), 1);
  EXPECT_EQ(log->live_backends, 0) << "the idle owner's reference kept the backend alive";
  starter.finish();
  EXPECT_EQ(log->unmatched_stops, 0);
  EXPECT_EQ(log->open_at_destruction, 0);
}

TEST(WaitCounter, WaitsStartedAndStoppedOnEachOthersThreadsAreCountedExactly) {
  auto log = std::make_shared<WaitLog>();
  ScopedWaitBackend backend(log);
  constexpr int kWaits = 100;
  std::vector<Guard> from_a;
  std::vector<Guard> from_b;
  WaitCounterHandle handle("wc.crossed");
  std::thread a([&] {
    for (int i = 0; i < kWaits; ++i) from_a.push_back(handle.start());
  });
  std::thread b([&] {
    for (int i = 0; i < kWaits; ++i) from_b.push_back(handle.start());
  });
  a.join();
  b.join();
  std::thread stop_a([&] { from_a.clear(); });  // on threads that started none
  std::thread stop_b([&] {
    from_b.clear();
    auto own = handle.start();  // and one of its own, locally pinned
  });
  stop_a.join();
  stop_b.join();
  EXPECT_EQ(log->startsOf("wc.crossed"), 2 * kWaits + 1);
  EXPECT_EQ(log->stopsOf("wc.crossed"), 2 * kWaits + 1);
  EXPECT_EQ(log->unmatched_stops, 0);
}

// Destroyed after the thread's probemon state (thread_locals die in reverse
// order of construction), and times a wait all the same.
struct WaitsWhenDestroyed {
  ~WaitsWhenDestroyed() { auto guard = WaitCounterHandle("wc.thread.exit.late").start(); }
};

TEST(WaitCounter, WaitsTimedWhileTheThreadExitsStillReachTheirBackend) {
  auto log = std::make_shared<WaitLog>();
  ScopedWaitBackend backend(log);
  std::thread exiting([] {
    thread_local WaitsWhenDestroyed late;
    static_cast<void>(late);
    auto guard = WaitCounterHandle("wc.thread.exit.first").start();  // creates the state
  });
  exiting.join();
  EXPECT_EQ(log->stopsOf("wc.thread.exit.first"), 1);
  EXPECT_EQ(log->startsOf("wc.thread.exit.late"), 1);
  EXPECT_EQ(log->stopsOf("wc.thread.exit.late"), 1);
  EXPECT_EQ(log->unmatched_stops, 0);
}

TEST(WaitCounter, UnregisteringAnUnknownFactoryReturnsFalse) {
  RecordingFactory never_registered(std::make_shared<WaitLog>());
  EXPECT_FALSE(detail::unregisterWaitCounterBackend(&never_registered));
  detail::registerWaitCounterBackend(nullptr);  // ignored
  EXPECT_TRUE(detail::getRegisteredWaitCounterBackends().empty());
}

TEST(WaitCounter, GetRegisteredBackendsListsFactoriesInOrder) {
  ScopedWaitBackend first(std::make_shared<WaitLog>());
  ScopedWaitBackend second(std::make_shared<WaitLog>());
  const auto factories = detail::getRegisteredWaitCounterBackends();
  ASSERT_EQ(factories.size(), 2u);
  EXPECT_EQ(factories[0].get(), first.factory());
  EXPECT_EQ(factories[1].get(), second.factory());
}

TEST(WaitCounter, GuardStartedFromATemporaryHandleStaysValid) {
  auto log = std::make_shared<WaitLog>();
  ScopedWaitBackend backend(log);
  auto guard = WaitCounterHandle("wc.temporary").start();
  // The handle is gone; the guard refers to per-key state that is not.
  guard.stop();
  EXPECT_EQ(log->stopsOf("wc.temporary"), 1);
}

TEST(WaitCounter, EachBackendGetsItsOwnContextBackBeyondTheInlineOnes) {
  std::vector<std::shared_ptr<WaitLog>> logs;
  std::vector<std::unique_ptr<ScopedWaitBackend>> backends;
  for (int i = 0; i < 5; ++i) {
    logs.push_back(std::make_shared<WaitLog>());
    backends.push_back(std::make_unique<ScopedWaitBackend>(logs.back()));
  }
  WaitCounterHandle handle("wc.many");
  for (int i = 0; i < 3; ++i) {
    auto guard = handle.start();
  }
  for (const auto& log : logs) {
    EXPECT_EQ(log->startsOf("wc.many"), 3);
    EXPECT_EQ(log->stopsOf("wc.many"), 3);
    EXPECT_EQ(log->unmatched_stops, 0);
  }
}

WaitCounterHandle& siteA() { return PROBEMON_STATIC_WAIT_COUNTER(wc.static.site); }
WaitCounterHandle& siteB() { return PROBEMON_STATIC_WAIT_COUNTER(wc.static.site); }

TEST(WaitCounter, StaticHandleIsOnePerCallSite) {
  auto log = std::make_shared<WaitLog>();
  ScopedWaitBackend backend(log);
  EXPECT_EQ(&siteA(), &siteA());
  EXPECT_EQ(&siteB(), &siteB());
  EXPECT_NE(&siteA(), &siteB());
  { auto a = siteA().start(); }
  { auto b = siteB().start(); }
  // Two call sites, one key: one backend instance sees both.
  EXPECT_EQ(log->createsOf("wc.static.site"), 1);
  EXPECT_EQ(log->startsOf("wc.static.site"), 2);
}

TEST(WaitCounter, ScopedMacroTimesTheRestOfTheScope) {
  auto log = std::make_shared<WaitLog>();
  ScopedWaitBackend backend(log);
  {
    PROBEMON_STATIC_SCOPED_WAIT_COUNTER(wc.scoped.key);
    PROBEMON_STATIC_SCOPED_WAIT_COUNTER(wc.scoped.other);  // two in one scope compile
    EXPECT_EQ(log->startsOf("wc.scoped.key"), 1);
    EXPECT_EQ(log->stopsOf("wc.scoped.key"), 0);
  }
  EXPECT_EQ(log->stopsOf("wc.scoped.key"), 1);
  EXPECT_EQ(log->stopsOf("wc.scoped.other"), 1);
}

TEST(WaitCounter, WithWaitCounterYieldsTheValueInsideOneWait) {
  auto log = std::make_shared<WaitLog>();
  ScopedWaitBackend backend(log);
  int calls = 0;
  auto compute = [&] {
    ++calls;
    EXPECT_EQ(log->stopsOf("wc.with"), 0) << "evaluated inside the wait";
    return 42;
  };
  const int value = PROBEMON_WITH_WAIT_COUNTER(wc.with, compute());
  EXPECT_EQ(value, 42);
  EXPECT_EQ(calls, 1);
  int target = 0;
  int& ref = PROBEMON_WITH_WAIT_COUNTER(wc.with.ref, (target));
  EXPECT_EQ(&ref, &target) << "a reference stays a reference";
  PROBEMON_WITH_WAIT_COUNTER(wc.with.void, static_cast<void>(++calls));
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(log->startsOf("wc.with"), 1);
  EXPECT_EQ(log->stopsOf("wc.with"), 1);
  EXPECT_EQ(log->stopsOf("wc.with.void"), 1);
}

// A factory that calls back into probemon from create(): it would deadlock if
// factories ran under a global lock.
class ReentrantFactory final : public detail::WaitCounterBackendFactoryIf {
 public:
  std::unique_ptr<detail::WaitCounterBackendIf> create(std::string_view key) noexcept override {
    if (key == "wc.reentrant.outer") {
      WaitCounterHandle inner("wc.reentrant.inner");
      auto guard = inner.start();
      factories_seen = detail::getRegisteredWaitCounterBackends().size();
    }
    return nullptr;
  }
  std::size_t factories_seen = 0;
};

TEST(WaitCounter, FactoriesRunWithoutTheGlobalLock) {
  auto owned = std::make_unique<ReentrantFactory>();
  auto* factory = owned.get();
  // A deadlock here fails the test by its ctest timeout rather than hanging
  // the future forever.
  auto done = std::async(std::launch::async, [&] {
    ScopedWaitBackend backend(std::move(owned));
    WaitCounterHandle outer("wc.reentrant.outer");
    return factory->factories_seen;
  });
  ASSERT_EQ(done.wait_for(std::chrono::seconds(20)), std::future_status::ready)
      << "factory create() ran under a global lock";
  EXPECT_EQ(done.get(), 1u);
}

}  // namespace
}  // namespace probemon::test
