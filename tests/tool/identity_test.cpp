// SPDX-License-Identifier: BSD-3-Clause
// Identities that go stale: a process that executes a new image numbers its
// keys from 1 again, and a new process may get the pid of one that exited;
// each image keeps its own key names and histograms. A process whose
// libprobemon.so was replaced on disk still has its probes found. And the
// key_ids of DynamicCounters do not crowd out wait keys in hist -p.
#include <gtest/gtest.h>

#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <map>
#include <regex>
#include <tuple>

#include "ToolTest.h"

namespace probemon::test {
namespace {

// (key, generation) -> count of the keys of hist's last document.
using Counts = std::map<std::pair<std::string, int>, std::uint64_t>;

Counts countsOf(const nlohmann::json& doc, int pid) {
  Counts counts;
  for (const auto& key : doc["keys"]) {
    EXPECT_EQ(key["pid"], pid) << key.dump();
    counts[{key["key"], key.value("generation", 0)}] = key["count"];
  }
  return counts;
}

// 100 waits on before.exec, exec, 300 on after.exec: both images number
// their one key 1. The tool has read and cached the first image's name
// (--interval) before the second image starts.
TEST(ExecTest, EachImageKeepsItsOwnNamesAndHistograms) {
  PROBEMON_REQUIRE_TRACING();
  auto workload = startWorkload(WORKLOAD, {"--await-go", "--plan", "before.exec:100:0",
                                           "--exec=--plan after.exec:300:0 --await-detach"});
  auto tool = startTool({"hist", "-p", pidOf(*workload), "--interval", "0.05", "--json"});
  ASSERT_TRUE(waitAttached(*tool)) << tool->out();
  sendGo(*workload);
  ASSERT_TRUE(workload->waitForLine(std::regex("^exec$"), 10s)) << workload->out();
  ASSERT_TRUE(tool->waitForLine(std::regex("\"key\":\"before.exec\""), 10s)) << tool->out();
  workload->writeStdin("exec\n");
  ASSERT_TRUE(workload->waitForLine(std::regex("^done$"), 10s)) << workload->out();
  tool->signal(SIGINT);
  ASSERT_EQ(tool->wait(10s), 0) << tool->out();
  EXPECT_TRUE(workload->waitForLine(std::regex("^detached$"), 10s)) << workload->err();
  EXPECT_EQ(workload->wait(10s), 0) << workload->err();
  const auto docs = jsonLines(tool->out());
  ASSERT_FALSE(docs.empty());
  EXPECT_EQ(countsOf(docs.back(), workload->pid()),
            (Counts{{{"before.exec", 0}, 100}, {{"after.exec", 1}, 300}}))
      << docs.back().dump();
  EXPECT_EQ(docs.back()["dropped"]["waits"], 0);
}

// --path: a process exits and a new one gets its pid; its key 1 is another
// key than the first process's key 1. The new process is image 1 of the pid
// (its creation, a copy of the --as-pid runner) and image 2 once it executes
// the workload.
TEST(PidReuseTest, ANewProcessWithAnOldPidKeepsItsOwnKeys) {
  PROBEMON_REQUIRE_TRACING();
  auto tool = startTool({"hist", "--path", WORKLOAD_STATIC, "--json"});
  ASSERT_TRUE(waitAttached(*tool)) << tool->out();
  auto first = startWorkload(WORKLOAD_STATIC, {"--plan", "reuse.first:5:0"});
  ASSERT_EQ(first->wait(30s), 0) << first->err();
  const int pid = first->pid();
  auto second = startWorkload(WORKLOAD_STATIC,
                              {"--as-pid", std::to_string(pid), "--plan", "reuse.second:7:0"});
  ASSERT_EQ(second->wait(30s), 0) << second->err();
  ASSERT_NE(second->out().find("ready pid=" + std::to_string(pid) + "\n"), std::string::npos)
      << second->out();
  tool->signal(SIGINT);
  ASSERT_EQ(tool->wait(10s), 0) << tool->out();
  const auto docs = jsonLines(tool->out());
  ASSERT_EQ(docs.size(), 1U) << tool->out();
  Counts counts;
  for (const auto& key : docs[0]["keys"]) {
    if (key["pid"] == pid) counts[{key["key"], key.value("generation", 0)}] = key["count"];
  }
  EXPECT_EQ(counts, (Counts{{{"reuse.first", 0}, 5}, {{"reuse.second", 2}, 7}})) << docs[0].dump();
}

// A library replaced on disk while a process maps it (an upgrade): the
// mapping reads "(deleted)" in /proc/PID/maps, and the tool reaches the file
// through /proc/PID/map_files/.
TEST(DeletedLibraryTest, ProbesOfAReplacedLibraryAreStillFound) {
  PROBEMON_REQUIRE_TRACING();
  namespace fs = std::filesystem;
  const fs::path dir =
      fs::path(::testing::TempDir()) / ("probemon-deleted-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path copy = dir / "libprobemon.so.0";
  fs::copy_file(LIBPROBEMON, copy, fs::copy_options::overwrite_existing);
  auto workload = startWorkload("/usr/bin/env", {"LD_LIBRARY_PATH=" + dir.string(), WORKLOAD,
                                                 "--await-go", "--plan", "deleted.lib:6:0"});
  const std::string pid = pidOf(*workload);
  // Replaced as an upgrade does: a new file renamed over the old one.
  fs::copy_file(LIBPROBEMON, dir / "next.so", fs::copy_options::overwrite_existing);
  fs::rename(dir / "next.so", copy);
  const auto list = run({PROBEMON_TOOL, "list", "-p", pid});
  ASSERT_EQ(list.status, 0) << list.err;
  EXPECT_NE(list.out.find(copy.string() + " (deleted) (pid " + pid + ")\n"), std::string::npos)
      << list.out;
  auto tool = startTool({"hist", "-p", pid, "--json"});
  ASSERT_TRUE(waitAttached(*tool)) << tool->out();
  sendGo(*workload);
  ASSERT_EQ(workload->wait(30s), 0) << workload->err();
  ASSERT_EQ(tool->wait(10s), 0) << tool->out();
  const auto docs = jsonLines(tool->out());
  ASSERT_EQ(docs.size(), 1U) << tool->out();
  EXPECT_EQ(countsOf(docs[0], workload->pid()), (Counts{{{"deleted.lib", 0}, 6}}))
      << docs[0].dump();
  fs::remove_all(dir);
}

// 5,000 DynamicCounters take key_ids 1 to 5000; the one wait key comes after
// them, above --max-keys (4096), and is still counted: --max-keys bounds the
// keys that have waits, not their key_ids.
TEST(DynamicCounterKeysTest, DoNotCrowdOutWaitKeys) {
  PROBEMON_REQUIRE_TRACING();
  std::vector<std::string> args = {"--await-go", "--plan", "after.counters:9:0"};
  for (int i = 0; i < 5000; ++i) {
    args.push_back("--counter");
    args.push_back("dc." + std::to_string(i) + "=" + std::to_string(i));
  }
  auto workload = startWorkload(WORKLOAD, args);
  auto tool = startTool({"hist", "-p", pidOf(*workload), "--json"});
  ASSERT_TRUE(waitAttached(*tool)) << tool->out();
  sendGo(*workload);
  ASSERT_EQ(workload->wait(60s), 0) << workload->err();
  ASSERT_EQ(tool->wait(10s), 0) << tool->out();
  const auto docs = jsonLines(tool->out());
  ASSERT_EQ(docs.size(), 1U) << tool->out();
  ASSERT_EQ(docs[0]["keys"].size(), 1U) << docs[0].dump();
  EXPECT_EQ(docs[0]["keys"][0]["key"], "after.counters");
  EXPECT_EQ(docs[0]["keys"][0]["key_id"], 5001);
  EXPECT_EQ(docs[0]["keys"][0]["count"], 9);
  EXPECT_EQ(docs[0]["dropped"]["waits"], 0);
}

}  // namespace
}  // namespace probemon::test
