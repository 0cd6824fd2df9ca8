// SPDX-License-Identifier: BSD-3-Clause
// Being traced never hurts the target: with `probemon counters` attached (so
// the library's sampler reads every DynamicCounter), a callback that builds a
// DynamicCounter or blocks stalls nothing else, and a forked child samples
// the counters it inherited. Each ran into a deadlock or silence before.
#include <gtest/gtest.h>

#include <csignal>
#include <map>
#include <regex>

#include "ToolTest.h"

namespace probemon::test {
namespace {

// The counters of the tool's last refresh (the one after detach), by key.
std::map<std::string, nlohmann::json> lastCounters(const Subprocess& tool) {
  const auto refreshes = jsonLines(tool.out());
  std::map<std::string, nlohmann::json> by_key;
  if (refreshes.empty()) return by_key;
  for (const auto& c : refreshes.back()["counters"]) by_key[c["key"]] = c;
  return by_key;
}

// Runs `counters` on the workload `pid` until the workload is done, then
// stops the tool and returns it.
std::unique_ptr<Subprocess> countersUntilDone(Subprocess& workload, const std::string& pid) {
  auto tool = startTool({"counters", "-p", pid, "--interval", "0.1", "--json"});
  EXPECT_TRUE(waitAttached(*tool)) << tool->out();
  sendGo(workload);
  EXPECT_TRUE(workload.waitForLine(std::regex("^done$"), 30s))
      << "the target hung while traced\n"
      << workload.describe() << workload.err();
  tool->signal(SIGINT);
  EXPECT_EQ(tool->wait(10s), 0) << tool->out();
  EXPECT_TRUE(workload.waitForLine(std::regex("^detached$"), 10s)) << workload.err();
  EXPECT_EQ(workload.wait(10s), 0) << workload.err();
  return tool;
}

// The sampler reads the outer counter while traced; its callback builds and
// destroys another counter, which needs the registry the sampler used to
// hold a lock of across the call.
TEST(TracedTarget, ACallbackMayBuildADynamicCounter) {
  PROBEMON_REQUIRE_TRACING();
  auto workload = startWorkload(WORKLOAD, {"--await-go", "--nesting-counter", "nest.outer=3",
                                           "--linger-ms", "1000", "--await-detach"});
  const auto tool = countersUntilDone(*workload, std::to_string(workload->pid()));
  auto counters = lastCounters(*tool);
  ASSERT_EQ(counters.size(), 2U) << tool->out();
  const auto& outer = counters["nest.outer"];
  const auto& inner = counters["nest.outer.inner"];
  EXPECT_EQ(outer["value"], 3);
  EXPECT_GE(outer["samples"].get<std::uint64_t>(), 1U);
  EXPECT_EQ(outer["registered"], 1);
  EXPECT_EQ(outer["unregistered"], 1);
  // One inner counter built and destroyed per read of the outer one.
  EXPECT_EQ(inner["kind"], "dynamic");
  EXPECT_EQ(inner["registered"], outer["samples"]);
  EXPECT_EQ(inner["unregistered"], outer["samples"]);
}

// While the sampler is inside a callback that does not return, the program
// builds and destroys another counter; only then does the callback return.
TEST(TracedTarget, ABlockedCallbackDoesNotStallOtherCounters) {
  PROBEMON_REQUIRE_TRACING();
  auto workload =
      startWorkload(WORKLOAD, {"--await-go", "--blocking-counter", "block.slow", "--await-detach"});
  const auto tool = countersUntilDone(*workload, std::to_string(workload->pid()));
  EXPECT_NE(workload->out().find("built block.slow.other while block.slow was read\n"),
            std::string::npos)
      << workload->out();
  auto counters = lastCounters(*tool);
  EXPECT_EQ(counters["block.slow.other"]["registered"], 1) << tool->out();
  EXPECT_EQ(counters["block.slow.other"]["unregistered"], 1) << tool->out();
  EXPECT_GE(counters["block.slow"]["samples"].get<std::uint64_t>(), 1U) << tool->out();
}

// The parent builds the counter, forks, and the child is traced: its sampler
// must run in the child, and destroying the inherited counter must return.
TEST(TracedTarget, AForkedChildSamplesTheCountersItInherited) {
  PROBEMON_REQUIRE_TRACING();
  auto workload = startWorkload(WORKLOAD, {"--fork", "--await-go", "--counter", "fork.gauge=17",
                                           "--linger-ms", "1000", "--await-detach"});
  std::smatch ready;
  const std::string& out = workload->out();
  ASSERT_TRUE(std::regex_search(out, ready, std::regex("ready pid=(\\d+)"))) << out;
  const std::string child = ready[1];
  ASSERT_NE(child, std::to_string(workload->pid()));
  const auto tool = countersUntilDone(*workload, child);
  auto counters = lastCounters(*tool);
  ASSERT_EQ(counters.size(), 1U) << tool->out();
  const auto& gauge = counters["fork.gauge"];
  EXPECT_EQ(gauge["pid"], std::stoi(child));
  EXPECT_EQ(gauge["value"], 17);
  EXPECT_GE(gauge["samples"].get<std::uint64_t>(), 1U);
  EXPECT_EQ(gauge["registered"], 0);  // built before the tool attached
  EXPECT_EQ(gauge["unregistered"], 1);
}

}  // namespace
}  // namespace probemon::test
