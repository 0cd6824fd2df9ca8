// SPDX-License-Identifier: BSD-3-Clause
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
#include <sstream>
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
      // 1.5 s of waits: at least one interval report before the one at exit.
      // It is waited for, since bpftrace 0.17 drops output still buffered
      // when interrupted (a report due just before SIGINT was lost in CI).
      .before_stop =
          [](Subprocess& tracer) {
            ASSERT_TRUE(tracer.waitForLine(std::regex(R"(^\d\d:\d\d:\d\d$)"), 30s))
                << tracer.out();
            ASSERT_TRUE(tracer.waitForLine(std::regex(R"(^@usecs\[)"), 10s)) << tracer.out();
            ASSERT_TRUE(tracer.waitForLine(std::regex(R"(^\[)"), 10s)) << tracer.out();
          },
  });
  EXPECT_EQ(run.tracer_status, 0) << run.err;
  EXPECT_EQ(mapValues(run.out, "@count"), (Counts{{"test.tick", 60}})) << run.out;
  EXPECT_EQ(histCounts(run.out, "@usecs"), (Counts{{"test.tick", 60}})) << run.out;
}

TEST_P(ScriptTest, SlowwaitsPrintsEachSlowWaitWithItsStack) {
  PROBEMON_REQUIRE_TRACING("bpftrace");
  // "TIME TID MS KEY", then the user stack, one indented frame a line.
  const std::regex wait_line(R"(^\d\d:\d\d:\d\d (\d+) +(\d+)\.\d{3} (\S+)$)");
  const auto run = traceWorkload({
      // Lingering threads: bpftrace resolves a stack when it prints it.
      .workload = {GetParam(), "--plan", "test.slow:3:30", "--plan", "test.fast:30:0", "--threads",
                   "2", "--linger-ms", "2000"},
      .tracer = bpftraceScript("slowwaits.bt", {"15"}),
      .before_stop =
          [&](Subprocess& tracer) {
            for (int i = 0; i < 6; ++i) ASSERT_TRUE(tracer.waitForLine(wait_line, 10s)) << i;
          },
  });
  EXPECT_EQ(run.tracer_status, 0) << run.err;
  const std::regex frame_line(R"(^\s+\S)");
  Counts per_key;
  std::set<std::string> tids;
  int stacks = 0;
  std::istringstream lines(run.out);
  std::smatch m;
  for (std::string line, prev; std::getline(lines, line); prev = line) {
    if (std::regex_match(line, m, wait_line)) {
      ++per_key[m[3]];
      tids.insert(m[1]);
      EXPECT_GE(std::stoll(m[2]), 30) << line;
    } else if (std::regex_search(line, frame_line) && std::regex_match(prev, wait_line)) {
      ++stacks;
    }
  }
  EXPECT_EQ(per_key, (Counts{{"test.slow", 6}})) << run.out;
  EXPECT_EQ(tids.size(), 2u) << run.out;
  EXPECT_EQ(stacks, 6) << run.out;
  // The top frame is the probe site in the library.
  EXPECT_NE(run.out.find("WaitGuard::stopTimed"), std::string::npos) << run.out;
}

TEST_P(ScriptTest, InflightShowsAHeldWaitUntilItEnds) {
  PROBEMON_REQUIRE_TRACING("bpftrace");
  std::string held_tid;
  const auto run = traceWorkload({
      .workload = {GetParam(), "--hold", "test.stuck:1500", "--plan", "test.quick:20:1",
                   "--linger-ms", "3500"},
      .tracer = bpftraceScript("inflight.bt"),
      .while_running =
          [&](Subprocess& workload, Subprocess& tracer) {
            const auto hold = workload.waitForLine(std::regex("^hold key=test.stuck tid="), 10s);
            ASSERT_TRUE(hold) << workload.out();
            held_tid = hold->substr(hold->find("tid=") + 4);
            // Refreshes every second: the held wait shows up with its thread
            // and an age over the 100 ms threshold...
            const std::regex stuck("^" + held_tid + R"( +(\d+) test\.stuck$)");
            const auto line = tracer.waitForLine(stuck, 5s);
            ASSERT_TRUE(line) << tracer.out();
            std::smatch m;
            std::regex_match(*line, m, stuck);
            EXPECT_GE(std::stoll(m[1]), 100) << *line;
            EXPECT_LT(std::stoll(m[1]), 1500) << *line;
            // ...and a refresh after it ended lists nothing.
            const std::regex header_or_stuck(R"(waits open longer than|test\.stuck$)");
            bool block_has_stuck = true;
            for (;;) {
              const auto next = tracer.waitForLine(header_or_stuck, 5s);
              ASSERT_TRUE(next) << tracer.out();
              const bool header = next->find("waits open longer than") != std::string::npos;
              if (header && !block_has_stuck) break;
              block_has_stuck = !header;
            }
          },
  });
  EXPECT_EQ(run.tracer_status, 0) << run.err;
  EXPECT_FALSE(held_tid.empty());
  EXPECT_EQ(run.out.find("test.quick"), std::string::npos) << run.out;
}

TEST_P(ScriptTest, CountersShowsRegistrationsAndSampledValues) {
  PROBEMON_REQUIRE_TRACING("bpftrace");
  const std::regex event_line(R"(^\d\d:\d\d:\d\d (register|unregister) +(dynamic|wait) +(\S+)$)");
  const auto run = traceWorkload({
      // The sampler reads each DynamicCounter every 50 ms for the 400 ms linger.
      .workload = {"env", "PROBEMON_SAMPLE_MS=50", GetParam(), "--counter", "test.q=42",
                   "--counter", "test.neg=-7", "--plan", "test.w:3:0", "--linger-ms", "400"},
      .tracer = bpftraceScript("counters.bt"),
      .before_stop =
          [&](Subprocess& tracer) {
            for (int i = 0; i < 5; ++i) ASSERT_TRUE(tracer.waitForLine(event_line, 10s)) << i;
          },
  });
  EXPECT_EQ(run.tracer_status, 0) << run.err;
  std::multiset<std::string> events;
  std::istringstream lines(run.out);
  std::smatch m;
  for (std::string line; std::getline(lines, line);) {
    if (std::regex_match(line, m, event_line))
      events.insert(m.str(1) + " " + m.str(2) + " " + m.str(3));
  }
  EXPECT_EQ(events,
            (std::multiset<std::string>{"register dynamic test.q", "register dynamic test.neg",
                                        "register wait test.w", "unregister dynamic test.q",
                                        "unregister dynamic test.neg"}))
      << run.out;
  EXPECT_EQ(mapValues(run.out, "@value"), (Counts{{"test.q", 42}, {"test.neg", -7}})) << run.out;
  const auto samples = mapValues(run.out, "@samples");
  EXPECT_EQ(samples.size(), 2u) << run.out;
  for (const auto& [key, n] : samples) EXPECT_GE(n, 1) << key;
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
