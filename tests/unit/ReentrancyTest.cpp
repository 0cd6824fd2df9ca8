// SPDX-License-Identifier: BSD-3-Clause
// Re-entering the library from the user code it runs under its own locks (a
// wait counter factory's create(), a DynamicCounter backend's methods): what
// is allowed works, what is not throws std::logic_error naming it, and
// nothing hangs, also when two threads re-enter at once. Each case hung
// before. A hang aborts the test binary (the stuck thread holds probemon's
// locks, so no later test could run).
#include <gtest/gtest.h>
#include <probemon/DynamicCounter.h>
#include <probemon/WaitCounter.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <latch>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "RecordingBackends.h"

namespace probemon::test {
namespace {

using Events = std::vector<std::string>;

// Runs `body` on a thread of its own and returns once it has; aborts the
// process, saying `what` hung, if it has not within a minute.
void runOrAbortIfHung(const char* what, const std::function<void()>& body) {
  std::promise<void> finished;
  auto done = finished.get_future();
  std::thread([&] {
    body();
    finished.set_value();
  }).detach();
  if (done.wait_for(std::chrono::minutes(1)) != std::future_status::ready) {
    std::fprintf(stderr, "%s hung: a deadlock in probemon\n", what);
    std::abort();
  }
}

// What a call into probemon threw inside user code: its message, or nullopt
// if it returned.
std::optional<std::string> thrownBy(const std::function<void()>& call) {
  try {
    call();
  } catch (const std::logic_error& e) {
    return e.what();
  }
  return std::nullopt;
}

// A factory that runs `on_create` from its create() for `key`, and creates
// a recording backend for every key.
class CallingFactory final : public detail::WaitCounterBackendFactoryIf {
 public:
  CallingFactory(std::shared_ptr<WaitLog> log, std::string key, std::function<void()> on_create)
      : inner_(std::move(log)), key_(std::move(key)), on_create_(std::move(on_create)) {}

  std::unique_ptr<detail::WaitCounterBackendIf> create(std::string_view key) noexcept override {
    if (key == key_) on_create_();
    return inner_.create(key);
  }

 private:
  RecordingFactory inner_;
  const std::string key_;
  const std::function<void()> on_create_;
};

TEST(Reentrancy, RegisteringAWaitBackendInsideCreateThrowsNamingIt) {
  auto log = std::make_shared<WaitLog>();
  std::optional<std::string> error;
  ScopedWaitBackend backend(std::make_unique<CallingFactory>(log, "re.register", [&] {
    error = thrownBy([] {
      detail::registerWaitCounterBackend(
          std::make_unique<RecordingFactory>(std::make_shared<WaitLog>()));
    });
  }));
  runOrAbortIfHung("registerWaitCounterBackend() in create()",
                   [] { auto guard = WaitCounterHandle("re.register").start(); });
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("registerWaitCounterBackend() is not allowed inside a "
                        "WaitCounterBackendFactoryIf::create()"),
            std::string::npos)
      << *error;
  EXPECT_EQ(detail::getRegisteredWaitCounterBackends().size(), 1U);
  EXPECT_EQ(log->startsOf("re.register"), 1);
}

TEST(Reentrancy, UnregisteringAWaitBackendInsideCreateThrowsNamingIt) {
  auto log = std::make_shared<WaitLog>();
  std::optional<std::string> error;
  const detail::WaitCounterBackendFactoryIf* self = nullptr;
  auto factory = std::make_unique<CallingFactory>(log, "re.unregister", [&] {
    error = thrownBy([&] { detail::unregisterWaitCounterBackend(self); });
  });
  self = factory.get();
  ScopedWaitBackend backend(std::move(factory));
  runOrAbortIfHung("unregisterWaitCounterBackend() in create()",
                   [] { auto guard = WaitCounterHandle("re.unregister").start(); });
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("unregisterWaitCounterBackend() is not allowed inside a "
                        "WaitCounterBackendFactoryIf::create()"),
            std::string::npos)
      << *error;
  EXPECT_EQ(log->startsOf("re.unregister"), 1);  // still registered
}

