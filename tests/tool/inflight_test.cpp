// SPDX-License-Identifier: BSD-3-Clause
// probemon inflight never lies: on a target doing back-to-back short waits,
// attaching and detaching lists no wait that is not open and counts no drop
// that did not happen, run after run; a held wait is listed exactly once, with
// its thread and an age it can have had, also in a time namespace whose clock
// is offset from the host's; and a wait left open by an image that exec'd is
// gone with that image.
#include <gtest/gtest.h>

#include <time.h>

#include <chrono>
#include <csignal>
#include <regex>

#include "ToolTest.h"

namespace probemon::test {
namespace {

// The pid the workload printed in its "ready pid=N" line (under unshare, the
// workload is a child of the process started).
std::string readyPid(const Subprocess& workload) {
  std::smatch ready;
  const std::string& out = workload.out();
  if (!std::regex_search(out, ready, std::regex("ready pid=(\\d+)"))) return "";
  return ready[1];
}

std::uint64_t dropsOf(const nlohmann::json& refresh) {
  std::uint64_t sum = 0;
  for (const auto& [name, count] : refresh["dropped"].items()) sum += count.get<std::uint64_t>();
  return sum;
}

// One thread doing waits of 50 us back to back while inflight attaches,
// refreshes and detaches, ten times: nothing is ever listed (no wait is open
// 100 ms) and nothing is dropped. Attaching wait__start before wait__done,
// or detaching wait__done first, leaves waits whose end was not seen (listed
// for ever) or counts as lost the ends of waits whose start was not seen.
TEST(InflightExactTest, ABusyTargetShowsNoPhantomWaitsAndNoDropsRunAfterRun) {
  PROBEMON_REQUIRE_TRACING();
  auto workload = startWorkload(WORKLOAD, {"--busy", "inflight.busy:50", "--await-go"});
  for (int run = 0; run < 10; ++run) {
    auto tool = startTool({"inflight", "-p", pidOf(*workload), "--min-ms", "100", "--interval",
                           "0.05", "--duration", "0.5", "--json"});
    ASSERT_EQ(tool->wait(30s), 0) << tool->out();
    const auto refreshes = jsonLines(tool->out());
    ASSERT_GE(refreshes.size(), 2U) << tool->out();
    for (const auto& refresh : refreshes) {
      EXPECT_TRUE(refresh["waits"].empty()) << "run " << run << ": " << refresh.dump();
      EXPECT_EQ(dropsOf(refresh), 0U) << "run " << run << ": " << refresh.dump();
    }
  }
  sendGo(*workload);
  EXPECT_EQ(workload->wait(30s), 0) << workload->err();
}

// Reads the inflight refresh that lists `key` while `workload` holds a wait
// on it: exactly that wait, on its thread, no younger than --min-ms and no
// older than the time since the test let the workload open it.
void expectTheHeldWaitAlone(Subprocess& workload, const std::string& pid, const std::string& key) {
  auto tool = startTool({"inflight", "-p", pid, "--min-ms", "300", "--interval", "0.1", "--json"});
  ASSERT_TRUE(waitAttached(*tool)) << tool->out();
  const auto go = std::chrono::steady_clock::now();
  sendGo(workload);
  const auto hold = workload.waitForLine(std::regex("^hold key=" + key + " tid=\\d+$"), 10s);
  ASSERT_TRUE(hold) << workload.out();
  const std::string tid = hold->substr(hold->find("tid=") + 4);
  const auto line = tool->waitForLine(std::regex("\"key\":\"" + key + "\""), 10s);
  const auto since_go = std::chrono::steady_clock::now() - go;
  ASSERT_TRUE(line) << tool->out();
  const auto refresh = nlohmann::json::parse(*line);
  ASSERT_EQ(refresh["waits"].size(), 1U) << *line;
  const auto& wait = refresh["waits"][0];
  EXPECT_EQ(wait["tid"], std::stoi(tid));
  EXPECT_EQ(wait["pid"], std::stoi(pid));
  EXPECT_GE(wait["age_ns"].get<std::uint64_t>(), 300'000'000U) << *line;
  EXPECT_LE(wait["age_ns"].get<std::uint64_t>(),
            static_cast<std::uint64_t>(std::chrono::nanoseconds(since_go).count()))
      << *line;
  EXPECT_EQ(dropsOf(refresh), 0U) << *line;
  tool->signal(SIGINT);
  EXPECT_EQ(tool->wait(10s), 0) << tool->out();
}

TEST(InflightExactTest, AHeldWaitOnABusyTargetIsListedAloneWithItsThreadAndAge) {
  PROBEMON_REQUIRE_TRACING();
  auto workload = startWorkload(
      WORKLOAD, {"--busy", "inflight.busy:50", "--await-go", "--hold", "inflight.stuck:2000"});
  expectTheHeldWaitAlone(*workload, pidOf(*workload), "inflight.stuck");
  EXPECT_EQ(workload->wait(30s), 0) << workload->err();
}

// A target whose CLOCK_MONOTONIC is offset from the host's (a container with
// its own time namespace): its waits' start times are read in its clock, so
// ages are computed in it too. Offset forward, the held wait used to be
// never listed; offset back, every short wait was listed as stuck.
class TimeNamespaceTest : public ::testing::TestWithParam<int> {};

TEST_P(TimeNamespaceTest, AgesAreRightWhateverTheTargetsClockOffset) {
  PROBEMON_REQUIRE_TRACING({"unshare"});
  // Back by at most half the host's clock: a namespace's clock cannot be
  // negative.
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  const long offset_s = GetParam() > 0 ? 100000 : -std::min<long>(now.tv_sec / 2, 1000);
  auto workload =
      startWorkload("/usr/bin/unshare",
                    {"--time", "--monotonic=" + std::to_string(offset_s), "--fork", WORKLOAD,
                     "--busy", "inflight.busy:50", "--await-go", "--hold", "inflight.stuck:2000"});
  const std::string pid = readyPid(*workload);
  ASSERT_FALSE(pid.empty()) << workload->out();
  ASSERT_NE(pid, pidOf(*workload));
  expectTheHeldWaitAlone(*workload, pid, "inflight.stuck");
  EXPECT_EQ(workload->wait(30s), 0) << workload->err();
}

INSTANTIATE_TEST_SUITE_P(Offsets, TimeNamespaceTest, ::testing::Values(1, -1),
                         [](const auto& info) {
                           return std::string(info.param > 0 ? "Ahead" : "Behind");
                         });

// A wait left open when the process executes a new image is gone with the
// image: listed before the exec, never after, and not counted as dropped.
TEST(InflightExactTest, AWaitLeftOpenByAnImageThatExecdIsNoLongerListed) {
  PROBEMON_REQUIRE_TRACING();
  auto workload =
      startWorkload(WORKLOAD, {"--await-go", "--plan", "inflight.warm:3:0", "--leave-open",
                               "inflight.old", "--exec=--hold inflight.new:1500"});
  auto tool = startTool(
      {"inflight", "-p", pidOf(*workload), "--min-ms", "100", "--interval", "0.05", "--json"});
  ASSERT_TRUE(waitAttached(*tool)) << tool->out();
  sendGo(*workload);
  ASSERT_TRUE(workload->waitForLine(std::regex("^exec$"), 10s)) << workload->out();
  ASSERT_TRUE(tool->waitForLine(std::regex("\"key\":\"inflight.old\""), 10s)) << tool->out();
  workload->writeStdin("exec\n");
  ASSERT_TRUE(workload->waitForLine(std::regex("^hold key=inflight.new "), 10s)) << workload->out();
  const auto line = tool->waitForLine(std::regex("\"key\":\"inflight.new\""), 10s);
  ASSERT_TRUE(line) << tool->out();
  const auto refresh = nlohmann::json::parse(*line);
  ASSERT_EQ(refresh["waits"].size(), 1U) << *line;
  EXPECT_EQ(refresh["waits"][0]["generation"], 1) << *line;
  EXPECT_EQ(dropsOf(refresh), 0U) << *line;
  EXPECT_EQ(workload->wait(10s), 0) << workload->err();
  EXPECT_EQ(tool->wait(10s), 0) << tool->out();  // the target exited
}

}  // namespace
}  // namespace probemon::test
