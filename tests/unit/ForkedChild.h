// Runs code in a child of fork() and reports how the child ended, for the
// tests of what the library does after fork(): a child that hangs is killed
// at a deadline and reported, so a hang fails the test instead of stalling it.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

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