// docs/api.md: a factory may make handles, its own key's too.
TEST(Reentrancy, AHandleForTheKeyBeingCreatedWorksInsideCreate) {
  auto log = std::make_shared<WaitLog>();
  ScopedWaitBackend backend(std::make_unique<CallingFactory>(log, "re.same", [] {
    WaitCounterHandle same("re.same");
    auto guard = same.start();  // before any backend is attached: none sees it
  }));
  runOrAbortIfHung("a handle for the same key in create()", [] {
    WaitCounterHandle handle("re.same");
    auto guard = handle.start();
  });
  EXPECT_EQ(log->createsOf("re.same"), 1);
  EXPECT_EQ(log->startsOf("re.same"), 1);
  EXPECT_EQ(log->stopsOf("re.same"), 1);
}

// Two threads each creating a key whose create() makes a handle for the
// other's key, both inside create() at once: each used to wait for the
// other's key to be ready.
TEST(Reentrancy, CreatesMakingHandlesForEachOthersKeysAtOnceBothReturn) {
  auto log = std::make_shared<WaitLog>();
  std::latch both_inside(2);
  auto meet_then = [&](const char* other) {
    return [&both_inside, other] {
      both_inside.arrive_and_wait();
      auto guard = WaitCounterHandle(other).start();
    };
  };
  ScopedWaitBackend first(
      std::make_unique<CallingFactory>(log, "re.cross.a", meet_then("re.cross.b")));
  ScopedWaitBackend second(
      std::make_unique<CallingFactory>(log, "re.cross.b", meet_then("re.cross.a")));
  runOrAbortIfHung("creates of two keys making handles for each other", [] {
    std::jthread a([] { WaitCounterHandle("re.cross.a"); });
    std::jthread b([] { WaitCounterHandle("re.cross.b"); });
  });
  EXPECT_EQ(log->createsOf("re.cross.a"), 2);  // once per factory
  EXPECT_EQ(log->createsOf("re.cross.b"), 2);
}

// A backend that builds (and destroys) a DynamicCounter of its own when it
// is told of `key`, from registerCounter() or unregisterCounter().
class BuildingBackend final : public detail::DynamicCounterBackendIf {
 public:
  BuildingBackend(std::shared_ptr<CounterLog> log, std::string key)
      : log_(std::move(log)), key_(std::move(key)) {}

  void registerCounter(std::string_view key, DynamicCounter::Callback /*cb*/) override {
    note("register " + std::string(key));
    if (key == key_) own_ = std::make_unique<DynamicCounter>(key_ + ".own", [] { return 1; });
  }
  void unregisterCounter(std::string_view key) override {
    note("unregister " + std::string(key));
    if (key == key_) {
      own_.reset();
      DynamicCounter passing(key_ + ".passing", [] { return 2; });
    }
  }

 private:
  void note(std::string event) {
    std::lock_guard lock(log_->mu);
    log_->events.push_back(std::move(event));
  }

  std::shared_ptr<CounterLog> log_;
  const std::string key_;
  std::unique_ptr<DynamicCounter> own_;
};

TEST(Reentrancy, ABackendMayBuildAndDestroyDynamicCountersWhenTold) {
  auto log = std::make_shared<CounterLog>();
  auto other = std::make_shared<CounterLog>();
  ScopedCounterBackend building(std::make_unique<BuildingBackend>(log, "re.dc"));
  ScopedCounterBackend watching(std::make_unique<RecordingCounterBackend>(other));
  runOrAbortIfHung("a DynamicCounter built in registerCounter()",
                   [] { DynamicCounter counter("re.dc", [] { return 0; }); });
  // Each nested counter is told to every backend inside the call that made it.
  EXPECT_EQ(log->eventsSoFar(),
            (Events{"register re.dc", "register re.dc.own", "unregister re.dc",
                    "unregister re.dc.own", "register re.dc.passing", "unregister re.dc.passing"}));
  EXPECT_EQ(other->eventsSoFar(),
            (Events{"register re.dc.own", "register re.dc", "unregister re.dc.own",
                    "register re.dc.passing", "unregister re.dc.passing", "unregister re.dc"}));
}

