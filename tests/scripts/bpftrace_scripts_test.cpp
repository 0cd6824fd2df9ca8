// The bpftrace scripts in scripts/, run for real against the test workload
// (exact counts, probes in libprobemon.so and in a static executable) and the
// demo (expected keys).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "BpftraceOutput.h"
#include "Subprocess.h"
#include "TracedWorkload.h"

namespace probemon::test {
namespace {

using namespace std::chrono_literals;
using Counts = std::map<std::string, std::int64_t>;

// bpftrace -p PID scripts/SCRIPT ARGS...
std::function<std::vector<std::string>(pid_t)> bpftraceScript(std::string script,
                                                              std::vector<std::string> args = {}) {
  return [script, args](pid_t pid) {
    std::vector<std::string> argv = {"bpftrace", "-p", std::to_string(pid),
                                     std::string(SCRIPTS_DIR) + "/" + script};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  };
}

// Both builds of the workload: probes in libprobemon.so, and in the executable.
class ScriptTest : public ::testing::TestWithParam<const char*> {};

INSTANTIATE_TEST_SUITE_P(Workloads, ScriptTest, ::testing::Values(WORKLOAD, WORKLOAD_STATIC),
                         [](const auto& info) {
                           return std::string(info.param) == WORKLOAD ? "shared" : "static";
                         });

TEST_P(ScriptTest, WaitlatCountsEveryWaitPerKey) {
  PROBEMON_REQUIRE_TRACING("bpftrace");
  const auto run = traceWorkload({
      .workload = {GetParam(), "--plan", "test.fast:25:0", "--plan", "test.slow:4:20", "--threads",
                   "2"},
      .tracer = bpftraceScript("waitlat.bt"),
  });
  EXPECT_EQ(run.tracer_status, 0) << run.err;
  const Counts expected{{"test.fast", 50}, {"test.slow", 8}};
  EXPECT_EQ(mapValues(run.out, "@count"), expected) << run.out;
  EXPECT_EQ(histCounts(run.out, "@usecs"), expected) << run.out;
  // Microseconds: every 20 ms wait lands at or above the [16K, 32K) bucket.
  const auto hists = histograms(run.out, "@usecs");
  ASSERT_TRUE(hists.contains("test.slow")) << run.out;
  for (const auto& [lo, count] : hists.at("test.slow")) {
    EXPECT_GE(lo, 16 * 1024) << run.out;
  }
}

TEST_P(ScriptTest, WaitlatIntervalReportsAddUpToEveryWait) {
  PROBEMON_REQUIRE_TRACING("bpftrace");
  const auto run = traceWorkload({
      .workload = {GetParam(), "--plan", "test.tick:60:25"},
      .tracer = bpftraceScript("waitlat.bt", {"1"}),
  });
  EXPECT_EQ(run.tracer_status, 0) << run.err;
  // 1.5 s of waits: at least one interval report before the one at exit.
  EXPECT_TRUE(std::regex_search(run.out, std::regex(R"(\n\d\d:\d\d:\d\d\n)"))) << run.out;
  EXPECT_EQ(mapValues(run.out, "@count"), (Counts{{"test.tick", 60}})) << run.out;
  EXPECT_EQ(histCounts(run.out, "@usecs"), (Counts{{"test.tick", 60}})) << run.out;
}

#ifdef DEMO
TEST(DemoTest, WaitlatShowsEveryDemoKey) {
  PROBEMON_REQUIRE_TRACING("bpftrace");
  const std::set<std::string> keys = {
      "demo.wait_counter.dataloader.next", "demo.wait_counter.dataloader.produce",
      "demo.wait_counter.allreduce", "demo.wait_counter.optimizer.step",
      "demo.wait_counter.checkpoint.save"};
  Subprocess demo({DEMO, "--seconds", "0"});
  Subprocess tracer(bpftraceScript("waitlat.bt", {"1"})(demo.pid()));
  ASSERT_TRUE(tracer.waitForLine(std::regex("^Tracing "), 60s)) << tracer.err();
  // Interval reports until every key has shown up (checkpoints come every 2 s).
  std::set<std::string> seen;
  const std::regex count_line(R"(^@count\[(.*)\]: \d+$)");
  while (seen != keys) {
    const auto line = tracer.waitForLine(count_line, 20s);
    ASSERT_TRUE(line) << "keys seen: " << seen.size() << "\n" << tracer.out();
    std::smatch m;
    std::regex_match(*line, m, count_line);
    seen.insert(m[1]);
  }
  tracer.signal(SIGINT);
  EXPECT_EQ(tracer.wait(60s), 0) << tracer.err();
  for (const auto& [key, hist] : histograms(tracer.out(), "@usecs")) {
    EXPECT_TRUE(keys.contains(key)) << key;
  }
  demo.signal(SIGINT);
  EXPECT_EQ(demo.wait(30s), 0) << demo.err();
}
#endif

}  // namespace
}  // namespace probemon::test
