// SPDX-License-Identifier: BSD-3-Clause
// What the tool's benchmarks share: the probemon tool run as a child process
// (stdout to /dev/null, stderr read until it says it has attached), and
// medians of timed loops.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace probemon::bench {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> values);

// ns per call of `body`, over `iterations` calls.
template <typename Body>
double nsPerIteration(long iterations, Body body) {
  const auto start = Clock::now();
  for (long i = 0; i < iterations; ++i) body();
  return std::chrono::duration<double, std::nano>(Clock::now() - start).count() /
         static_cast<double>(iterations);
}

class ToolProcess {
 public:
  // Starts `args` (args[0]: the tool's path). Throws std::runtime_error.
  explicit ToolProcess(const std::vector<std::string>& args);
  ~ToolProcess();
  ToolProcess(const ToolProcess&) = delete;
  ToolProcess& operator=(const ToolProcess&) = delete;

  // Milliseconds from spawn to the "Tracing" line.
  double waitAttached();
  // Its stderr so far.
  const std::string& stderrText() const { return seen_; }
  pid_t pid() const { return pid_; }
  // Stops it (signal 0: let it end by itself) and returns its CPU seconds.
  double finish(int signo);

 private:
  pid_t pid_ = -1;
  int err_ = -1;
  Clock::time_point started_;
  std::string seen_;
};

}  // namespace probemon::bench