TEST(Reentrancy, ABackendBuildingACounterWithTheKeyItIsToldOfIsRefused) {
  auto log = std::make_shared<CounterLog>();
  std::optional<std::string> error;
  ScopedCounterBackend backend(
      std::make_unique<RecordingCounterBackend>(log, [&](std::string_view key) {
        if (key != "re.dup") return;
        try {
          DynamicCounter again("re.dup", [] { return 0; });
        } catch (const std::invalid_argument& e) {
          error = e.what();
        }
      }));
  runOrAbortIfHung("a DynamicCounter of the same key in registerCounter()",
                   [] { DynamicCounter counter("re.dup", [] { return 0; }); });
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("'re.dup' is already registered"), std::string::npos) << *error;
  EXPECT_EQ(log->eventsSoFar(), (Events{"register re.dup", "unregister re.dup"}));
}

TEST(Reentrancy, RegisteringBackendsInsideABackendThrowsNamingIt) {
  auto log = std::make_shared<CounterLog>();
  std::vector<std::string> errors;
  ScopedCounterBackend backend(
      std::make_unique<RecordingCounterBackend>(log, [&](std::string_view key) {
        if (key != "re.backends") return;
        for (auto call : std::vector<std::function<void()>>{
                 [] {
                   detail::registerDynamicCounterBackend(
                       std::make_unique<RecordingCounterBackend>(std::make_shared<CounterLog>()));
                 },
                 [] { detail::unregisterDynamicCounterBackend(nullptr); },
                 [] {
                   detail::registerWaitCounterBackend(
                       std::make_unique<RecordingFactory>(std::make_shared<WaitLog>()));
                 },
                 [] { detail::unregisterWaitCounterBackend(nullptr); }}) {
          if (auto error = thrownBy(call)) errors.push_back(*error);
        }
      }));
  runOrAbortIfHung("backend registrations in registerCounter()",
                   [] { DynamicCounter counter("re.backends", [] { return 0; }); });
  ASSERT_EQ(errors.size(), 4U);
  const std::string inside = " is not allowed inside a DynamicCounterBackendIf's registerCounter()";
  EXPECT_NE(errors[0].find("registerDynamicCounterBackend()" + inside), std::string::npos)
      << errors[0];
  EXPECT_NE(errors[1].find("unregisterDynamicCounterBackend()" + inside), std::string::npos)
      << errors[1];
  EXPECT_NE(errors[2].find("registerWaitCounterBackend()" + inside), std::string::npos)
      << errors[2];
  EXPECT_NE(errors[3].find("unregisterWaitCounterBackend()" + inside), std::string::npos)
      << errors[3];
  EXPECT_TRUE(detail::getRegisteredWaitCounterBackends().empty());
}

// One thread creates a wait counter key whose create() builds a
// DynamicCounter; the other, inside a DynamicCounter backend (holding the
// registry's lock), makes a handle for that key meanwhile. Each used to wait
// for the lock the other held.
TEST(Reentrancy, CreateBuildingACounterWhileABackendMakesItsHandleBothReturn) {
  auto waits = std::make_shared<WaitLog>();
  auto counters = std::make_shared<CounterLog>();
  std::latch backend_inside(1);
  std::latch create_inside(1);
  ScopedWaitBackend factory(std::make_unique<CallingFactory>(waits, "re.mixed", [&] {
    create_inside.count_down();
    backend_inside.wait();
    DynamicCounter built("re.mixed.built", [] { return 0; });
  }));
  ScopedCounterBackend backend(
      std::make_unique<RecordingCounterBackend>(counters, [&](std::string_view key) {
        if (key != "re.mixed.first") return;
        create_inside.wait();
        backend_inside.count_down();
        auto guard = WaitCounterHandle("re.mixed").start();
      }));
  runOrAbortIfHung("a key's create() and a DynamicCounter backend waiting for each other", [] {
    std::jthread creating([] { WaitCounterHandle("re.mixed"); });
    std::jthread counting([] { DynamicCounter first("re.mixed.first", [] { return 0; }); });
  });
  EXPECT_EQ(waits->createsOf("re.mixed"), 1);
  auto events = counters->eventsSoFar();  // the two threads' events interleave
  std::sort(events.begin(), events.end());
  EXPECT_EQ(events, (Events{"register re.mixed.built", "register re.mixed.first",
                            "unregister re.mixed.built", "unregister re.mixed.first"}));
}

}  // namespace
}  // namespace probemon::test
