// SPDX-License-Identifier: BSD-3-Clause
// probemon trace, inflight, counters and top against the test workload, with
// exactly known waits, holds and counter values.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>

#include "ToolTest.h"

namespace probemon::test {
namespace {

// hist and trace --min-ms 0 attached together (two tools at once): every
// wait trace reports falls in the bucket hist counted it in.
// Each unit: (name, ns per unit).
class HistTraceTest : public ::testing::TestWithParam<std::pair<const char*, std::uint64_t>> {};

TEST_P(HistTraceTest, HistAndTraceAtOnceAgreeOnEveryWait) {
  PROBEMON_REQUIRE_TRACING();
  const auto [unit, unit_ns] = GetParam();
  auto workload = startWorkload(WORKLOAD, {"--await-go", "--threads", "2", "--plan", "test.a:30:0",
                                           "--plan", "test.b:10:3", "--plan", "test.c:5:1"});
  auto hist = startTool({"hist", "-p", pidOf(*workload), "--json", "--units", unit});
  auto trace = startTool({"trace", "-p", pidOf(*workload), "--json"});
  ASSERT_TRUE(waitAttached(*hist)) << hist->out();
  ASSERT_TRUE(waitAttached(*trace)) << trace->out();
  sendGo(*workload);
  ASSERT_EQ(workload->wait(30s), 0) << workload->err();
  ASSERT_EQ(hist->wait(10s), 0) << hist->out();
  ASSERT_EQ(trace->wait(10s), 0) << trace->out();

  std::map<std::string, std::map<int, std::uint64_t>> traced;  // key -> slot -> waits
  std::set<std::uint64_t> wait_ids;
  const auto records = jsonLines(trace->out());
  ASSERT_FALSE(records.empty());
  for (const auto& r : records) {
    if (r["type"] != "wait") continue;
    EXPECT_EQ(r["pid"], workload->pid());
    EXPECT_TRUE(wait_ids.insert(r["wait_id"].get<std::uint64_t>()).second) << "duplicate wait";
    ++traced[r["key"]][log2Slot(r["duration_ns"], unit_ns)];
  }
  EXPECT_EQ(records.back()["type"], "summary");
  EXPECT_EQ(records.back()["waits"], 90);
  EXPECT_EQ(records.back()["dropped"]["events"], 0);
  EXPECT_EQ(wait_ids.size(), 90U);

  const auto docs = jsonLines(hist->out());
  ASSERT_EQ(docs.size(), 1U);
  std::map<std::string, std::map<int, std::uint64_t>> counted;
  for (const auto& key : docs[0]["keys"]) {
    for (const auto& bucket : key["buckets"]) {
      counted[key["key"]][log2Slot(bucket["high"], 1)] += bucket["count"].get<std::uint64_t>();
    }
  }
  EXPECT_EQ(counted, traced);
  EXPECT_EQ(docs[0]["unit"], unit);
}

INSTANTIATE_TEST_SUITE_P(Units, HistTraceTest,
                         ::testing::Values(std::pair{"nsecs", 1ULL}, std::pair{"usecs", 1000ULL},
                                           std::pair{"msecs", 1000000ULL}),
                         [](const auto& info) { return std::string(info.param.first); });

TEST(TraceTest, MinMsShowsExactlyTheSlowWaits) {
  PROBEMON_REQUIRE_TRACING();
  auto workload =
      startWorkload(WORKLOAD_STATIC, {"--await-go", "--threads", "2", "--plan", "test.fast:40:0",
                                      "--plan", "test.slow:3:30", "--plan", "test.fast:20:0"});
  auto trace = startTool({"trace", "-p", pidOf(*workload), "--min-ms", "25", "--json"});
  ASSERT_TRUE(waitAttached(*trace)) << trace->out();
  sendGo(*workload);
  ASSERT_EQ(workload->wait(30s), 0) << workload->err();
  ASSERT_EQ(trace->wait(10s), 0) << trace->out();
  const auto records = jsonLines(trace->out());
  ASSERT_EQ(records.size(), 7U) << trace->out();  // 3 waits x 2 threads + summary
  std::set<std::uint64_t> tids;
  for (std::size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(records[i]["key"], "test.slow");
    EXPECT_GE(records[i]["duration_ns"].get<std::uint64_t>(), 30'000'000U);
    tids.insert(records[i]["tid"].get<std::uint64_t>());
  }
  EXPECT_EQ(tids.size(), 2U);
  EXPECT_EQ(records[6]["end"], "target exited");
}

TEST(TraceTest, ChromeFormatWritesATraceFile) {
  PROBEMON_REQUIRE_TRACING();
  const std::string file = ::testing::TempDir() + "/probemon-trace.json";
  auto workload = startWorkload(WORKLOAD, {"--await-go", "--plan", "test.x:5:2"});
  auto trace = startTool({"trace", "-p", pidOf(*workload), "--format", "chrome", "-o", file});
  ASSERT_TRUE(waitAttached(*trace)) << trace->out();
  sendGo(*workload);
  ASSERT_EQ(workload->wait(30s), 0) << workload->err();
  ASSERT_EQ(trace->wait(10s), 0) << trace->out();
  std::ifstream in(file);
  const auto doc = nlohmann::json::parse(in);
  ASSERT_EQ(doc["traceEvents"].size(), 5U) << doc.dump();
  for (const auto& e : doc["traceEvents"]) {
    EXPECT_EQ(e["ph"], "X");
    EXPECT_EQ(e["name"], "test.x");
    EXPECT_EQ(e["pid"], workload->pid());
    EXPECT_GE(e["dur"].get<double>(), 2000.0);  // microseconds
  }
  EXPECT_EQ(doc["otherData"]["dropped"]["events"], 0);
}

TEST(InflightTest, ShowsAHeldWaitWithItsThread) {
  PROBEMON_REQUIRE_TRACING();
  auto workload = startWorkload(
      WORKLOAD, {"--await-go", "--hold", "test.stuck:4000", "--plan", "test.quick:50:1"});
  auto tool = startTool(
      {"inflight", "-p", pidOf(*workload), "--min-ms", "300", "--interval", "0.1", "--json"});
  ASSERT_TRUE(waitAttached(*tool)) << tool->out();
  sendGo(*workload);
  const auto hold = workload->waitForLine(std::regex("^hold key=test.stuck tid=\\d+$"), 10s);
  ASSERT_TRUE(hold) << workload->out();
  const std::string tid = hold->substr(hold->find("tid=") + 4);
  // A refresh listing the held wait, and nothing younger than 300 ms.
  const auto line = tool->waitForLine(std::regex("\"key\":\"test.stuck\""), 10s);
  ASSERT_TRUE(line) << tool->out();
  const auto refresh = nlohmann::json::parse(*line);
  ASSERT_EQ(refresh["waits"].size(), 1U) << *line;
  const auto& wait = refresh["waits"][0];
  EXPECT_EQ(wait["tid"], std::stoi(tid));
  EXPECT_EQ(wait["pid"], workload->pid());
  EXPECT_GE(wait["age_ns"].get<std::uint64_t>(), 300'000'000U);
  EXPECT_EQ(refresh["dropped"]["untracked"], 0);
  tool->signal(SIGINT);
  EXPECT_EQ(tool->wait(10s), 0) << tool->out();
}

TEST(CountersTest, ShowsTheValuesTheCallbacksReturn) {
  PROBEMON_REQUIRE_TRACING();
  auto workload =
      startWorkload(WORKLOAD_STATIC,
                    {"--await-go", "--counter", "test.depth=42", "--counter", "test.debt=-7",
                     "--counter", "test.big=9000000000", "--linger-ms", "3000", "--await-detach"});
  auto tool = startTool(
      {"counters", "-p", pidOf(*workload), "--interval", "0.1", "--json", "--key", "test.*"});
  ASSERT_TRUE(waitAttached(*tool)) << tool->out();
  sendGo(*workload);
  // Wait for a refresh in which all three have been sampled.
  const auto line =
      tool->waitForLine(std::regex(R"("samples":[1-9].*"samples":[1-9].*"samples":[1-9])"), 10s);
  ASSERT_TRUE(line) << tool->out();
  std::map<std::string, nlohmann::json> by_key;
  const auto refresh = nlohmann::json::parse(*line);
  for (const auto& c : refresh["counters"]) by_key[c["key"]] = c;
  ASSERT_EQ(by_key.size(), 3U) << *line;
  EXPECT_EQ(by_key["test.depth"]["value"], 42);
  EXPECT_EQ(by_key["test.debt"]["value"], -7);
  EXPECT_EQ(by_key["test.big"]["value"], 9000000000LL);
  for (auto& [key, c] : by_key) {
    EXPECT_EQ(c["kind"], "dynamic") << key;
    EXPECT_EQ(c["registered"], 1) << key;  // constructed after attach
  }
  tool->signal(SIGTERM);
  EXPECT_EQ(tool->wait(10s), 0) << tool->out();
  EXPECT_TRUE(workload->waitForLine(std::regex("^detached$"), 10s)) << workload->err();
  EXPECT_EQ(workload->wait(10s), 0);
}

TEST(TopTest, RefreshesWithCountsPerInterval) {
  PROBEMON_REQUIRE_TRACING();
  auto workload = startWorkload(
      WORKLOAD, {"--await-go", "--threads", "2", "--plan", "test.a:40:5", "--plan", "test.b:5:0"});
  auto tool = startTool({"top", "-p", pidOf(*workload), "--interval", "0.1", "--json"});
  ASSERT_TRUE(waitAttached(*tool)) << tool->out();
  sendGo(*workload);
  ASSERT_EQ(workload->wait(30s), 0) << workload->err();
  ASSERT_EQ(tool->wait(10s), 0) << tool->out();
  const auto refreshes = jsonLines(tool->out());
  ASSERT_GE(refreshes.size(), 2U);
  std::map<std::string, std::uint64_t> summed, total;
  for (const auto& refresh : refreshes) {
    for (const auto& key : refresh["keys"]) {
      summed[key["key"]] += key["count"].get<std::uint64_t>();
      total[key["key"]] = key["total"];
    }
  }
  EXPECT_EQ(summed, (std::map<std::string, std::uint64_t>{{"test.a", 80}, {"test.b", 10}}));
  EXPECT_EQ(total, summed);
}

}  // namespace
}  // namespace probemon::test
