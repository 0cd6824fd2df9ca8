// SPDX-License-Identifier: BSD-3-Clause
// scripts/perf-waits.sh run for real: exact counts in command mode (perf
// starts the workload, so nothing is missed) and in pid mode (the script
// says "Tracing" only once perf's events are enabled), bad input, and no
// probe left behind in tracefs.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <regex>
#include <sstream>
#include <string>

#include "Subprocess.h"
#include "UprobeEvents.h"

namespace probemon::test {
namespace {

using namespace std::chrono_literals;

const std::string kScript = std::string(SCRIPTS_DIR) + "/perf-waits.sh";

struct KeyRow {
  std::int64_t count = 0;
  double mean_us = 0;
  double max_us = 0;
};

// The "KEY COUNT MEAN_US MAX_US" table.
std::map<std::string, KeyRow> summary(const std::string& out) {
  const std::regex row(R"(^(\S+) +(\d+) +([\d.]+) +([\d.]+)$)");
  std::map<std::string, KeyRow> rows;
  std::istringstream in(out);
  std::smatch m;
  for (std::string line; std::getline(in, line);) {
    if (std::regex_match(line, m, row)) {
      rows[m[1]] = {std::stoll(m[2]), std::stod(m[3]), std::stod(m[4])};
    }
  }
  return rows;
}

void expectWorkloadSummary(const std::string& out) {
  const auto rows = summary(out);
  ASSERT_EQ(rows.size(), 2u) << out;
  EXPECT_EQ(rows.at("test.fast").count, 50) << out;
  EXPECT_EQ(rows.at("test.slow").count, 8) << out;
  EXPECT_GE(rows.at("test.slow").mean_us, 20000) << out;
  EXPECT_GE(rows.at("test.slow").max_us, rows.at("test.slow").mean_us) << out;
  // The histogram: all 8 slow waits in one 16-32 ms bucket or above.
  EXPECT_TRUE(std::regex_search(out, std::regex(R"(test\.slow \(usecs\)\n)"))) << out;
}

class PerfWaitsTest : public ::testing::TestWithParam<const char*> {};

INSTANTIATE_TEST_SUITE_P(Workloads, PerfWaitsTest, ::testing::Values(WORKLOAD, WORKLOAD_STATIC),
                         [](const auto& info) {
                           return std::string(info.param) == WORKLOAD ? "shared" : "static";
                         });

TEST_P(PerfWaitsTest, CommandModeCountsEveryWait) {
  PROBEMON_REQUIRE_TRACING("perf", "readelf");
  const auto r = run({kScript, "--", GetParam(), "--plan", "test.fast:25:0", "--plan",
                      "test.slow:4:20", "--threads", "2"},
                     120s);
  EXPECT_EQ(r.status, 0) << r.err;
  expectWorkloadSummary(r.out);
  EXPECT_EQ(probemonUprobeEvents(), "");
}

TEST_P(PerfWaitsTest, PidModeCountsEveryWaitAndStopsOnCtrlC) {
  PROBEMON_REQUIRE_TRACING("perf", "readelf");
  Subprocess workload({GetParam(), "--plan", "test.fast:25:0", "--plan", "test.slow:4:20",
                       "--threads", "2", "--await-go", "--await-detach"});
  Subprocess script({kScript, "-p", std::to_string(workload.pid()), "-d", "120"});
  ASSERT_TRUE(script.waitForLine(std::regex("^Tracing probemon waits in pid"), 60s))
      << script.err();
  workload.writeStdin("go\n");
  ASSERT_TRUE(workload.waitForLine(std::regex("^done$"), 60s)) << workload.err();
  script.signal(SIGINT);
  EXPECT_EQ(script.wait(60s), 0) << script.err();
  expectWorkloadSummary(script.out());
  EXPECT_TRUE(workload.waitForLine(std::regex("^detached$"), 30s)) << workload.err();
  EXPECT_EQ(probemonUprobeEvents(), "");
}

TEST(PerfWaitsErrors, BadInputGetsAClearErrorAndNonZeroExit) {
  PROBEMON_REQUIRE_TRACING("perf", "readelf");
  struct Case {
    std::vector<std::string> args;
    int status;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{}, 2, "usage: perf-waits.sh -p PID"},
      {{"-p"}, 2, "-p needs a value"},
      {{"-p", "abc"}, 1, "-p wants a process id, not 'abc'"},
      {{"-p", "999999999"}, 1, "no process with pid 999999999"},
      {{"-p", std::to_string(::getpid())}, 1, "no probemon probes in process"},
      {{"-p", "1", "-d", "0"}, 1, "-d wants a whole number of seconds"},
      {{"-p", "1", "--", "true"}, 2, "usage:"},
      {{"--", "/bin/true"}, 1, "no probemon probes in /bin/true"},
      {{"--", "no-such-command-probemon"}, 1, "command not found: no-such-command-probemon"},
  };
  for (const auto& c : cases) {
    auto argv = c.args;
    argv.insert(argv.begin(), kScript);
    const auto r = run(argv, 30s);
    EXPECT_EQ(r.status, c.status) << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
  }
  EXPECT_EQ(probemonUprobeEvents(), "");
}

TEST(PerfWaitsErrors, NotRootIsRefused) {
  PROBEMON_REQUIRE_TRACING("perf", "setpriv");
  const auto r =
      run({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", kScript, "-p", "1"}, 30s);
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("must run as root"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace probemon::test
