// SPDX-License-Identifier: BSD-3-Clause
// Runs a tracer against probemon-test-workload without losing an event: the
// workload waits (--await-go) until the tracer has printed its ready line,
// which bpftrace's BEGIN prints only after every probe is attached; then the
// tracer is stopped with SIGINT and the workload must see every probemon
// semaphore back at 0 (--await-detach).
#pragma once

#include <sys/types.h>

#include <functional>
#include <regex>
#include <string>
#include <vector>

#include "Subprocess.h"

namespace probemon::test {

struct TracedRun {
  int tracer_status = -1;
  std::string out;  // the tracer's stdout
  std::string err;  // the tracer's stderr
  std::string workload_out;
};

struct TraceOptions {
  // The workload's argv (it may start with env VAR=VALUE), without
  // --await-go and --await-detach, which are appended.
  std::vector<std::string> workload{};
  // The tracer's argv for the workload's pid.
  std::function<std::vector<std::string>(pid_t)> tracer{};
  // The tracer's line that says every probe is attached.
  std::regex ready{"^Tracing "};
  // Runs after "go", while the workload runs (e.g. to watch a held wait).
  std::function<void(Subprocess& workload, Subprocess& tracer)> while_running{};
  // Runs after the workload is done, before SIGINT: bpftrace 0.17 drops
  // printf events still in its buffer when interrupted, so a test of a
  // streaming script waits here for the lines it expects.
  std::function<void(Subprocess& tracer)> before_stop{};
};

// Throws std::runtime_error, with the tracer's stderr, if a step times out.
TracedRun traceWorkload(const TraceOptions& options);

}  // namespace probemon::test
