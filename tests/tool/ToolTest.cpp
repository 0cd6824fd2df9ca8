// SPDX-License-Identifier: BSD-3-Clause
#include "ToolTest.h"

#include <gtest/gtest.h>

#include <bit>
#include <regex>

namespace probemon::test {

std::unique_ptr<Subprocess> startTool(const std::vector<std::string>& args) {
  // exec keeps the tool's pid the child's pid, so signals reach the tool.
  std::vector<std::string> argv = {"/bin/sh", "-c", "exec \"$0\" \"$@\" 2>&1", PROBEMON_TOOL};
  argv.insert(argv.end(), args.begin(), args.end());
  return std::make_unique<Subprocess>(argv);
}

bool waitAttached(Subprocess& tool) {
  return tool.waitForLine(std::regex("^Tracing probemon "), 20s).has_value();
}

std::unique_ptr<Subprocess> startWorkload(const std::string& binary,
                                          const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/bin/env", "PROBEMON_SAMPLE_MS=50", binary};
  argv.insert(argv.end(), args.begin(), args.end());
  auto workload = std::make_unique<Subprocess>(argv);
  EXPECT_TRUE(workload->waitForLine(std::regex("^ready pid="), 10s)) << workload->err();
  return workload;
}

std::string pidOf(const Subprocess& process) { return std::to_string(process.pid()); }

void sendGo(Subprocess& workload) {
  workload.writeStdin("go\n");
  EXPECT_TRUE(workload.waitForLine(std::regex("^go$"), 10s)) << workload.err();
}

std::string viewOfWorkload(const std::string& view, const std::string& binary,
                           const std::vector<std::string>& workload_args,
                           const std::vector<std::string>& tool_args) {
  auto workload = startWorkload(binary, workload_args);
  std::vector<std::string> args = {view, "-p", std::to_string(workload->pid())};
  args.insert(args.end(), tool_args.begin(), tool_args.end());
  auto tool = startTool(args);
  EXPECT_TRUE(waitAttached(*tool)) << tool->out();
  sendGo(*workload);
  EXPECT_EQ(workload->wait(60s), 0) << workload->err();
  EXPECT_EQ(tool->wait(30s), 0) << tool->out();
  return tool->out();
}

std::vector<nlohmann::json> jsonLines(const std::string& out) {
  std::vector<nlohmann::json> lines;
  std::size_t at = 0;
  while (at < out.size()) {
    std::size_t end = out.find('\n', at);
    if (end == std::string::npos) end = out.size();
    if (out[at] == '{') lines.push_back(nlohmann::json::parse(out.substr(at, end - at)));
    at = end + 1;
  }
  return lines;
}

int log2Slot(std::uint64_t duration_ns, std::uint64_t unit_ns) {
  const std::uint64_t v = duration_ns / unit_ns;
  return v == 0 ? 0 : static_cast<int>(std::bit_width(v)) - 1;
}

}  // namespace probemon::test
