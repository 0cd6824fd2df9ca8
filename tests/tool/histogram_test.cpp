// SPDX-License-Identifier: BSD-3-Clause
// The histogram helper every view prints with: merging per-CPU parts, deltas,
// percentile estimates, bcc's table layout and the JSON buckets.
#include "Histogram.h"

#include <gtest/gtest.h>

#include <string>

namespace probemon::tool {
namespace {

constexpr Unit kUsecs{"usecs", 1000};

pm_hist part(std::initializer_list<std::pair<int, std::uint64_t>> slots, std::uint64_t min_ns,
             std::uint64_t max_ns, std::uint64_t sum_ns) {
  pm_hist h{};
  for (const auto& [slot, n] : slots) {
    h.slots[slot] = n;
    h.count += n;
  }
  h.min_ns = min_ns;
  h.max_ns = max_ns;
  h.sum_ns = sum_ns;
  return h;
}

TEST(HistogramTest, MergesCpusAndSubtractsSnapshots) {
  Histogram hist;
  hist.merge(part({{2, 3}}, 5'000, 7'000, 18'000));
  hist.merge(pm_hist{});  // an idle CPU changes nothing, min included
  hist.merge(part({{2, 1}, {12, 1}}, 4'500, 5'000'000, 5'004'500));
  EXPECT_EQ(hist.count, 5U);
  EXPECT_EQ(hist.min_ns, 4'500U);
  EXPECT_EQ(hist.max_ns, 5'000'000U);
  EXPECT_EQ(hist.sum_ns, 5'022'500U);
  EXPECT_EQ(hist.slots[2], 4U);

  Histogram later = hist;
  later.merge(part({{12, 2}}, 4'200'000, 4'900'000, 9'100'000));
  const Histogram delta = later.since(hist);
  EXPECT_EQ(delta.count, 2U);
  EXPECT_EQ(delta.sum_ns, 9'100'000U);
  EXPECT_EQ(delta.slots[12], 2U);
  EXPECT_EQ(delta.slots[2], 0U);
}

TEST(HistogramTest, PercentilesStayInsideTheirBucketAndTheSeenRange) {
  Histogram hist;
  // 90 waits in [4, 8) us, 10 in [1024, 2048) us.
  hist.merge(part({{2, 90}, {10, 10}}, 4'100, 1'500'000, 0));
  const auto p50 = hist.percentileNs(0.50, kUsecs);
  EXPECT_GE(p50, 4'100U);
  EXPECT_LT(p50, 8'000U);
  const auto p99 = hist.percentileNs(0.99, kUsecs);
  EXPECT_GE(p99, 1'024'000U);
  EXPECT_LE(p99, 1'500'000U);  // never above max
  EXPECT_EQ(Histogram().percentileNs(0.5, kUsecs), 0U);
}

TEST(HistogramTest, PrintsBccTables) {
  Histogram hist;
  hist.merge(part({{0, 1}, {2, 4}}, 1'000, 7'000, 20'000));
  EXPECT_EQ(log2HistText(hist, kUsecs),
            "     usecs               : count    distribution\n"
            "         0 -> 1          : 1        |**********                              |\n"
            "         2 -> 3          : 0        |                                        |\n"
            "         4 -> 7          : 4        |****************************************|\n");
}

TEST(HistogramTest, JsonHasTheNonEmptyBuckets) {
  Histogram hist;
  hist.merge(part({{3, 2}}, 8'000, 9'000, 17'000));
  const auto json = histogramJson(hist, kUsecs);
  EXPECT_EQ(json["count"], 2);
  EXPECT_EQ(json["buckets"], nlohmann::json::parse(R"([{"low":8,"high":15,"count":2}])"));
  EXPECT_EQ(formatNs(999), "999ns");
  EXPECT_EQ(formatNs(5'061'000), "5.06ms");
}

// The last bucket holds every wait from 2^39 units up (pm_hist_slot()): in
// nanoseconds that is from 550 s, so a wait of 2^41 ns (37 minutes) lands
// there, and its row must not end below it.
TEST(HistogramTest, TheLastBucketIsOpenEnded) {
  constexpr Unit kNsecs{"nsecs", 1};
  constexpr int kLast = PM_HIST_SLOTS - 1;
  const std::uint64_t wait_ns = std::uint64_t{1} << 41;
  Histogram hist;
  hist.merge(part({{kLast, 1}}, wait_ns, wait_ns, wait_ns));
  const std::string text = log2HistText(hist, kNsecs);
  EXPECT_NE(text.find("      549755813888 -> inf                  : 1        |*****"),
            std::string::npos)
      << text;
  EXPECT_EQ(histogramJson(hist, kNsecs)["buckets"],
            nlohmann::json::parse(R"([{"low":549755813888,"high":null,"count":1}])"));
  EXPECT_EQ(hist.percentileNs(0.5, kNsecs), wait_ns);
  EXPECT_EQ(hist.percentileNs(0.99, kNsecs), wait_ns);
}

}  // namespace
}  // namespace probemon::tool
