// SPDX-License-Identifier: BSD-3-Clause
// The manual perf steps of docs/perf.md, read from the markdown
// (<!-- perf-step: NAME --> blocks) and run with APP (the object holding the
// probes) and CMD (the workload) set: exact counts from perf stat, and every
// wait with its key string from perf record.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <regex>
#include <sstream>
#include <string>

#include "DocBlocks.h"
#include "Subprocess.h"
#include "UprobeEvents.h"

namespace probemon::test {
namespace {

using namespace std::chrono_literals;
using Counts = std::map<std::string, std::int64_t>;

struct Build {
  const char* name;
  const char* app;  // the object with the probes
  const char* workload;
};

class PerfDocTest : public ::testing::TestWithParam<Build> {
 protected:
  // Runs the block marked `step` under bash -euo pipefail.
  RunResult runStep(const std::string& step) {
    std::string block;
    for (const auto& [name, text] :
         markedCodeBlocks(std::string(DOCS_DIR) + "/perf.md", "perf-step")) {
      if (name == step) block = text;
    }
    EXPECT_FALSE(block.empty()) << "no perf-step " << step << " in docs/perf.md";
    const std::string cmd = std::string(GetParam().workload) +
                            " --plan test.a:10:1 --plan test.b:3:20 --threads 2 --counter test.q=1";
    return run({"env", std::string("APP=") + GetParam().app, "CMD=" + cmd, "bash", "-euo",
                "pipefail", "-c", block},
               120s);
  }
};

INSTANTIATE_TEST_SUITE_P(Builds, PerfDocTest,
                         ::testing::Values(Build{"shared", LIBPROBEMON, WORKLOAD},
                                           Build{"static", WORKLOAD_STATIC, WORKLOAD_STATIC}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST_P(PerfDocTest, StatCountsEveryProbeExactly) {
  PROBEMON_REQUIRE_TRACING("perf");
  ASSERT_EQ(probemonUprobeEvents(), "");
  const auto r = runStep("stat");
  EXPECT_EQ(r.status, 0) << r.err;
  Counts counts;
  const std::regex line(R"(^ *(\d+) +sdt_probemon:(\w+))");
  std::istringstream in(r.err);
  std::smatch m;
  for (std::string text; std::getline(in, text);) {
    if (std::regex_search(text, m, line)) counts[m[2]] = std::stoll(m[1]);
  }
  // wait__batch: the two threads' batches as they exit, and the flusher's
  // empty batches that end its sweeps, one per 50 ms: at least 2, how many
  // more depends on time.
  EXPECT_GE(counts["wait__batch"], 2) << r.err;
  counts.erase("wait__batch");
  // 2 threads x (10 + 3) waits; keys test.a and test.b and the DynamicCounter
  // test.q registered; test.q destroyed; no sampling in so short a run.
  EXPECT_EQ(counts, (Counts{{"wait__start", 26},
                            {"wait__done", 26},
                            {"counter__register", 3},
                            {"counter__unregister", 1},
                            {"dynamic__value", 0}}))
      << r.err;
  EXPECT_EQ(probemonUprobeEvents(), "");
}

TEST_P(PerfDocTest, RecordPrintsEveryWaitWithItsKey) {
  PROBEMON_REQUIRE_TRACING("perf");
  ASSERT_EQ(probemonUprobeEvents(), "");
  const auto r = runStep("record-key");
  EXPECT_EQ(r.status, 0) << r.err;
  Counts counts;
  const std::regex line(R"re(sdt_probemon:wait__done: .*key="([^"]*)" .* duration_ns=(\d+)$)re");
  std::istringstream in(r.out);
  std::smatch m;
  for (std::string text; std::getline(in, text);) {
    if (!std::regex_search(text, m, line)) continue;
    ++counts[m[1]];
    if (m[1] == "test.b") {
      EXPECT_GE(std::stoll(m[2]), 20'000'000) << text;
    }
  }
  EXPECT_EQ(counts, (Counts{{"test.a", 20}, {"test.b", 6}})) << r.out;
  EXPECT_EQ(probemonUprobeEvents(), "");
}

}  // namespace
}  // namespace probemon::test
