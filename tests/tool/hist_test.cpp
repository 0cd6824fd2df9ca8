// SPDX-License-Identifier: BSD-3-Clause
// probemon hist against the test workload: exact counts per key, every
// duration in the right log2 bucket, in libprobemon.so and in a static
// executable, ending when the target exits.
#include <gtest/gtest.h>

#include <regex>

#include "ToolTest.h"

namespace probemon::test {
namespace {

const nlohmann::json* findKey(const nlohmann::json& keys, const std::string& name) {
  for (const auto& key : keys) {
    if (key["key"] == name) return &key;
  }
  return nullptr;
}

// A key's histogram is consistent: bucket counts add up to count, and every
// bucket lies between the buckets of min and max, which are both non-empty.
void expectKey(const nlohmann::json& keys, const std::string& name, std::uint64_t count,
               std::uint64_t at_least_ns) {
  const nlohmann::json* key = findKey(keys, name);
  ASSERT_NE(key, nullptr) << name << " missing from " << keys.dump();
  EXPECT_EQ((*key)["count"], count) << name;
  EXPECT_EQ((*key)["truncated"], false);
  const std::uint64_t min_ns = (*key)["min_ns"], max_ns = (*key)["max_ns"];
  EXPECT_GE(min_ns, at_least_ns) << name;
  EXPECT_GE((*key)["sum_ns"].get<std::uint64_t>(), count * min_ns);
  EXPECT_LE((*key)["sum_ns"].get<std::uint64_t>(), count * max_ns);
  std::uint64_t in_buckets = 0;
  std::uint64_t at_min = 0, at_max = 0;
  for (const auto& bucket : (*key)["buckets"]) {
    const std::uint64_t low = bucket["low"], high = bucket["high"], n = bucket["count"];
    const int slot = log2Slot(high, 1);
    EXPECT_EQ(low, slot == 0 ? 0 : std::uint64_t{1} << slot);
    EXPECT_GE(slot, log2Slot(min_ns, 1000)) << name;
    EXPECT_LE(slot, log2Slot(max_ns, 1000)) << name;
    if (slot == log2Slot(min_ns, 1000)) at_min = n;
    if (slot == log2Slot(max_ns, 1000)) at_max = n;
    in_buckets += n;
  }
  EXPECT_EQ(in_buckets, count) << name;
  EXPECT_GE(at_min, 1U) << name;
  EXPECT_GE(at_max, 1U) << name;
}

class HistTest : public ::testing::TestWithParam<const char*> {};

TEST_P(HistTest, CountsAndBucketsAreExactAndEndWithTheTarget) {
  PROBEMON_REQUIRE_TRACING();
  auto workload = startWorkload(GetParam(), {"--await-go", "--threads", "2", "--plan",
                                             "test.fast:25:1", "--plan", "test.slow:3:20"});
  auto tool = startTool({"hist", "-p", std::to_string(workload->pid()), "--json"});
  ASSERT_TRUE(waitAttached(*tool)) << tool->out();
  sendGo(*workload);
  ASSERT_EQ(workload->wait(30s), 0) << workload->err();
  // The target exited: the tool reports what it gathered and exits 0.
  ASSERT_EQ(tool->wait(10s), 0) << tool->out();
  const auto docs = jsonLines(tool->out());
  ASSERT_EQ(docs.size(), 1U) << tool->out();
  const auto& doc = docs[0];
  EXPECT_EQ(doc["end"], "target exited");
  EXPECT_EQ(doc["unit"], "usecs");
  EXPECT_EQ(doc["dropped"],
            (nlohmann::json{{"waits", 0}, {"batches", 0}, {"names", 0}, {"images", 0}, {"missed", 0}}));
  ASSERT_EQ(doc["keys"].size(), 2U) << doc.dump();
  expectKey(doc["keys"], "test.fast", 50, 1'000'000);
  expectKey(doc["keys"], "test.slow", 6, 20'000'000);
  for (const auto& key : doc["keys"]) EXPECT_EQ(key["pid"], workload->pid());
}

TEST_P(HistTest, TextOutputIsBccStyle) {
  PROBEMON_REQUIRE_TRACING();
  auto workload = startWorkload(
      GetParam(), {"--await-go", "--plan", "test.slow:4:20", "--plan", "other.key:2:0"});
  auto tool = startTool(
      {"hist", "-p", std::to_string(workload->pid()), "--key", "test.*", "--units", "msecs"});
  ASSERT_TRUE(waitAttached(*tool)) << tool->out();
  sendGo(*workload);
  ASSERT_EQ(workload->wait(30s), 0) << workload->err();
  ASSERT_EQ(tool->wait(10s), 0) << tool->out();
  const std::string& out = tool->out();
  EXPECT_NE(out.find("key = test.slow  pid " + std::to_string(workload->pid())), std::string::npos)
      << out;
  EXPECT_EQ(out.find("other.key"), std::string::npos) << "--key filter ignored:\n" << out;
  EXPECT_TRUE(
      std::regex_search(out, std::regex(R"(     msecs               : count    distribution)")))
      << out;
  // Rows "low -> high : count |stars|" from 0 up: nothing below 16 ms (every
  // wait slept 20 ms), four waits in all, the fullest row 40 stars wide.
  const std::regex row(R"( +(\d+) -> (\d+) +: (\d+) +\|(\**) *\|\n)");
  std::uint64_t waits = 0, most = 0, rows = 0;
  for (auto it = std::sregex_iterator(out.begin(), out.end(), row); it != std::sregex_iterator();
       ++it, ++rows) {
    const std::uint64_t low = std::stoull((*it)[1]), count = std::stoull((*it)[3]);
    EXPECT_EQ(low, rows == 0 ? 0 : std::uint64_t{1} << rows) << out;
    if (low < 16) {
      EXPECT_EQ(count, 0U) << out;
    }
    if (count > most) {
      most = count;
      EXPECT_EQ((*it)[4].length(), 40U) << out;
    }
    waits += count;
  }
  EXPECT_EQ(waits, 4U) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex(R"(\ncount 4  sum \S+  min 2\d\.\d\dms  max )")))
      << out;
}

INSTANTIATE_TEST_SUITE_P(Workloads, HistTest, ::testing::Values(WORKLOAD, WORKLOAD_STATIC),
                         [](const auto& info) {
                           return std::string(info.index == 0 ? "SharedLibrary" : "Static");
                         });

}  // namespace
}  // namespace probemon::test
