// SPDX-License-Identifier: BSD-3-Clause
// The probe ABI checked with real tracers: bpftrace sees every probe with
// the right arguments, perf stat counts wait__done exactly, gdb lists the
// probes, and every semaphore reads 0 once the tracer is gone. Each runs
// against the probes in libprobemon.so and in a statically linked executable.
#include <gtest/gtest.h>
#include <time.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "Subprocess.h"
#include "TracedWorkload.h"

namespace probemon::test {
namespace {

using namespace std::chrono_literals;

struct Target {
  std::string name;
  std::string workload;  // the executable to run
  std::string probes;    // the object carrying the probemon notes
};

void PrintTo(const Target& target, std::ostream* os) { *os << target.name; }

const Target kShared{"shared", PROBEMON_WORKLOAD, PROBEMON_LIBRARY};
const Target kStatic{"static", PROBEMON_WORKLOAD_STATIC, PROBEMON_WORKLOAD_STATIC};
// Built with -O3, LTO, -ffunction-sections and --gc-sections.
const Target kLtoShared{"lto_shared", PROBEMON_WORKLOAD_LTO, PROBEMON_LIBRARY_LTO};
const Target kLtoStatic{"lto_static", PROBEMON_WORKLOAD_LTO_STATIC, PROBEMON_WORKLOAD_LTO_STATIC};

std::uint64_t monotonicNowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

std::vector<std::vector<std::string>> linesStartingWith(const std::string& text,
                                                        const std::string& word) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::vector<std::string> row;
    for (std::string f; fields >> f;) row.push_back(f);
    if (!row.empty() && row[0] == word) rows.push_back(row);
  }
  return rows;
}

// Runs the workload under bpftrace with every_probe.bt until it printed a
// line matching `last`: bpftrace drops what is still buffered when
// interrupted, so the tracer is stopped only after the last event expected.
TracedRun traceEveryProbe(std::vector<std::string> workload, const std::regex& last) {
  return traceWorkload({
      .workload = std::move(workload),
      .tracer =
          [](pid_t pid) {
            return std::vector<std::string>{"bpftrace", "-p", std::to_string(pid),
                                            PROBEMON_EVERY_PROBE_BT};
          },
      .before_stop =
          [&last](Subprocess& tracer) {
            ASSERT_TRUE(tracer.waitForLine(last, 30s)) << tracer.out();
          },
  });
}

class ProbeTest : public ::testing::TestWithParam<Target> {};

TEST_P(ProbeTest, BpftraceSeesEveryProbeWithItsArguments) {
  PROBEMON_REQUIRE_TRACING("bpftrace");
  const Target& target = GetParam();
  const std::uint64_t before_ns = monotonicNowNs();
  const TracedRun traced =
      traceEveryProbe({"env", "PROBEMON_SAMPLE_MS=100", target.workload, "--plan", "probe.fast:6:1",
                       "--plan", "probe.slow:2:30", "--threads", "2", "--counter",
                       "probe.gauge=-1234", "--linger-ms", "1000"},
                      std::regex("^unregister probe.gauge "));
  ASSERT_EQ(traced.tracer_status, 0) << traced.err;
  const std::uint64_t after_ns = monotonicNowNs();
  const std::string& out = traced.out;
  SCOPED_TRACE(out);

  // key -> key_id, consistent across every probe.
  std::map<std::string, std::uint64_t> key_ids;
  auto checkKeyId = [&](const std::string& key, const std::string& id_text) {
    const std::uint64_t id = std::stoull(id_text);
    EXPECT_NE(id, 0u) << key;
    auto [it, inserted] = key_ids.emplace(key, id);
    EXPECT_EQ(it->second, id) << "key_id of " << key << " changed";
  };

  // wait__start: one per wait; wait_ids unique and non-zero.
  std::map<std::string, int> starts;
  std::map<std::uint64_t, std::uint64_t> start_ns_of;  // wait_id -> start_ns
  for (const auto& row : linesStartingWith(out, "start")) {
    ASSERT_EQ(row.size(), 5u);
    ++starts[row[1]];
    checkKeyId(row[1], row[2]);
    const std::uint64_t wait_id = std::stoull(row[3]);
    const std::uint64_t start_ns = std::stoull(row[4]);
    EXPECT_NE(wait_id, 0u);
    EXPECT_TRUE(start_ns_of.emplace(wait_id, start_ns).second) << "wait_id reused: " << wait_id;
    EXPECT_GE(start_ns, before_ns);
    EXPECT_LE(start_ns, after_ns);
  }
  EXPECT_EQ(starts, (std::map<std::string, int>{{"probe.fast", 12}, {"probe.slow", 4}}));

  // wait__done: matches its start, and lasts at least what the program slept.
  const std::map<std::string, std::uint64_t> min_ns = {{"probe.fast", 1'000'000},
                                                       {"probe.slow", 30'000'000}};
  std::map<std::string, int> dones;
  for (const auto& row : linesStartingWith(out, "done")) {
    ASSERT_EQ(row.size(), 6u);
    const std::string& key = row[1];
    ++dones[key];
    checkKeyId(key, row[2]);
    const std::uint64_t wait_id = std::stoull(row[3]);
    ASSERT_TRUE(start_ns_of.contains(wait_id)) << "done without start: " << wait_id;
    EXPECT_EQ(std::stoull(row[4]), start_ns_of[wait_id]);
    EXPECT_GE(std::stoull(row[5]), min_ns.at(key));
    EXPECT_LE(std::stoull(row[4]) + std::stoull(row[5]), after_ns);
  }
  EXPECT_EQ(dones, starts);

  // counter__register: each wait key once (kind 0), the DynamicCounter once
  // (kind 1); counter__unregister: the DynamicCounter once.
  std::multiset<std::string> registers;
  for (const auto& row : linesStartingWith(out, "register")) {
    ASSERT_EQ(row.size(), 4u);
    checkKeyId(row[1], row[2]);
    registers.insert(row[1] + "/" + row[3]);
  }
  EXPECT_EQ(registers,
            (std::multiset<std::string>{"probe.fast/0", "probe.slow/0", "probe.gauge/1"}));
  const auto unregisters = linesStartingWith(out, "unregister");
  ASSERT_EQ(unregisters.size(), 1u);
  EXPECT_EQ(unregisters[0][1], "probe.gauge");
  checkKeyId("probe.gauge", unregisters[0][2]);
  EXPECT_EQ(unregisters[0][3], "1");

  // dynamic__value: sampled every 100 ms during the 1 s linger.
  const auto values = linesStartingWith(out, "value");
  EXPECT_GE(values.size(), 5u);
  for (const auto& row : values) {
    ASSERT_EQ(row.size(), 4u);
    EXPECT_EQ(row[1], "probe.gauge");
    checkKeyId(row[1], row[2]);
    EXPECT_EQ(row[3], "-1234");
  }
  std::set<std::uint64_t> distinct_ids;
  for (const auto& [key, id] : key_ids) distinct_ids.insert(id);
  EXPECT_EQ(distinct_ids.size(), key_ids.size()) << "key_ids must be unique per key";
  EXPECT_EQ(linesStartingWith(out, "end").size(), 1u);
}

