// SPDX-License-Identifier: BSD-3-Clause
// probemon's answers to bad input: one line on stderr saying what to do,
// exit 1 for a bad target or environment, 2 for bad usage; and `list`.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <future>
#include <iterator>
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
  for (const char* buckets : {"", "1us", "1us:", "1:2s", "2s:1s", "1us:550s", "-1us:1s", "1us:1h"}) {
    expectError(tool({"serve", "-p", "1", "--buckets", buckets}), 2,
                "--buckets '[^']*': give FROM:TO, two durations with a unit");
  }
}

// A word that is no subcommand is named, not "A subcommand is required".
TEST(CliTest, AnUnknownSubcommandIsNamed) {
  expectError(tool({"histogram", "-p", "1"}), 2,
              "unknown subcommand 'histogram': use one of list, hist, top, inflight, trace, "
              "counters, serve");
}

// NaN passes every comparison, so it used to pass every range check and
// silently disable the option; infinity and out-of-range numbers are said
// with readable limits (not a 309-digit double).
TEST(CliTest, NumbersMustBeFiniteAndInRange) {
  for (const char* bad : {"nan", "NaN", "inf", "-inf", "1e400", "x"}) {
    expectError(
        tool({"top", "-p", "1", "--interval", bad}), 2,
        std::string("--interval: give a number from 0.01 and at most 86400, not '") + bad + "'");
    expectError(
        tool({"hist", "-p", "1", "--duration", bad}), 2,
        std::string("--duration: give a number above 0 and at most 1e\\+09, not '") + bad + "'");
    for (const char* view : {"trace", "inflight"}) {
      expectError(
          tool({view, "-p", "1", "--min-ms", bad}), 2,
          std::string("--min-ms: give a number from 0 and at most 1e\\+12, not '") + bad + "'");
    }
  }
  expectError(tool({"trace", "-p", "1", "--min-ms", "-1"}), 2, "not '-1'");
  expectError(tool({"hist", "-p", "1", "--duration", "0"}), 2, "not '0'");
  const auto result = tool({"hist", "-p", "1", "--duration", "-5"});
  EXPECT_LT(result.err.size(), 200U) << result.err;
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

// --path names what is wrong with what it names: a device, a directory and
// a fifo are not "no such file" (and a fifo is not opened: that would
// block).
TEST(CliTest, APathThatIsNotARegularFile) {
  expectError(tool({"list", "--path", "/dev/null"}), 1,
              "/dev/null is not a regular file \\(a character device\\)");
  expectError(tool({"hist", "--path", "/tmp"}), 1, "/tmp is a directory");
  const std::string fifo = ::testing::TempDir() + "/probemon-fifo";
  ::unlink(fifo.c_str());
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  expectError(tool({"list", "--path", fifo}), 1,
              "probemon-fifo is not a regular file \\(a fifo\\)");
  ::unlink(fifo.c_str());
}

// A cut-off ELF file is said to be damaged, not to have no probes.
TEST(CliTest, ATruncatedElfFile) {
  std::ifstream in(WORKLOAD_STATIC, std::ios::binary);
  std::string image((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(image.size(), 4096U);
  const std::string cut = ::testing::TempDir() + "/probemon-truncated";
  std::ofstream(cut, std::ios::binary) << image.substr(0, image.size() / 2);
  expectError(tool({"list", "--path", cut}), 1,
              "probemon-truncated is a damaged or truncated ELF file \\(its section headers end "
              "past its [0-9]+ bytes\\)");
}

// A zombie and a kernel thread cannot run probes; said as such.
TEST(CliTest, AZombieOrAKernelThread) {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  siginfo_t info{};
  // Wait for the exit but leave the child unreaped: a zombie.
  ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOWAIT), 0);
  const std::string id = std::to_string(child);
  expectError(tool({"hist", "-p", id}), 1,
              "process " + id + " has exited \\(a zombie its parent has not reaped\\)");
  ::waitpid(child, nullptr, 0);
  // kthreadd, pid 2, is a kernel thread wherever /proc shows the host's pids.
  std::ifstream comm("/proc/2/comm");
  std::string name;
  if (std::getline(comm, name) && name == "kthreadd") {
    expectError(tool({"list", "-p", "2"}), 1, "2 is a kernel thread: it runs no user code");
  }
}

// A probe site that is not libprobemon's (wait__done with 2 arguments, not
// 5) is refused before attaching: a BPF program would read nothing from it,
// silently.
TEST(CliTest, AProbeWithTooFewArgumentsIsRefused) {
  PROBEMON_REQUIRE_TRACING();
  expectError(tool({"hist", "--path", ROGUE_SHORT_ARGS, "--duration", "1"}), 1,
              "probemon:wait__done in [^ ]*probemon-test-rogue-short-args has 2 arguments where "
              "probemon's probe ABI has 5: it is not libprobemon's probe");
}

// Thousands of sites would take minutes to attach and detach, deaf to
// Ctrl-C: refused at once.
TEST(CliTest, AFileWithThousandsOfSitesIsRefused) {
  PROBEMON_REQUIRE_TRACING();
  expectError(tool({"hist", "--path", ROGUE_MANY_SITES, "--duration", "1"}), 1,
              "probemon:wait__done has 3001 sites in [^ ]*probemon-test-rogue-many-sites "
              "\\(every process\\), more than the 64 a probemon build can have");
}

// --max-keys 16 M would ask the kernel for tens of GB of per-CPU maps: the
// estimate is said and the load refused.
TEST(CliTest, MaxKeysThatTheMachineCannotHoldAreRefused) {
  PROBEMON_REQUIRE_TRACING();
  expectError(tool({"hist", "--path", WORKLOAD_STATIC, "--max-keys", "16777216"}), 1,
              "the maps of BPF program latency would take about [0-9.]+ GB of kernel memory with "
              "--max-keys 16777216 \\(preallocated, per-CPU ones once per possible CPU: [0-9]+ "
              "here\\), more than half the [0-9.]+ GB available now: lower --max-keys");
}

// -o is opened before anything is attached: a bad path fails at once.
TEST(CliTest, TheOutputFileIsOpenedFirst) {
  Subprocess sleeper({"/bin/sleep", "30"});
  expectError(tool({"trace", "-p", std::to_string(sleeper.pid()), "--format", "chrome", "-o",
                    "/nonexistent/dir/trace.json"}),
              1, "cannot open /nonexistent/dir/trace.json for writing: No such file or directory");
}

// A full disk is an error with exit status 1, not a silent exit 0.
TEST(CliTest, WritingToAFullDeviceFails) {
  for (const char* json : {"", "--json"}) {
    const auto result = run({"/bin/sh", "-c", "exec \"$0\" list --path \"$1\" $2 >/dev/full",
                             PROBEMON_TOOL, WORKLOAD_STATIC, json},
                            30s);
    EXPECT_EQ(result.status, 1) << result.err;
    EXPECT_EQ(result.err, "probemon: cannot write the output: No space left on device\n");
  }
}

// Paths and probe names from the target's files reach the terminal escaped.
TEST(CliTest, ListEscapesWhatTheFileNames) {
  const std::string dir = ::testing::TempDir() + "/probemon-list-\x1b[2J\n";
  ::mkdir(dir.c_str(), 0700);
  const std::string copy = dir + "/app";
  ::unlink(copy.c_str());
  ASSERT_EQ(::symlink(WORKLOAD_STATIC, copy.c_str()), 0);
  const auto text = tool({"list", "--path", copy});
  ASSERT_EQ(text.status, 0) << text.err;
  EXPECT_EQ(text.out.find('\x1b'), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("probemon-list-\\x1b[2J\\n/app\n"), std::string::npos) << text.out;
  const auto json = tool({"list", "--path", copy, "--json"});
  ASSERT_EQ(json.status, 0) << json.err;
  EXPECT_EQ(nlohmann::json::parse(json.out)["objects"][0]["path"], copy);
  ::unlink(copy.c_str());
  ::rmdir(dir.c_str());
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
    expectError(run(args, 30s), 1,
                "needs root: run it as root \\(sudo\\): attaching uprobes needs CAP_SYS_ADMIN");
  }
}

