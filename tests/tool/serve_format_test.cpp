// SPDX-License-Identifier: BSD-3-Clause
// serve's parts without a target: the exact bucket bounds, label values
// from any bytes, content negotiation, both exposition formats read back by
// promtool and python3-prometheus-client, and the watch on exited
// processes.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <csignal>
#include <fstream>

#include "BucketRange.h"
#include "DocBlocks.h"
#include "Error.h"
#include "Exposition.h"
#include "LabelValue.h"
#include "SecondsHistogram.h"
#include "ServeTest.h"
#include "TracedProcesses.h"

namespace probemon::test {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using tool::Format;
using namespace std::chrono_literals;

// The slot latency.bpf.c's pm_hist_slot() gives d ns with a unit of 1 ns.
int kernelSlot(std::uint64_t d) {
  const int slot = d == 0 ? 0 : static_cast<int>(std::bit_width(d)) - 1;
  return std::min(slot, PM_HIST_SLOTS - 1);
}

// The kernel's whole range, the default and a narrow one: exact at every
// bound each emits, whatever lies outside it.
TEST(SecondsHistogramTest, EveryWaitIsInEveryBucketAtOrAboveItAndNoneBelow) {
  const tool::BucketRange whole{0, PM_HIST_SLOTS - 2};
  for (const tool::BucketRange range :
       {whole, tool::bucketRange(tool::kDefaultBuckets), tool::BucketRange{5, 6}}) {
    SCOPED_TRACE(range.first_slot);
    for (int k = 0; k < 42; ++k) {
      const std::uint64_t p = std::uint64_t{1} << k;
      for (const std::uint64_t d : {p - 1, p, p + 1}) {
        tool::Histogram hist;
        hist.slots[static_cast<std::size_t>(kernelSlot(d))] = 1;
        hist.count = 1;
        hist.sum_ns = d;
        const auto out = tool::secondsHistogram(hist, range);
        ASSERT_EQ(out.bucket.size(), static_cast<std::size_t>(range.last_slot - range.first_slot + 1));
        EXPECT_EQ(out.bucket.front().upper_bound, tool::bucketUpperSeconds(range.first_slot));
        EXPECT_EQ(out.bucket.back().upper_bound, tool::bucketUpperSeconds(range.last_slot));
        for (const auto& bucket : out.bucket) {
          const auto le_ns = static_cast<std::uint64_t>(std::llround(bucket.upper_bound * 1e9));
          EXPECT_EQ(bucket.cumulative_count, d <= le_ns ? 1U : 0U) << d << " ns, le " << le_ns;
        }
        EXPECT_EQ(out.sample_count, 1U);
        EXPECT_DOUBLE_EQ(out.sample_sum, static_cast<double>(d) / 1e9);
      }
    }
  }
}

// Each end rounds up to the next bound 2^k - 1 ns.
TEST(BucketRangeTest, EndsRoundUpToTheNextSeam) {
  const auto slots = [](const char* text) {
    const tool::BucketRange range = tool::bucketRange(text);
    return std::pair(range.first_slot, range.last_slot);
  };
  EXPECT_EQ(slots("1us:16s"), std::pair(9, 33));  // 1,023 ns to 2^34 - 1 ns (17.18 s)
  EXPECT_EQ(slots("0ns:1ns"), std::pair(0, 0));
  EXPECT_EQ(slots("1ns:549.75s"), std::pair(0, PM_HIST_SLOTS - 2));
  EXPECT_EQ(slots("1023ns:1024ns"), std::pair(9, 10));
  EXPECT_EQ(slots("1.5us:0.002ms"), std::pair(10, 10));
  EXPECT_EQ(slots("1s:1s"), std::pair(29, 29));  // 2^30 - 1 ns
  for (const char* bad : {"", ":", "1us", "1us:", "1:2s", "2s:1s", "1us:550s", "-1us:1s",
                          "1us:1h", "nanus:1s", "1us:infs", "1 us:1s"}) {
    try {
      tool::bucketRange(bad);
      ADD_FAILURE() << bad;
    } catch (const tool::ToolError& e) {
      EXPECT_EQ(e.exitCode(), 2);
      EXPECT_EQ(std::string(e.what()).rfind(std::string("--buckets '") + bad + "': give FROM:TO", 0),
                0U)
          << e.what();
    }
  }
}

TEST(SecondsHistogramTest, BoundsAreTwoToTheKMinusOneNanoseconds) {
  EXPECT_EQ(tool::bucketUpperSeconds(0), 1e-9);
  EXPECT_EQ(tool::bucketUpperSeconds(9), 1023e-9);
  EXPECT_EQ(tool::bucketUpperSeconds(38), 549755813887e-9);
  // +Inf and _count agree even if a read caught a CPU between the bucket's
  // and the count's increments: the count is the buckets'.
  tool::Histogram torn;
  torn.slots[3] = 2;
  torn.slots[PM_HIST_SLOTS - 1] = 1;
  torn.count = 4;
  EXPECT_EQ(tool::secondsHistogram(torn, tool::bucketRange(tool::kDefaultBuckets)).sample_count,
            3U);
}

TEST(LabelValueTest, ValidUtf8StaysAndEveryInvalidByteBecomesAReplacement) {
  EXPECT_EQ(tool::labelValue("plain.key"), "plain.key");
  EXPECT_EQ(tool::labelValue("q\"b\\n\n"), "q\"b\\n\n");  // escaping is the serializer's
  EXPECT_EQ(tool::labelValue("caf\xC3\xA9 \xE2\x9C\x93 \xF0\x9F\x98\x80"),
            "caf\xC3\xA9 \xE2\x9C\x93 \xF0\x9F\x98\x80");
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(tool::labelValue("a\xFF"
                             "b"),
            "a" + r + "b");
  EXPECT_EQ(tool::labelValue("\xC3"), r);                          // cut short
  EXPECT_EQ(tool::labelValue("\xC0\xAF"), r + r);                  // overlong '/'
  EXPECT_EQ(tool::labelValue("\xE0\x80\xAF"), r + r + r);          // overlong
  EXPECT_EQ(tool::labelValue("\xED\xA0\x80"), r + r + r);          // surrogate
  EXPECT_EQ(tool::labelValue("\xF4\x90\x80\x80"), r + r + r + r);  // above U+10FFFF
  EXPECT_EQ(tool::labelValue("\xEF\xBF\xBD"), "\xEF\xBF\xBD");     // U+FFFD itself
  EXPECT_EQ(tool::labelValue(std::string("a\0b", 3)), std::string("a\0b", 3));
}

TEST(NegotiateTest, OpenMetricsOnlyWhenTheScraperPrefersIt) {
  EXPECT_EQ(tool::negotiate(kPrometheusAccept), Format::kOpenMetrics);
  EXPECT_EQ(tool::negotiate(nullptr), Format::kText);
  EXPECT_EQ(tool::negotiate("*/*"), Format::kText);
  EXPECT_EQ(tool::negotiate("text/plain;version=0.0.4"), Format::kText);
  EXPECT_EQ(tool::negotiate("application/openmetrics-text"), Format::kOpenMetrics);
  EXPECT_EQ(tool::negotiate("Application/OpenMetrics-Text; Version=1.0.0"), Format::kOpenMetrics);
  EXPECT_EQ(tool::negotiate("application/openmetrics-text;version=0.0.1"), Format::kText);
  EXPECT_EQ(tool::negotiate("text/plain;q=0.9, application/openmetrics-text;q=0.5"), Format::kText);
  EXPECT_EQ(tool::negotiate("text/plain;q=0.5, application/openmetrics-text;q=0.9"),
            Format::kOpenMetrics);
  EXPECT_EQ(tool::negotiate("application/openmetrics-text;q=0, text/plain"), Format::kText);
  EXPECT_EQ(tool::negotiate("application/json"), Format::kText);
  EXPECT_EQ(tool::negotiate(""), Format::kText);
}

ClientMetric labelled(std::vector<ClientMetric::Label> labels) {
  ClientMetric metric;
  metric.label = std::move(labels);
  return metric;
}

// Families like serve's, keys as hostile as a key can be.
std::vector<MetricFamily> families() {
  const std::vector<std::string> keys = {"plain", "quote\"d", "back\\slash", "new\nline",
                                         tool::labelValue("bad\xFF")};
  MetricFamily hist{"probemon_wait_duration_seconds", "Durations", MetricType::Histogram, {}};
  MetricFamily gauge{"probemon_waits_in_flight", "Open", MetricType::Gauge, {}};
  for (std::size_t i = 0; i < keys.size(); ++i) {
    tool::Histogram h;
    h.slots[i * 7] = i + 1;
    h.sum_ns = (i + 1) << (i * 7);
    ClientMetric metric = labelled({{"key", keys[i]}});
    metric.histogram = tool::secondsHistogram(h, tool::bucketRange(tool::kDefaultBuckets));
    hist.metric.push_back(metric);
    metric = labelled({{"key", keys[i]}, {"pid", "42"}});
    metric.gauge.value = static_cast<double>(i);
    gauge.metric.push_back(metric);
  }
  MetricFamily dropped{"probemon_dropped_total", "Drops", MetricType::Counter, {}};
  for (const char* reason : {"names", "waits"}) {
    ClientMetric metric = labelled({{"reason", reason}});
    metric.counter.value = 12345678901;
    dropped.metric.push_back(metric);
  }
  MetricFamily exits{"probemon_process_exits_total", "Exits", MetricType::Counter, {}};
  exits.metric.emplace_back().counter.value = 3;
  return {hist, gauge, dropped, exits};
}

TEST(ExpositionTest, TextFormatPassesPromtoolAndThePythonParser) {
  tool::Exposition exposition;
  const std::string text(exposition.write(families(), Format::kText));
  EXPECT_NE(text.find("# TYPE probemon_dropped_total counter\n"), std::string::npos) << text;
  EXPECT_NE(text.find("probemon_wait_duration_seconds_bucket{key=\"quote\\\"d\",le=\"1.023e-06\"}"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("{key=\"new\\nline\",pid=\"42\"} 3\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("# EOF"), std::string::npos);
  const RunResult lint = promtoolCheck(text);
  EXPECT_EQ(lint.status, 0) << lint.out << lint.err;
  const auto parsed = pythonParse(text, "text");
  ASSERT_FALSE(parsed.contains("error")) << parsed["error"];
  std::set<std::string> keys;
  for (const auto& sample : parsed["samples"]) {
    if (sample[0] == "probemon_wait_duration_seconds_count") keys.insert(sample[1]["key"]);
  }
  EXPECT_EQ(keys, (std::set<std::string>{"plain", "quote\"d", "back\\slash", "new\nline",
                                         "bad\xEF\xBF\xBD"}));
}

TEST(ExpositionTest, OpenMetricsNamesCountersWithoutTotalAndEndsWithEof) {
  tool::Exposition exposition;
  auto all = families();
  MetricFamily no_help{"probemon_no_help_total", "", MetricType::Counter, {}};
  no_help.metric.emplace_back().counter.value = 1;
  all.push_back(no_help);
  const std::string text(exposition.write(all, Format::kOpenMetrics));
  EXPECT_NE(text.find("# HELP probemon_dropped Drops\n# TYPE probemon_dropped counter\n"
                      "probemon_dropped_total{reason=\"names\"} 12345678901\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE probemon_process_exits counter\nprobemon_process_exits_total 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\n# TYPE probemon_no_help counter\nprobemon_no_help_total 1\n"),
            std::string::npos)
      << text;
  EXPECT_TRUE(text.ends_with("\n# EOF\n")) << text;
  const auto parsed = pythonParse(text, "openmetrics");
  ASSERT_FALSE(parsed.contains("error")) << parsed["error"] << text;
  std::map<std::string, std::string> types;
  for (const auto& family : parsed["families"]) types[family[0]] = family[1];
  EXPECT_EQ(types,
            (std::map<std::string, std::string>{{"probemon_wait_duration_seconds", "histogram"},
                                                {"probemon_waits_in_flight", "gauge"},
                                                {"probemon_dropped", "counter"},
                                                {"probemon_process_exits", "counter"},
                                                {"probemon_no_help", "counter"}}));
  // The buffer is reused: a shorter text after a longer one is whole.
  const std::string again(exposition.write({families()[3]}, Format::kText));
  EXPECT_EQ(again,
            "# HELP probemon_process_exits_total Exits\n# TYPE probemon_process_exits_total "
            "counter\nprobemon_process_exits_total 3\n");
}

TEST(TracedProcessesTest, SaysOnceWhenAWatchedProcessExits) {
  tool::TracedProcesses processes;
  auto sleeper = std::make_unique<Subprocess>(std::vector<std::string>{"/bin/sleep", "60"});
  const auto pid = static_cast<std::uint32_t>(sleeper->pid());
  processes.see(pid);
  processes.see(pid);
  EXPECT_EQ(processes.alive(), 1U);
  EXPECT_TRUE(processes.newlyExited().empty());
  sleeper->signal(SIGKILL);
  sleeper->wait(10s);
  EXPECT_EQ(processes.newlyExited(), std::vector<std::uint32_t>{pid});
  EXPECT_TRUE(processes.newlyExited().empty());
  EXPECT_TRUE(processes.exited(pid));
  EXPECT_EQ(processes.alive(), 0U);
  processes.see(pid);  // known to have exited: not watched again
  EXPECT_TRUE(processes.newlyExited().empty());
  EXPECT_EQ(processes.exits(), 1U);
  // Forgotten, a pid may be seen again; gone already, it is reported once.
  processes.forget(pid);
  processes.see(pid);
  EXPECT_EQ(processes.newlyExited(), std::vector<std::uint32_t>{pid});
  EXPECT_EQ(processes.exits(), 2U);
}

// The scrape configs of docs/prometheus.md, as Prometheus reads them.
TEST(ServeDocsTest, ScrapeConfigsPassPromtool) {
  int configs = 0;
  for (const auto& [name, text] : markedCodeBlocks(DOCS_DIR "/prometheus.md", "prometheus")) {
    if (name != "scrape-config") continue;
    const std::string path = ::testing::TempDir() + "/probemon-scrape-config.yml";
    std::ofstream(path) << text;
    const RunResult check = run({"promtool", "check", "config", path});
    EXPECT_EQ(check.status, 0) << text << check.out << check.err;
    ++configs;
  }
  EXPECT_EQ(configs, 2);
}

}  // namespace
}  // namespace probemon::test