// A tracer that attaches while a wait is open, timed for a backend, sees no
// wait__start for it, and its wait__done with a wait id of its own.
TEST_P(ProbeTest, WaitTimedBeforeTheTracerAttachedEndsWithAnId) {
  PROBEMON_REQUIRE_TRACING("bpftrace");
  const Target& target = GetParam();
  const std::uint64_t before_ns = monotonicNowNs();
  const TracedRun traced =
      traceEveryProbe({target.workload, "--backend", "--open-early", "probe.early", "--plan",
                       "probe.after:2:0", "--plan", "probe.last:1:0"},
                      std::regex("^done probe.last "));
  ASSERT_EQ(traced.tracer_status, 0) << traced.err;
  const std::string& out = traced.out;
  SCOPED_TRACE(out);
  std::map<std::string, int> starts;
  std::set<std::uint64_t> start_ids;
  for (const auto& row : linesStartingWith(out, "start")) {
    ASSERT_EQ(row.size(), 5u);
    ++starts[row[1]];
    start_ids.insert(std::stoull(row[3]));
  }
  EXPECT_EQ(starts, (std::map<std::string, int>{{"probe.after", 2}, {"probe.last", 1}}));
  EXPECT_EQ(start_ids.size(), 3u);
  int early_dones = 0;
  for (const auto& row : linesStartingWith(out, "done")) {
    ASSERT_EQ(row.size(), 6u);
    if (row[1] != "probe.early") continue;
    ++early_dones;
    const std::uint64_t wait_id = std::stoull(row[3]);
    EXPECT_NE(wait_id, 0u);
    EXPECT_FALSE(start_ids.contains(wait_id)) << "wait_id reused: " << wait_id;
    EXPECT_GE(std::stoull(row[4]), before_ns);  // start_ns: taken in this run
    EXPECT_GT(std::stoull(row[5]), 0u);
  }
  EXPECT_EQ(early_dones, 1);
}