// What this kernel really needs, measured with root's capabilities cut
// down: CAP_BPF and CAP_PERFMON load the programs but the uprobe PMU
// refuses them (the check used to pass, then the attach said "Permission
// denied"); CAP_SYS_ADMIN attaches with --path; -p also needs
// CAP_SYS_PTRACE for /proc/PID/root (without it every file of the process
// read as missing: "has no probemon probes").
TEST(CliTest, TheCapabilitiesThisKernelNeeds) {
  PROBEMON_REQUIRE_TRACING();
  const auto as = [](const char* caps, std::vector<std::string> args) {
    args.insert(args.begin(), {"/usr/bin/setpriv", std::string("--bounding-set=-all,") + caps,
                               "--inh-caps=-all", PROBEMON_TOOL});
    return run(args, 30s);
  };
  expectError(as("+bpf,+perfmon", {"hist", "--path", WORKLOAD_STATIC, "--duration", "0.1"}), 1,
              "the kernel refuses uprobes to this process \\(perf_event_open: Permission "
              "denied\\): run it as root \\(sudo\\): attaching uprobes needs CAP_SYS_ADMIN");
  const auto admin = as("+sys_admin", {"hist", "--path", WORKLOAD_STATIC, "--duration", "0.1"});
  EXPECT_EQ(admin.status, 0) << admin.err;
  auto workload = startWorkload(WORKLOAD_STATIC, {"--await-go"});
  const std::string id = std::to_string(workload->pid());
  expectError(as("+sys_admin", {"hist", "-p", id, "--duration", "0.1"}), 1,
              "cannot read the files of process " + id + " through /proc/" + id +
                  "/root: Permission denied: run it as root");
  const auto ptrace = as("+sys_admin,+sys_ptrace", {"hist", "-p", id, "--duration", "0.1"});
  EXPECT_EQ(ptrace.status, 0) << ptrace.err;
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
                                            "counter__unregister", "dynamic__value",
                                            "wait__batch"}));
  }
  const auto text = tool({"list", "--path", WORKLOAD_STATIC});
  EXPECT_EQ(text.status, 0);
  EXPECT_TRUE(std::regex_search(text.out, std::regex("  probemon:wait__done +0x[0-9a-f]+ +0x")))
      << text.out;
}

}  // namespace
}  // namespace probemon::test
