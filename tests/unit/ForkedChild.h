// SPDX-License-Identifier: BSD-3-Clause
// Runs code in a child of fork() and reports how the child ended, for the
// tests of what the library does after fork(): a child that hangs is killed
// at a deadline and reported, so a hang fails the test instead of stalling it.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

// Sanitizers are not fork-safe with threads: TSan refuses threads started
// after a multi-threaded fork(), and GCC 12's ASan allocator keeps a lock a
// parent's thread held at fork() (glibc's malloc does not), so the child may
// hang in malloc. These tests run in the builds without sanitizers.
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define PROBEMON_SKIP_FORK_WITH_THREADS_UNDER_SANITIZERS() \
  GTEST_SKIP() << "sanitizers are not fork-safe with threads (see ForkedChild.h)"
#else
#define PROBEMON_SKIP_FORK_WITH_THREADS_UNDER_SANITIZERS() static_cast<void>(0)
#endif

namespace probemon::test {

// The child's exit status (`child` returning is status 0), or -1 if it did
// not exit by the deadline.
template <typename Child>
int runInForkedChild(Child child, std::chrono::seconds deadline = std::chrono::seconds(30)) {
  const pid_t pid = fork();
  if (pid == 0) {
    child();
    _exit(0);
  }
  const auto until = std::chrono::steady_clock::now() + deadline;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > until) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace probemon::test
