// SPDX-License-Identifier: BSD-3-Clause
// probemon's answers to bad input: one line on stderr saying what to do,
// exit 1 for a bad target or environment, 2 for bad usage; and `list`.
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>
#include <future>
#include <regex>
#include <thread>

#include "ToolTest.h"

namespace probemon::test {
namespace {

RunResult tool(std::vector<std::string> args) {
  args.insert(args.begin(), PROBEMON_TOOL);
  return run(args, 30s);
}

// Exit status `status` and exactly one stderr line matching `message`.
void expectError(const RunResult& result, int status, const std::string& message) {
  EXPECT_EQ(result.status, status) << result.err;
  EXPECT_TRUE(std::regex_match(result.err, std::regex("probemon: [^\n]*" + message + "[^\n]*\n")))
      << "stderr: " << result.err;
  EXPECT_EQ(result.out, "");
}

TEST(CliTest, UsageErrorsExitTwo) {
  expectError(tool({}), 2, "subcommand is required");
  expectError(tool({"hist"}), 2, "give a target: -p PID or --path FILE");
  expectError(tool({"hist", "--bogus", "-p", "1"}), 2, "--bogus");
  expectError(tool({"hist", "-p", "abc"}), 2, "abc");
  expectError(tool({"hist", "-p", "1", "--path", "/bin/true"}), 2, "excludes");
  expectError(tool({"hist", "-p", "1", "--units", "weeks"}), 2, "weeks");
  expectError(tool({"trace", "-p", "1", "-o", "x.json"}), 2, "--output goes with --format chrome");
  expectError(tool({"trace", "-p", "1", "--ringbuf-kb", "1000"}), 2, "power of 2");
  expectError(tool({"top", "-p", "1", "--interval", "0"}), 2, "interval");
  for (const char* listen : {"nonsense", "127.0.0.1", "127.0.0.1:", "127.0.0.1:70000",
                             "localhost:9477", "[::1]:9477", "300.1.1.1:9477", "127.0.0.1:9x"}) {
    expectError(tool({"serve", "-p", "1", "--listen", listen}), 2,
                "--listen '[^']*': give IPV4:PORT, e.g. 127.0.0.1:9477");
  }
  expectError(tool({"serve", "-p", "1", "--json"}), 2, "serve has no --json");
}

TEST(CliTest, HelpExitsZero) {
  const auto result = tool({"hist", "--help"});
  EXPECT_EQ(result.status, 0);
  EXPECT_NE(result.out.find("--max-keys"), std::string::npos) << result.out;
}

TEST(CliTest, APidThatDoesNotExist) {
  expectError(tool({"hist", "-p", "2147483000"}), 1,
              "no process with pid 2147483000: check the pid with ps");
}

// A thread id names no process to watch for its exit (pidfd_open refuses
// it): said, not ignored.
TEST(CliTest, AThreadIdIsNotAProcess) {
  std::promise<pid_t> tid;
  std::promise<void> done;
  std::thread thread([&] {
    tid.set_value(static_cast<pid_t>(::syscall(SYS_gettid)));
    done.get_future().wait();
  });
  const std::string id = std::to_string(tid.get_future().get());
  expectError(tool({"list", "-p", id}), 1,
              id + " is a thread, not a process: give its process id \\(Tgid in /proc/" + id +
                  "/status\\)");
  done.set_value();
  thread.join();
}

TEST(CliTest, AProcessWithoutProbes) {
  Subprocess sleeper({"/bin/sleep", "30"});
  for (const char* view : {"hist", "serve"}) {
    expectError(tool({view, "-p", std::to_string(sleeper.pid())}), 1,
                "process \\d+ has no probemon probes: link it with libprobemon");
  }
}

TEST(CliTest, AFileThatIsNotElfOrMissing) {
  const std::string text = ::testing::TempDir() + "/probemon-not-elf.txt";
  std::ofstream(text) << "not an executable\n";
  expectError(tool({"hist", "--path", text}), 1, "is not an ELF file");
  expectError(tool({"list", "--path", "/nonexistent/app"}), 1, "no such file: /nonexistent/app");
  expectError(tool({"list", "--path", "/bin/true"}), 1, "/bin/true has no probemon probes");
}

TEST(CliTest, NotRootOrWithoutCapabilities) {
  for (const char* view : {"hist", "serve"}) {
    std::vector<std::string> args = {PROBEMON_TOOL, view, "--path", WORKLOAD_STATIC};
    if (::geteuid() == 0) {
      // Root with an empty capability bounding set: no CAP_BPF, no
      // CAP_PERFMON, whatever the permissions of the build tree (a user
      // might not reach it).
      args.insert(args.begin(), {"/usr/bin/setpriv", "--bounding-set=-all", "--inh-caps=-all"});
    }
    expectError(run(args, 30s), 1, "needs root \\(or CAP_BPF and CAP_PERFMON\\): run it with sudo");
  }
}

TEST(ListTest, ProbesInLibraryAndStaticExecutable) {
  for (const char* binary : {WORKLOAD, WORKLOAD_STATIC}) {
    auto workload = startWorkload(binary, {"--await-go"});
    const auto result = tool({"list", "-p", std::to_string(workload->pid()), "--json"});
    ASSERT_EQ(result.status, 0) << result.err;
    const auto doc = nlohmann::json::parse(result.out);
    ASSERT_EQ(doc["objects"].size(), 1U) << result.out;
    const std::string path = doc["objects"][0]["path"];
    if (binary == std::string(WORKLOAD)) {
      EXPECT_NE(path.find("libprobemon.so"), std::string::npos) << path;
    } else {
      EXPECT_EQ(path, WORKLOAD_STATIC);
    }
    std::set<std::string> names;
    for (const auto& probe : doc["objects"][0]["probes"]) {
      EXPECT_EQ(probe["provider"], "probemon");
      EXPECT_NE(probe["semaphore"], 0) << probe.dump();
      names.insert(probe["name"]);
    }
    EXPECT_EQ(names, (std::set<std::string>{"wait__start", "wait__done", "counter__register",
                                            "counter__unregister", "dynamic__value"}));
  }
  const auto text = tool({"list", "--path", WORKLOAD_STATIC});
  EXPECT_EQ(text.status, 0);
  EXPECT_TRUE(std::regex_search(text.out, std::regex("  probemon:wait__done +0x[0-9a-f]+ +0x")))
      << text.out;
}

}  // namespace
}  // namespace probemon::test
