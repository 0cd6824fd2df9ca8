// SPDX-License-Identifier: BSD-3-Clause
// probemon under stress and at the edges: 10,000 keys and full maps, keys
// longer than the BPF read limit, --path catching a process started later,
// an output reader that leaves early, clean detach on Ctrl-C and SIGTERM from
// every view.
#include <gtest/gtest.h>

#include <csignal>
#include <regex>

#include "ToolTest.h"

namespace probemon::test {
namespace {

// One wait on each of `n` distinct keys.
std::vector<std::string> manyKeys(int n) {
  std::vector<std::string> args = {"--await-go"};
  for (int i = 0; i < n; ++i) {
    args.push_back("--plan");
    args.push_back("many." + std::to_string(i) + ":1:0");
  }
  return args;
}

nlohmann::json histOf(const std::string& binary, const std::vector<std::string>& workload_args,
                      const std::vector<std::string>& tool_args) {
  const auto docs = jsonLines(viewOfWorkload("hist", binary, workload_args, tool_args));
  return docs.empty() ? nlohmann::json() : docs.back();
}

TEST(ManyKeysTest, TenThousandKeysAllCountedWithRoomForThem) {
  PROBEMON_REQUIRE_TRACING();
  const auto doc = histOf(WORKLOAD, manyKeys(10000), {"--json", "--max-keys", "10000"});
  ASSERT_EQ(doc["keys"].size(), 10000U);
  std::set<std::string> names;
  for (const auto& key : doc["keys"]) {
    EXPECT_EQ(key["count"], 1);
    names.insert(key["key"]);
  }
  EXPECT_EQ(names.size(), 10000U);
  EXPECT_EQ(doc["dropped"],
            (nlohmann::json{{"waits", 0}, {"batches", 0}, {"names", 0}, {"images", 0}, {"missed", 0}}));
}

TEST(ManyKeysTest, WaitsPastMaxKeysAreCountedAsDropped) {
  PROBEMON_REQUIRE_TRACING();
  for (const auto& [max_keys, kept] : {std::pair{"", 4096}, std::pair{"1000", 1000}}) {
    std::vector<std::string> args = {"--json"};
    if (*max_keys != '\0') args.insert(args.end(), {"--max-keys", max_keys});
    const auto doc = histOf(WORKLOAD, manyKeys(10000), args);
    ASSERT_EQ(doc["keys"].size(), static_cast<std::size_t>(kept));
    std::uint64_t counted = 0;
    for (const auto& key : doc["keys"]) counted += key["count"].get<std::uint64_t>();
    EXPECT_EQ(counted, static_cast<std::uint64_t>(kept));
    EXPECT_EQ(doc["dropped"]["waits"], 10000 - kept);
    EXPECT_EQ(doc["dropped"]["names"], 0);  // only kept keys need a name
  }
}

TEST(ManyKeysTest, DropsAreReportedInText) {
  PROBEMON_REQUIRE_TRACING();
  auto workload = startWorkload(WORKLOAD, manyKeys(50));
  auto tool = startTool({"hist", "-p", pidOf(*workload), "--max-keys", "20"});
  ASSERT_TRUE(waitAttached(*tool)) << tool->out();
  sendGo(*workload);
  ASSERT_EQ(workload->wait(30s), 0);
  ASSERT_EQ(tool->wait(10s), 0);
  EXPECT_NE(tool->out().find("dropped: 30 waits not counted: more keys than --max-keys 20\n"),
            std::string::npos)
      << tool->out();
}

TEST(LongKeyTest, KeysLongerThanTheReadLimitAreCutAndMarked) {
  PROBEMON_REQUIRE_TRACING();
  const std::string fits(127, 'f');  // with its NUL, exactly the 128-byte buffer
  const std::string cut(300, 'c');
  const auto doc = histOf(
      WORKLOAD_STATIC, {"--await-go", "--plan", fits + ":2:0", "--plan", cut + ":3:0"}, {"--json"});
  ASSERT_EQ(doc["keys"].size(), 2U) << doc.dump();
  for (const auto& key : doc["keys"]) {
    if (key["count"] == 2) {
      EXPECT_EQ(key["key"], fits);
      EXPECT_EQ(key["truncated"], false);
    } else {
      EXPECT_EQ(key["count"], 3);
      EXPECT_EQ(key["key"], cut.substr(0, 127));
      EXPECT_EQ(key["truncated"], true);
    }
  }
}

class PathTest : public ::testing::TestWithParam<std::pair<const char*, const char*>> {};

TEST_P(PathTest, CatchesAProcessStartedAfterTheTool) {
  PROBEMON_REQUIRE_TRACING();
  const auto [binary, object] = GetParam();
  auto tool = startTool({"hist", "--path", object, "--json"});
  ASSERT_TRUE(waitAttached(*tool)) << tool->out();
  // No hand-over needed: the probes are in place before the process starts.
  auto workload =
      startWorkload(binary, {"--threads", "2", "--plan", "late.a:7:1", "--plan", "late.b:2:0"});
  ASSERT_EQ(workload->wait(30s), 0) << workload->err();
  tool->signal(SIGINT);
  ASSERT_EQ(tool->wait(10s), 0) << tool->out();
  const auto docs = jsonLines(tool->out());
  ASSERT_EQ(docs.size(), 1U) << tool->out();
  std::map<std::string, std::uint64_t> counts;
  for (const auto& key : docs[0]["keys"]) {
    EXPECT_EQ(key["pid"], workload->pid());
    counts[key["key"]] = key["count"];
  }
  EXPECT_EQ(counts, (std::map<std::string, std::uint64_t>{{"late.a", 14}, {"late.b", 4}}));
  EXPECT_EQ(docs[0]["end"], "interrupted");
}

INSTANTIATE_TEST_SUITE_P(Objects, PathTest,
                         ::testing::Values(std::pair{WORKLOAD, LIBPROBEMON},
                                           std::pair{WORKLOAD_STATIC, WORKLOAD_STATIC}),
                         [](const auto& info) {
                           return std::string(info.index == 0 ? "SharedLibrary" : "Static");
                         });

// `probemon trace ... | head -n 1`: once the reader has gone, the tool stops
// at its next write (from inside the ring buffer's callback), detaches and
// exits 0 without a message.
TEST(ClosedOutputTest, TraceIntoAReaderThatLeftExitsZeroAndDetaches) {
  PROBEMON_REQUIRE_TRACING();
  auto workload = startWorkload(WORKLOAD, {"--await-go", "--plan", "test.many:300:1", "--linger-ms",
                                           "1000", "--await-detach"});
  // The tool's stderr (its "Tracing" line, any error) comes here on fd 3.
  Subprocess tool({"/bin/bash", "-c",
                   R"({ "$0" trace -p "$1" --json 2>&3 | head -n 1 >/dev/null; } 3>&1;)"
                   R"( echo "status ${PIPESTATUS[0]}")",
                   PROBEMON_TOOL, pidOf(*workload)});
  ASSERT_TRUE(waitAttached(tool)) << tool.out();
  sendGo(*workload);
  ASSERT_TRUE(tool.waitForLine(std::regex("^status \\d+$"), 30s)) << tool.out();
  EXPECT_EQ(tool.wait(10s), 0);
  EXPECT_NE(tool.out().find("\nstatus 0\n"), std::string::npos) << tool.out();
  EXPECT_EQ(tool.out().find("probemon:"), std::string::npos) << tool.out();
  EXPECT_TRUE(workload->waitForLine(std::regex("^detached$"), 30s)) << workload->err();
  EXPECT_EQ(workload->wait(10s), 0) << workload->err();
}

// Every view, stopped by Ctrl-C or SIGTERM while the target runs: it exits 0
// with its report, and the target goes on with every semaphore back at 0.
class DetachTest : public ::testing::TestWithParam<std::pair<const char*, int>> {};

TEST_P(DetachTest, StopsCleanlyAndTheTargetKeepsRunning) {
  PROBEMON_REQUIRE_TRACING();
  const auto [view, signo] = GetParam();
  auto workload = startWorkload(WORKLOAD, {"--await-go", "--plan", "test.a:3:1", "--counter",
                                           "test.c=5", "--linger-ms", "1000", "--await-detach"});
  std::vector<std::string> args = {view, "-p", pidOf(*workload), "--json"};
  if (view != std::string("trace")) args.insert(args.end(), {"--interval", "0.1"});
  auto tool = startTool(args);
  ASSERT_TRUE(waitAttached(*tool)) << tool->out();
  sendGo(*workload);
  tool->signal(signo);
  ASSERT_EQ(tool->wait(10s), 0) << tool->out();
  EXPECT_FALSE(jsonLines(tool->out()).empty()) << tool->out();
  ASSERT_TRUE(workload->waitForLine(std::regex("^done$"), 10s)) << workload->err();
  EXPECT_TRUE(workload->waitForLine(std::regex("^detached$"), 10s)) << workload->err();
  EXPECT_EQ(workload->wait(10s), 0) << workload->err();
}

INSTANTIATE_TEST_SUITE_P(Views, DetachTest,
                         ::testing::Values(std::pair{"hist", SIGINT}, std::pair{"hist", SIGTERM},
                                           std::pair{"top", SIGINT}, std::pair{"inflight", SIGTERM},
                                           std::pair{"counters", SIGINT},
                                           std::pair{"trace", SIGTERM}),
                         [](const auto& info) {
                           return std::string(info.param.first) +
                                  (info.param.second == SIGINT ? "_SIGINT" : "_SIGTERM");
                         });

}  // namespace
}  // namespace probemon::test
