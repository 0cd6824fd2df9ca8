// SPDX-License-Identifier: BSD-3-Clause
#include "TracedWorkload.h"

#include <signal.h>

#include <chrono>
#include <stdexcept>

namespace probemon::test {
namespace {

using namespace std::chrono_literals;

[[noreturn]] void fail(const std::string& what, const Subprocess& workload,
                       const Subprocess& tracer) {
  throw std::runtime_error(what + "\n--- tracer stdout:\n" + tracer.out() +
                           "\n--- tracer stderr:\n" + tracer.err() + "\n--- workload stdout:\n" +
                           workload.out() + "\n--- workload stderr:\n" + workload.err());
}

}  // namespace

TracedRun traceWorkload(const TraceOptions& options) {
  auto argv = options.workload;
  argv.insert(argv.end(), {"--await-go", "--await-detach"});
  Subprocess workload(argv);
  Subprocess tracer(options.tracer(workload.pid()));
  if (!tracer.waitForLine(options.ready, 60s)) {
    fail("the tracer did not print its ready line", workload, tracer);
  }
  workload.writeStdin("go\n");
  if (!workload.waitForLine(std::regex("^go$"), 10s)) {
    fail("the workload did not start", workload, tracer);
  }
  if (options.while_running) options.while_running(workload, tracer);
  if (!workload.waitForLine(std::regex("^done$"), 60s)) {
    fail("the workload did not finish", workload, tracer);
  }
  if (options.before_stop) options.before_stop(tracer);
  // bpftrace 0.17 now and then misses a SIGINT that lands while it prints a
  // stack and keeps waiting for events; a second one, like a second Ctrl-C,
  // gets it out.
  tracer.signal(SIGINT);
  auto status = tracer.wait(5s);
  if (!status) {
    tracer.signal(SIGINT);
    status = tracer.wait(60s);
  }
  if (!status) fail("the tracer did not exit on SIGINT: " + tracer.describe(), workload, tracer);
  if (!workload.waitForLine(std::regex("^detached$"), 30s)) {
    fail("the workload's semaphores did not return to 0 after the tracer exited with status " +
             std::to_string(*status),
         workload, tracer);
  }
  if (workload.wait(10s) != 0) fail("the workload failed", workload, tracer);
  return {*status, tracer.out(), tracer.err(), workload.out()};
}

}  // namespace probemon::test
