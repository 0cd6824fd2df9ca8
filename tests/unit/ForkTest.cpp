// SPDX-License-Identifier: BSD-3-Clause
// The library in a child of fork(), where only the forking thread exists:
// counters and per-thread state inherited from a parent with other threads
// (a sampler thread, threads with cached backend sets) keep working. Each
// test runs its checks in a child and gets them back as its exit status.
// (Sampling in the child, which needs a tracer, is tested in
// tests/tool/traced_target_test.cpp.)
#include <gtest/gtest.h>
#include <poll.h>
#include <probemon/DynamicCounter.h>
#include <probemon/WaitCounter.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <thread>

#include "IdleThread.h"
#include "RecordingBackends.h"

namespace probemon::test {
namespace {

// GCC 12's ThreadSanitizer cannot follow a child of a multi-threaded fork
// that starts threads, as these children do: it sees the thread ids of the
// parent's threads reused and stops the child. The ASan and plain builds run
// these tests.
#if defined(__SANITIZE_THREAD__)
constexpr bool kThreadSanitizer = true;
#else
constexpr bool kThreadSanitizer = false;
#endif

// Runs `body` in a child process and returns its result, or -1 if the child
// did not exit within 30 s (it is killed): a hang is what these tests catch.
int inChild(const std::function<int()>& body) {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(body());
  if (child < 0) return -2;
  const int pid_fd = static_cast<int>(::syscall(SYS_pidfd_open, child, 0));
  pollfd exited{pid_fd, POLLIN, 0};
  const bool done = pid_fd >= 0 && ::poll(&exited, 1, 30'000) == 1;
  if (pid_fd >= 0) ::close(pid_fd);
  if (!done) ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (!done) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(Fork, ChildDestroysTheCountersItInheritedAndBuildsNewOnes) {
  if (kThreadSanitizer) GTEST_SKIP() << "ThreadSanitizer cannot follow these children";
  // Live, so the parent has a sampler thread the child does not.
  auto inherited = std::make_unique<DynamicCounter>("fork.inherited", [] { return 1; });
  const int status = inChild([&] {
    inherited.reset();  // hung: it joined the parent's sampler thread
    {
      DynamicCounter fresh("fork.fresh", [] { return 2; });
    }
    auto log = std::make_shared<CounterLog>();
    {
      DynamicCounter again("fork.inherited", [] { return 3; });
      ScopedCounterBackend backend(std::make_unique<RecordingCounterBackend>(log));
      if (log->read("fork.inherited") != 3) return 1;
    }
    const std::vector<std::string> expected = {"register fork.inherited",
                                               "unregister fork.inherited"};
    return log->eventsSoFar() == expected ? 0 : 2;
  });
  EXPECT_EQ(status, 0);
}

TEST(Fork, ChildTimesWaitsAndFreesUnregisteredBackends) {
  if (kThreadSanitizer) GTEST_SKIP() << "ThreadSanitizer cannot follow these children";
  auto log = std::make_shared<WaitLog>();
  auto backend = std::make_unique<ScopedWaitBackend>(log);
  // Threads of the parent, alive at the fork, with the key's backend set
  // cached; one hands its open wait over, and the child stops it.
  IdleThread idle("fork.wait");
  IdleThread handing("fork.wait", IdleThread::FirstWait::HandedOver);
  { auto guard = WaitCounterHandle("fork.wait").start(); }
  const int status = inChild([&] {
    std::thread([] {
      for (int i = 0; i < 10; ++i) auto guard = WaitCounterHandle("fork.wait").start();
    }).join();
    for (int i = 0; i < 5; ++i) auto guard = WaitCounterHandle("fork.wait").start();
    // 3 in the parent (one still open) and 15 here.
    if (log->startsOf("fork.wait") != 18 || log->stopsOf("fork.wait") != 17) return 1;
    backend->reset();
    handing.handedOver().reset();
    if (log->stopsOf("fork.wait") != 18) return 2;
    // Nothing pins the set any more: neither the parent's threads, which do
    // not exist here, nor this one.
    return log->live_backends == 0 ? 0 : 3;
  });
  EXPECT_EQ(status, 0);
  handing.handedOver().reset();
}

}  // namespace
}  // namespace probemon::test