// Tracers time the wait, not the backends: with a backend that sleeps 100 ms
// in start() and in stop(), an empty region is a short wait, and wait__start
// and wait__done agree on when it started.
TEST_P(ProbeTest, SlowBackendsDoNotLengthenTheWaitTracersSee) {
  PROBEMON_REQUIRE_TRACING("bpftrace");
  const TracedRun traced = traceEveryProbe(
      {GetParam().workload, "--slow-backend", "100", "--plan", "probe.empty:3:0", "--plan",
       "probe.last:1:0"},
      std::regex("^done probe.last "));
  ASSERT_EQ(traced.tracer_status, 0) << traced.err;
  const std::string& out = traced.out;
  SCOPED_TRACE(out);
  std::map<std::uint64_t, std::uint64_t> start_ns;  // by wait id
  for (const auto& row : linesStartingWith(out, "start")) {
    ASSERT_EQ(row.size(), 5u);
    if (row[1] == "probe.empty") start_ns[std::stoull(row[3])] = std::stoull(row[4]);
  }
  int dones = 0;
  for (const auto& row : linesStartingWith(out, "done")) {
    ASSERT_EQ(row.size(), 6u);
    if (row[1] != "probe.empty") continue;
    ++dones;
    EXPECT_EQ(start_ns[std::stoull(row[3])], std::stoull(row[4])) << "wait " << row[3];
    // 200 ms of backend sleeps around it; an empty region, however
    // descheduled, is far below the 100 ms of one.
    EXPECT_LT(std::stoull(row[5]), 50'000'000u);
  }
  EXPECT_EQ(start_ns.size(), 3u);
  EXPECT_EQ(dones, 3);
}

// perf adds the probe from the object's notes (buildid cache), counts
// wait__done while it runs the workload, and removes it again. perf 6.1
// cannot rename SDT events, so -f gives ours a free name (wait__done_1 if a
// user already has sdt_probemon:wait__done) and only that one is deleted.
TEST_P(ProbeTest, PerfStatCountsWaitDoneExactly) {
  PROBEMON_REQUIRE_TRACING("perf");
  const Target& target = GetParam();
  ASSERT_EQ(run({"perf", "buildid-cache", "--add", target.probes}).status, 0);
  const auto added =
      run({"perf", "probe", "-f", "-x", target.probes, "-a", "%sdt_probemon:wait__done"});
  ASSERT_EQ(added.status, 0) << added.err;
  std::smatch name;
  ASSERT_TRUE(
      std::regex_search(added.err, name, std::regex(R"((sdt_probemon:wait__done\w*) \(on)")))
      << added.err;
  const std::string event = name[1];
  const auto stat = run({"perf", "stat", "-x", ",", "-e", event, "--", target.workload, "--plan",
                         "perf.a:7:0", "--plan", "perf.b:5:1", "--threads", "3"});
  const auto removed = run({"perf", "probe", "-d", event});
  EXPECT_EQ(removed.status, 0) << removed.err;
  ASSERT_EQ(stat.status, 0) << stat.err;
  // perf stat -x, prints "COUNT,,EVENT,..." on stderr.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(stat.err, m, std::regex("(\\d+),," + event + ","))) << stat.err;
  EXPECT_EQ(m[1].str(), "36");  // (7 + 5) waits x 3 threads
}

TEST_P(ProbeTest, GdbListsEveryProbeWithItsSemaphore) {
  PROBEMON_REQUIRE_TRACING("gdb");
  const auto gdb = run({"gdb", "-batch", "-nx", "-ex", "info probes", GetParam().probes});
  ASSERT_EQ(gdb.status, 0) << gdb.err;
  for (const char* probe : {"wait__start", "wait__done", "counter__register", "counter__unregister",
                            "dynamic__value", "wait__batch"}) {
    const std::regex row(std::string(R"(stap\s+probemon\s+)") + probe +
                         R"(\s+0x[0-9a-f]+\s+0x[0-9a-f]+)");
    EXPECT_TRUE(std::regex_search(gdb.out, row)) << probe << " missing in\n" << gdb.out;
  }
}

// Every probe has notes, and no location or semaphore is 0: a note whose
// code was discarded (LTO, --gc-sections) keeps address 0, and libbpf
// refuses to attach to a probe any of whose locations is 0.
TEST_P(ProbeTest, NotesNameEveryProbeAtRealAddresses) {
  const auto readelf = run({"readelf", "--notes", "--wide", GetParam().probes});
  ASSERT_EQ(readelf.status, 0) << readelf.err;
  std::map<std::string, int> locations;
  const std::regex note(
      R"(Provider: probemon\s+Name: (\w+)\s+Location: (0x[0-9a-f]+), Base: 0x[0-9a-f]+, )"
      R"(Semaphore: (0x[0-9a-f]+))");
  for (std::sregex_iterator it(readelf.out.begin(), readelf.out.end(), note), end; it != end;
       ++it) {
    const std::string name = (*it)[1];
    ++locations[name];
    EXPECT_NE(std::stoull((*it)[2].str(), nullptr, 16), 0u) << name << " has a location of 0";
    EXPECT_NE(std::stoull((*it)[3].str(), nullptr, 16), 0u) << name << " has no semaphore";
  }
  for (const char* probe : {"wait__start", "wait__done", "counter__register", "counter__unregister",
                            "dynamic__value", "wait__batch"}) {
    EXPECT_GE(locations[probe], 1) << probe << " missing in\n" << readelf.out;
  }
}

INSTANTIATE_TEST_SUITE_P(Targets, ProbeTest,
                         ::testing::Values(kShared, kStatic, kLtoShared, kLtoStatic),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace probemon::test
