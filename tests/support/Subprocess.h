// SPDX-License-Identifier: BSD-3-Clause
// Test support: run programs (tracers, the workload, the tool) as child
// processes, talk to their stdin, watch their output line by line with
// timeouts, signal and reap them. Nothing here sleeps for a fixed time: every
// wait is for an event (a line, an exit) with a deadline.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

namespace probemon::test {

class Subprocess {
 public:
  // Starts argv (argv[0] looked up in PATH) with stdin, stdout and stderr on
  // pipes. Throws std::runtime_error if it cannot be started.
  explicit Subprocess(std::vector<std::string> argv);
  // Kills (SIGKILL) and reaps the child if it is still running.
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }

  void writeStdin(std::string_view text);
  void closeStdin();
  void signal(int signo);

  // Waits for the next stdout line (after those already returned) matching
  // `pattern` and returns it; nullopt on timeout or end of output.
  std::optional<std::string> waitForLine(const std::regex& pattern,
                                         std::chrono::milliseconds timeout);

  // Waits for the child to exit, draining its output. Returns the exit status,
  // or 128 + signal number; nullopt on timeout (the child keeps running).
  std::optional<int> wait(std::chrono::milliseconds timeout);

  // The child's state and kernel stack from /proc, for a failure message
  // when it does not exit in time.
  std::string describe() const;

  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }

 private:
  // Reads what is available until the deadline; returns false if nothing more
  // can come (both pipes closed) or the deadline passed.
  bool pump(std::chrono::steady_clock::time_point deadline);

  pid_t pid_ = -1;
  int in_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::optional<int> status_;
  std::string out_;
  std::string err_;
  std::size_t scanned_ = 0;  // stdout offset after the last returned line
};

struct RunResult {
  int status = -1;  // exit status, 128 + signal, or -1 on timeout (killed)
  std::string out;
  std::string err;
};

// Runs argv to completion (killed after `timeout`), stdin closed.
RunResult run(std::vector<std::string> argv,
              std::chrono::milliseconds timeout = std::chrono::seconds(60));

// Why tracer tests cannot run here (not root, no tracefs, a tool missing), or
// nullopt if they can. Mounts tracefs at /sys/kernel/tracing if needed.
std::optional<std::string> tracingUnavailable(const std::vector<std::string>& tools = {});

// True when CI=true: a skipped tracer test must then fail.
bool inCi();

}  // namespace probemon::test

// Skips the test with the reason, or fails it under CI=true, when tracing is
// unavailable. Use at the top of a TEST body.
#define PROBEMON_REQUIRE_TRACING(...)                                                 \
  do {                                                                                \
    if (auto probemon_reason = ::probemon::test::tracingUnavailable({__VA_ARGS__})) { \
      if (::probemon::test::inCi()) {                                                 \
        FAIL() << "CI=true, so this tracer test may not skip: " << *probemon_reason;  \
      }                                                                               \
      GTEST_SKIP() << *probemon_reason;                                               \
    }                                                                                 \
  } while (0)
