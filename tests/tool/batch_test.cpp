// SPDX-License-Identifier: BSD-3-Clause
// Batched probe mode (wait__batch, src/WaitBatch.h) against one trap per
// wait (--no-batch): the same waits give the same histograms, also when both
// tools trace one run; a thread's last partial batch is counted whether the
// thread then idles or exits; and a target waiting at full speed on 4
// threads survives 20 attaches and detaches with its semaphores back at 0.
#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include "ToolTest.h"

namespace probemon::test {
namespace {

// The histogram fields both modes must agree on, per key name.
nlohmann::json histogramsOf(const nlohmann::json& doc, bool with_times) {
  nlohmann::json keys = nlohmann::json::object();
  for (const auto& key : doc["keys"]) {
    nlohmann::json hist = {{"count", key["count"]}, {"buckets", key["buckets"]}};
    if (with_times) {
      for (const char* field : {"sum_ns", "min_ns", "max_ns"}) hist[field] = key[field];
    }
    keys[key["key"].get<std::string>()] = hist;
  }
  return keys;
}

// `hist -p PID --json TOOL_ARGS` over a workload run (`workload_args` hold
// --await-go) until it exits; the one JSON document.
nlohmann::json histOf(const std::vector<std::string>& workload_args,
                      const std::vector<std::string>& tool_args) {
  std::vector<std::string> args = {"--json"};
  args.insert(args.end(), tool_args.begin(), tool_args.end());
  const auto docs = jsonLines(viewOfWorkload("hist", WORKLOAD, workload_args, args));
  EXPECT_EQ(docs.size(), 1U);
  return docs.empty() ? nlohmann::json() : docs[0];
}

const nlohmann::json kNothingDropped = {
    {"waits", 0}, {"batches", 0}, {"names", 0}, {"images", 0}, {"missed", 0}};

// In milliseconds, waits of no sleep (under 2 ms: slot 0) and of 20 ms
// sleeps (16 to 32 ms): far from the seams even on a loaded machine, so
// both runs bucket every wait alike.
const std::vector<std::string> kPlans = {
    "--await-go", "--threads", "3", "--plan", "batch.short:40:0", "--plan", "batch.long:5:20"};

TEST(BatchTest, BothModesGiveTheSameCountsAndBuckets) {
  PROBEMON_REQUIRE_TRACING();
  const auto batched = histOf(kPlans, {"--units", "msecs"});
  const auto per_wait = histOf(kPlans, {"--units", "msecs", "--no-batch"});
  EXPECT_EQ(batched["dropped"], kNothingDropped);
  const nlohmann::json expected = {
      {"batch.short", {{"count", 120}, {"buckets", {{{"count", 120}, {"high", 1}, {"low", 0}}}}}},
      {"batch.long", {{"count", 15}, {"buckets", {{{"count", 15}, {"high", 31}, {"low", 16}}}}}}};
  EXPECT_EQ(histogramsOf(batched, false), expected) << batched.dump();
  EXPECT_EQ(histogramsOf(per_wait, false), expected) << per_wait.dump();
}

// Both tools on one run: the batched one and one that traps per wait (like
// a bpftrace on wait__done) see every wait with the same duration.
TEST(BatchTest, BatchedAndPerWaitToolsOnOneRunAgreeExactly) {
  PROBEMON_REQUIRE_TRACING();
  auto workload = startWorkload(WORKLOAD, {"--await-go", "--threads", "2", "--plan",
                                           "batch.a:300:0", "--plan", "batch.b:20:2"});
  auto batched = startTool({"hist", "-p", pidOf(*workload), "--json"});
  auto per_wait = startTool({"hist", "-p", pidOf(*workload), "--json", "--no-batch"});
  ASSERT_TRUE(waitAttached(*batched)) << batched->out();
  ASSERT_TRUE(waitAttached(*per_wait)) << per_wait->out();
  sendGo(*workload);
  ASSERT_EQ(workload->wait(30s), 0) << workload->err();
  ASSERT_EQ(batched->wait(10s), 0) << batched->out();
  ASSERT_EQ(per_wait->wait(10s), 0) << per_wait->out();
  const auto a = jsonLines(batched->out()), b = jsonLines(per_wait->out());
  ASSERT_EQ(a.size(), 1U);
  ASSERT_EQ(b.size(), 1U);
  EXPECT_EQ(a[0]["dropped"], kNothingDropped);
  EXPECT_EQ(histogramsOf(a[0], true), histogramsOf(b[0], true)) << a[0].dump() << b[0].dump();
  EXPECT_EQ(histogramsOf(a[0], false)["batch.a"]["count"], 600);
  EXPECT_EQ(histogramsOf(a[0], false)["batch.b"]["count"], 40);
}

// `hist -p PID --json --duration 2` on a workload (`workload_args` hold
// --await-go and --await-detach) that outlives the session: its one JSON
// document, checked to have ended by its duration with nothing dropped
// (one with no keys after a failure).
nlohmann::json histOfTwoSeconds(const std::vector<std::string>& workload_args) {
  auto workload = startWorkload(WORKLOAD, workload_args);
  auto tool = startTool({"hist", "-p", pidOf(*workload), "--json", "--duration", "2"});
  if (!waitAttached(*tool)) {
    ADD_FAILURE() << "the tool did not attach: " << tool->out();
    return {{"keys", nlohmann::json::array()}};
  }
  sendGo(*workload);
  EXPECT_EQ(tool->wait(30s), 0) << tool->out();
  EXPECT_EQ(workload->wait(30s), 0) << workload->err();
  const auto docs = jsonLines(tool->out());
  if (docs.size() != 1U) {
    ADD_FAILURE() << "want one JSON document: " << tool->out();
    return {{"keys", nlohmann::json::array()}};
  }
  EXPECT_EQ(docs[0]["end"], "duration over");
  EXPECT_EQ(docs[0]["dropped"], kNothingDropped);
  return docs[0];
}

// The session ends (--duration) while the target lives on: the partial
// batches of threads that exited were handed over as they exited.
TEST(BatchTest, ExitedThreadsPartialBatchesAreCounted) {
  PROBEMON_REQUIRE_TRACING();
  // 7 waits (far below a batch of 1,024) on each of 3 threads that exit.
  const auto doc = histOfTwoSeconds(
      {"--await-go", "--threads", "3", "--plan", "batch.exited:7:0", "--await-detach"});
  EXPECT_EQ(histogramsOf(doc, false)["batch.exited"]["count"], 21) << doc.dump();
}

// The session ends while a thread that waited idles: the tool collects its
// partial batch (the target's flusher hands it over) before it detaches.
TEST(BatchTest, IdleThreadsPartialBatchIsCountedBeforeDetach) {
  PROBEMON_REQUIRE_TRACING();
  // One thread waits 9 times and lingers, alive and idle, for 5 s; the tool
  // ends after 2 s, while it idles.
  const auto doc = histOfTwoSeconds(
      {"--await-go", "--plan", "batch.idle:9:0", "--linger-ms", "5000", "--await-detach"});
  EXPECT_EQ(histogramsOf(doc, false)["batch.idle"]["count"], 9) << doc.dump();
}

// 4 threads waiting back to back from before 'ready' until 'go'; the tool
// attaches and detaches 20 times meanwhile. Every session counts waits and
// drops none; the target exits 0, which it does once every semaphore is
// down again (--await-detach).
TEST(BatchTest, TwentyAttachesToAFullSpeedTarget) {
  PROBEMON_REQUIRE_TRACING();
  std::vector<std::string> args = {"--await-go", "--await-detach"};
  for (int i = 0; i < 4; ++i) args.insert(args.end(), {"--busy", "batch.busy:0"});
  auto workload = startWorkload(WORKLOAD, args);
  for (int session = 0; session < 20; ++session) {
    auto tool = startTool({"hist", "-p", pidOf(*workload), "--json", "--duration", "0.3"});
    ASSERT_EQ(tool->wait(60s), 0) << tool->out();
    const auto docs = jsonLines(tool->out());
    ASSERT_EQ(docs.size(), 1U) << tool->out();
    EXPECT_EQ(docs[0]["dropped"], kNothingDropped) << session;
    EXPECT_GT(histogramsOf(docs[0], false)["batch.busy"]["count"].get<std::uint64_t>(), 0U)
        << docs[0].dump();
  }
  sendGo(*workload);
  EXPECT_TRUE(workload->waitForLine(std::regex("^detached$"), 30s)) << workload->err();
  EXPECT_EQ(workload->wait(30s), 0) << workload->err();
}

}  // namespace
}  // namespace probemon::test
