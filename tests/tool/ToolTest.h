// SPDX-License-Identifier: BSD-3-Clause
// Helpers for the tests of the probemon tool: start the tool and the test
// workload, hand over between them, read JSON output.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "Subprocess.h"

namespace probemon::test {

using namespace std::chrono_literals;

// Starts `probemon ARGS...` with stderr merged into stdout, so a test can
// wait for the "Tracing ..." line (stderr) among the results (stdout).
std::unique_ptr<Subprocess> startTool(const std::vector<std::string>& args);

// Waits for the tool's "Tracing ..." line: every probe is attached.
bool waitAttached(Subprocess& tool);

// Starts a workload binary (PROBEMON_SAMPLE_MS=50 in its environment) and
// returns it once it printed "ready pid=N".
std::unique_ptr<Subprocess> startWorkload(const std::string& binary,
                                          const std::vector<std::string>& args);

// Lets a workload started with --await-go run.
void sendGo(Subprocess& workload);

// The pid of `process`, as the tool's -p takes it.
std::string pidOf(const Subprocess& process);

// Runs `probemon VIEW -p PID TOOL_ARGS...` on a workload started with
// `workload_args` (which hold --await-go) from attach until the workload
// exits and with it the tool, both with status 0; returns the tool's
// output, stderr merged.
std::string viewOfWorkload(const std::string& view, const std::string& binary,
                           const std::vector<std::string>& workload_args,
                           const std::vector<std::string>& tool_args);

// Every stdout line that is a JSON object, parsed.
std::vector<nlohmann::json> jsonLines(const std::string& out);

// The log2 slot a duration lands in with `unit_ns` per unit, as bcc's tools.
int log2Slot(std::uint64_t duration_ns, std::uint64_t unit_ns);

}  // namespace probemon::test
