// SPDX-License-Identifier: BSD-3-Clause
// Every one-liner in docs/oneliners.md, read from the markdown and run for
// real against the test workload with the demo's key names and known counts.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "BpftraceOutput.h"
#include "DocBlocks.h"
#include "Subprocess.h"
#include "TracedWorkload.h"

namespace probemon::test {
namespace {

using namespace std::chrono_literals;
using Counts = std::map<std::string, std::int64_t>;

const std::string kReady = "probemon-test: ready";

// Per thread (two threads): 6 allreduce, 2 checkpoint.save of 120 ms, 10
// optimizer.step; two DynamicCounters sampled every 50 ms.
std::vector<std::string> workloadArgv(const char* workload) {
  return {"env",
          "PROBEMON_SAMPLE_MS=50",
          workload,
          "--plan",
          "demo.wait_counter.allreduce:6:0",
          "--plan",
          "demo.wait_counter.checkpoint.save:2:120",
          "--plan",
          "demo.wait_counter.optimizer.step:10:0",
          "--threads",
          "2",
          "--counter",
          "demo.queue.depth=12",
          "--counter",
          "demo.batches.trained=345",
          "--linger-ms",
          "300"};
}

const Counts kWaits = {{"demo.wait_counter.allreduce", 12},
                       {"demo.wait_counter.checkpoint.save", 4},
                       {"demo.wait_counter.optimizer.step", 20}};

// Lines of `out` matching `pattern`, as the text of capture group 1.
std::multiset<std::string> matching(const std::string& out, const std::regex& pattern) {
  std::multiset<std::string> found;
  std::istringstream in(out);
  std::smatch m;
  for (std::string line; std::getline(in, line);) {
    if (std::regex_match(line, m, pattern)) found.insert(m[1]);
  }
  return found;
}

struct Expectation {
  // A one-liner that prints per event: how many lines to wait for before
  // SIGINT (bpftrace drops what is still buffered when interrupted).
  std::regex streamed{"^$"};
  int streamed_lines = 0;
  std::function<void(const std::string& out)> check;
};

const std::string kSave = "demo.wait_counter.checkpoint.save";
const std::regex kSlowLine(R"(^(\S+) (\d+) ms tid \d+$)");
const std::regex kRegisterLine(R"(^((?:wait|dynamic) \S+)$)");

const std::map<std::string, Expectation>& expectations() {
  static const std::map<std::string, Expectation> all = {
      {"count-by-key",
       {.check =
            [](const std::string& out) { EXPECT_EQ(mapValues(out, "@waits"), kWaits) << out; }}},
      {"hist-by-key",
       {.check =
            [](const std::string& out) { EXPECT_EQ(histCounts(out, "@usecs"), kWaits) << out; }}},
      {"one-key",
       {.check =
            [](const std::string& out) {
              EXPECT_EQ(histCounts(out, "@usecs"), (Counts{{"", 12}})) << out;
            }}},
      {"slow-with-stack",
       {.streamed = kSlowLine,
        .streamed_lines = 4,
        .check =
            [](const std::string& out) {
              EXPECT_EQ(matching(out, kSlowLine),
                        (std::multiset<std::string>{kSave, kSave, kSave, kSave}))
                  << out;
              // Each line is followed by its stack, the probe site first.
              EXPECT_TRUE(std::regex_search(out, std::regex(R"(ms tid \d+\n\s+\S)"))) << out;
            }}},
      {"per-thread",
       {.check =
            [](const std::string& out) {
              const auto per_thread = mapValues(out, "@waits");
              ASSERT_EQ(per_thread.size(), 2u) << out;
              for (const auto& [tid, n] : per_thread) EXPECT_EQ(n, 18) << tid;
            }}},
      {"top-total",
       {.check =
            [](const std::string& out) {
              const auto total = mapValues(out, "@total_us");
              ASSERT_EQ(total.size(), 3u) << out;
              const auto save = total.at("demo.wait_counter.checkpoint.save");
              EXPECT_GE(save, 4 * 120000) << out;
              for (const auto& [key, us] : total) EXPECT_LE(us, save) << key;
            }}},
      {"registrations",
       {.streamed = kRegisterLine,
        .streamed_lines = 5,
        .check =
            [](const std::string& out) {
              EXPECT_EQ(
                  matching(out, kRegisterLine),
                  (std::multiset<std::string>{
                      "wait demo.wait_counter.allreduce", "wait demo.wait_counter.checkpoint.save",
                      "wait demo.wait_counter.optimizer.step", "dynamic demo.queue.depth",
                      "dynamic demo.batches.trained"}))
                  << out;
            }}},
      {"batch-count",
       {.check =
            [](const std::string& out) {
              EXPECT_EQ(mapValues(out, "@waits"), (Counts{{"", 36}})) << out;
            }}},
      {"dynamic-values",
       {.check =
            [](const std::string& out) {
              EXPECT_EQ(mapValues(out, "@value"),
                        (Counts{{"demo.queue.depth", 12}, {"demo.batches.trained", 345}}))
                  << out;
            }}},
  };
  return all;
}

std::vector<std::pair<std::string, std::string>> oneliners() {
  return markedCodeBlocks(std::string(DOCS_DIR) + "/oneliners.md", "oneliner");
}

// `bpftrace -p $PID ...` through bash, as a user would paste it, with PID set.
std::vector<std::string> shell(const std::string& command, pid_t pid) {
  return {"env", "PID=" + std::to_string(pid), "bash", "-c", "exec " + command};
}

TEST(OnelinersDoc, EveryOnelinerHasATestAndEveryTestAOneliner) {
  std::set<std::string> documented;
  for (const auto& [name, command] : oneliners()) {
    EXPECT_TRUE(documented.insert(name).second) << "twice: " << name;
    EXPECT_EQ(command.find('\n'), command.size() - 1) << name << ": one line";
    EXPECT_EQ(command.rfind("bpftrace -p $PID ", 0), 0u) << name;
  }
  std::set<std::string> tested = {"list"};
  for (const auto& [name, expectation] : expectations()) tested.insert(name);
  EXPECT_EQ(documented, tested);
  EXPECT_GE(documented.size(), 8u);
}

class OnelinerTest : public ::testing::TestWithParam<const char*> {};

INSTANTIATE_TEST_SUITE_P(Workloads, OnelinerTest, ::testing::Values(WORKLOAD, WORKLOAD_STATIC),
                         [](const auto& info) {
                           return std::string(info.param) == WORKLOAD ? "shared" : "static";
                         });

TEST_P(OnelinerTest, ListShowsEveryProbe) {
  PROBEMON_REQUIRE_TRACING("bpftrace");
  std::string command;
  for (const auto& [name, text] : oneliners()) {
    if (name == "list") command = text.substr(0, text.size() - 1);
  }
  ASSERT_FALSE(command.empty());
  Subprocess workload({GetParam(), "--await-go"});
  ASSERT_TRUE(workload.waitForLine(std::regex("^ready pid="), 10s));
  const auto r = run(shell(command, workload.pid()), 60s);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(matching(r.out, std::regex(R"(^usdt:/proc/\d+/root/.*:probemon:(\w+)$)")),
            (std::multiset<std::string>{"counter__register", "counter__unregister",
                                        "dynamic__value", "wait__batch", "wait__done",
                                        "wait__start"}))
      << r.out;
  workload.writeStdin("go\n");
  EXPECT_EQ(workload.wait(30s), 0);
}

TEST_P(OnelinerTest, EachOnelinerSeesExactlyTheWorkloadsWaitsAndCounters) {
  PROBEMON_REQUIRE_TRACING("bpftrace");
  for (const auto& [name, text] : oneliners()) {
    if (name == "list") continue;
    SCOPED_TRACE(name);
    const auto found = expectations().find(name);
    ASSERT_NE(found, expectations().end()) << "no expectation for one-liner " << name;
    const auto& expect = found->second;
    // The one-liner's program plus a BEGIN that says every probe is attached.
    std::string command = text.substr(0, text.size() - 1);
    ASSERT_EQ(command.back(), '\'');
    command.insert(command.size() - 1, " BEGIN { printf(\"" + kReady + "\\n\"); }");
    const auto run = traceWorkload({
        .workload = workloadArgv(GetParam()),
        .tracer = [&](pid_t pid) { return shell(command, pid); },
        .ready = std::regex("^" + kReady + "$"),
        .before_stop =
            [&](Subprocess& tracer) {
              for (int i = 0; i < expect.streamed_lines; ++i) {
                ASSERT_TRUE(tracer.waitForLine(expect.streamed, 10s)) << i << "\n" << tracer.out();
              }
            },
    });
    EXPECT_EQ(run.tracer_status, 0) << run.err;
    expect.check(run.out);
  }
}

}  // namespace
}  // namespace probemon::test
