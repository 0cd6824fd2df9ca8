// SPDX-License-Identifier: BSD-3-Clause
// probemon against a traced process that controls what the tool reads: key
// names with terminal escapes and invalid UTF-8 in every view, key names
// the BPF program cannot read at first, a Chrome trace streamed to its file
// and a full disk under it, the names drop of counters counted per key,
// Ctrl-C while attaching, and another tracer's uprobe on a probe.
#include <elf.h>
#include <gtest/gtest.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include "ToolTest.h"

namespace probemon::test {
namespace {

// Keys a hostile process might choose: clear the screen, paint it red,
// return to the line start, split the row.
const std::string kEvilWait = "esc\x1b[2J\x1b[31mRED\rrow\nX";
const std::string kEvilWaitShown = R"(esc\x1b[2J\x1b[31mRED\rrow\nX)";
const std::string kEvilHold = "held\x1b[31m\xff";
const std::string kEvilHoldShown = R"(held\x1b[31m\xff)";
const std::string kEvilCounter = "counter\x1b]0;title\x07";
const std::string kEvilCounterShown = R"(counter\x1b]0;title\x07)";

std::string fileText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Every view's text output: the key reaches the terminal escaped, and not
// one control byte of it gets through.
class EscapedKeysTest
    : public ::testing::TestWithParam<std::pair<const char*, const std::string*>> {};

TEST_P(EscapedKeysTest, KeyNamesReachTheTerminalEscaped) {
  PROBEMON_REQUIRE_TRACING();
  const auto [view, shown] = GetParam();
  std::vector<std::string> args;
  if (view != std::string("trace")) args = {"--interval", "0.2"};
  const std::string out =
      viewOfWorkload(view, WORKLOAD,
                     {"--await-go", "--plan", kEvilWait + ":3:1", "--hold", kEvilHold + ":1500",
                      "--counter", kEvilCounter + "=5", "--linger-ms", "1500"},
                     args);
  EXPECT_NE(out.find(*shown), std::string::npos) << out;
  for (const char control : {'\x1b', '\r', '\x07'}) {
    EXPECT_EQ(out.find(control), std::string::npos)
        << "control byte " << int{control} << ": " << out;
  }
}

INSTANTIATE_TEST_SUITE_P(Views, EscapedKeysTest,
                         ::testing::Values(std::pair{"hist", &kEvilWaitShown},
                                           std::pair{"top", &kEvilWaitShown},
                                           std::pair{"trace", &kEvilWaitShown},
                                           std::pair{"inflight", &kEvilHoldShown},
                                           std::pair{"counters", &kEvilCounterShown}),
                         [](const auto& info) { return std::string(info.param.first); });

// In JSON, two keys that differ only in an invalid byte stay two keys (both
// used to become "k\ufffd"), each byte shown as \xNN.
TEST(EscapedKeysJsonTest, KeysThatDifferInInvalidBytesStayApart) {
  PROBEMON_REQUIRE_TRACING();
  const std::string out = viewOfWorkload(
      "hist", WORKLOAD, {"--await-go", "--plan", "k\xfe:2:0", "--plan", "k\xff:3:0"}, {"--json"});
  const auto docs = jsonLines(out);
  ASSERT_EQ(docs.size(), 1U) << out;
  std::map<std::string, std::uint64_t> counts;
  for (const auto& key : docs[0]["keys"]) counts[key["key"]] = key["count"];
  EXPECT_EQ(counts, (std::map<std::string, std::uint64_t>{{R"(k\xfe)", 2}, {R"(k\xff)", 3}}));
}

// trace --format chrome writes each wait as it comes: the file holds the
// waits while the tool still runs (it used to keep every event in memory
// until exit: 1.7 GB in 16 s against a busy target), and is a whole
// document once it stops.
TEST(ChromeTraceTest, StreamsToTheFileWhileItRuns) {
  PROBEMON_REQUIRE_TRACING();
  constexpr int kWaits = 400;
  const std::string file = ::testing::TempDir() + "/probemon-stream.json";
  ::unlink(file.c_str());
  auto workload = startWorkload(
      WORKLOAD, {"--await-go", "--plan", "test.stream:" + std::to_string(kWaits) + ":0",
                 "--linger-ms", "60000"});
  auto tool = startTool({"trace", "-p", pidOf(*workload), "--format", "chrome", "-o", file});
  ASSERT_TRUE(waitAttached(*tool)) << tool->out();
  sendGo(*workload);
  // stdio's buffer (a block of the file system) holds back at most a few
  // dozen events of about 190 bytes.
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (count(fileText(file), "\"ph\":\"X\"") < 300 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_GE(count(fileText(file), "\"ph\":\"X\""), 300U) << "the tool still runs";
  tool->signal(SIGINT);
  ASSERT_EQ(tool->wait(10s), 0) << tool->out();
  const auto doc = nlohmann::json::parse(fileText(file));
  EXPECT_EQ(doc["traceEvents"].size(), static_cast<std::size_t>(kWaits));
  EXPECT_EQ(doc["otherData"]["dropped"]["events"], 0);
  for (const auto& e : doc["traceEvents"]) {
    EXPECT_EQ(e["name"], "test.stream");
    EXPECT_EQ(e["pid"], workload->pid());
  }
}

// -o on a full device: an error and exit status 1 (it used to exit 0 with
// nothing written).
TEST(ChromeTraceTest, AFullDiskIsAnError) {
  PROBEMON_REQUIRE_TRACING();
  auto workload = startWorkload(WORKLOAD, {"--await-go", "--plan", "test.full:5:0"});
  auto tool = startTool({"trace", "-p", pidOf(*workload), "--format", "chrome", "-o", "/dev/full"});
  ASSERT_TRUE(waitAttached(*tool)) << tool->out();
  sendGo(*workload);
  ASSERT_EQ(workload->wait(30s), 0) << workload->err();
  EXPECT_EQ(tool->wait(10s), 1) << tool->out();
  EXPECT_NE(tool->out().find("probemon: cannot write /dev/full: No space left on device\n"),
            std::string::npos)
      << tool->out();
}

// A key string the BPF program cannot read when the key is first seen (its
// page not yet in the process's memory) is counted under names, shown as
// unknown, and read again on the key's next waits: it used to be stored as
// "" for good, uncounted.
TEST(UnreadableKeyTest, IsCountedAndReadAgainLater) {
  PROBEMON_REQUIRE_TRACING();
  for (const char* view : {"hist", "trace"}) {
    Subprocess rogue({ROGUE});
    ASSERT_TRUE(rogue.waitForLine(std::regex("^ready pid="), 10s)) << rogue.err();
    auto tool = startTool({view, "-p", pidOf(rogue), "--json"});
    ASSERT_TRUE(waitAttached(*tool)) << tool->out();
    rogue.writeStdin("cold\n");
    ASSERT_TRUE(rogue.waitForLine(std::regex("^fired cold$"), 10s)) << rogue.err();
    rogue.writeStdin("warm\n");
    ASSERT_TRUE(rogue.waitForLine(std::regex("^fired warm$"), 10s)) << rogue.err();
    rogue.closeStdin();
    ASSERT_EQ(rogue.wait(10s), 0) << rogue.err();
    ASSERT_EQ(tool->wait(10s), 0) << tool->out();
    const auto docs = jsonLines(tool->out());
    ASSERT_FALSE(docs.empty()) << tool->out();
    const auto& last = docs.back();
    EXPECT_EQ(last["dropped"]["names"], 1) << view << ": " << last.dump();
    if (view == std::string("hist")) {
      ASSERT_EQ(last["keys"].size(), 1U) << last.dump();
      EXPECT_EQ(last["keys"][0]["key"], "rogue.cold");
      EXPECT_EQ(last["keys"][0]["count"], 5);
    } else {
      ASSERT_EQ(docs.size(), 6U) << tool->out();  // 5 waits and the summary
      for (std::size_t i = 0; i < 5; ++i) {
        // Named once read; unknown (null) before, never "".
        EXPECT_TRUE(docs[i]["key"].is_null() || docs[i]["key"] == "rogue.cold") << docs[i];
      }
      EXPECT_EQ(docs[4]["key"], "rogue.cold");
    }
  }
}

// Every sample of a counter that did not fit used to add one to the names
// drop; it counts keys now, and the samples count as counter events lost.
TEST(CountersDropTest, NamesAreCountedPerKeyNotPerSample) {
  PROBEMON_REQUIRE_TRACING();
  const std::string out =
      viewOfWorkload("counters", WORKLOAD_STATIC,
                     {"--await-go", "--counter", "test.a=1", "--counter", "test.b=2", "--counter",
                      "test.c=3", "--linger-ms", "1500"},
                     {"--max-keys", "1", "--interval", "0.2", "--json"});
  const auto docs = jsonLines(out);
  ASSERT_FALSE(docs.empty()) << out;
  const auto& last = docs.back();
  EXPECT_EQ(last["counters"].size(), 1U) << last.dump();
  EXPECT_EQ(last["dropped"]["names"], 0) << last.dump();
  // Two keys without room, each registered and then sampled every 50 ms.
  EXPECT_GE(last["dropped"]["counters"].get<std::uint64_t>(), 10U) << last.dump();
}

// Ctrl-C while the programs load and attach ends the tool at the next
// attach, with nothing traced (it used to be seen only once every probe was
// attached, minutes with thousands of sites). The SIGINT is pending before
// the tool starts: blocked and raised, it stays pending across exec.
TEST(InterruptTest, ACtrlCWhileAttachingEndsTheTool) {
  PROBEMON_REQUIRE_TRACING();
  const auto result =
      run({"/usr/bin/perl", "-MPOSIX", "-e",
           "sigprocmask(SIG_BLOCK, POSIX::SigSet->new(SIGINT)); kill 'INT', $$; exec @ARGV",
           PROBEMON_TOOL, "hist", "--path", WORKLOAD_STATIC},
          30s);
  EXPECT_EQ(result.status, 1) << result.out;
  EXPECT_EQ(result.err,
            "probemon: interrupted before every probe was attached: nothing was traced\n");
}

// The file offset of virtual address `pc` in the ELF file at `path`.
std::uint64_t fileOffset(const std::string& path, std::uint64_t pc) {
  const std::string image = fileText(path);
  Elf64_Ehdr header{};
  std::memcpy(&header, image.data(), sizeof(header));
  for (unsigned i = 0; i < header.e_phnum; ++i) {
    Elf64_Phdr segment{};
    std::memcpy(&segment, image.data() + header.e_phoff + i * header.e_phentsize, sizeof(segment));
    if (segment.p_type == PT_LOAD && pc >= segment.p_vaddr &&
        pc < segment.p_vaddr + segment.p_filesz) {
      return pc - segment.p_vaddr + segment.p_offset;
    }
  }
  return 0;
}

// Another tracer's plain uprobe (no semaphore) on the probe's address, as a
// perf probe or a bpftrace uprobe would place: the kernel refuses probemon's
// (which raises the semaphore) with EINVAL, the cause only in dmesg. The
// error says it. The probe is wait__batch, the one hist attaches by default.
TEST(UprobeConflictTest, AnotherTracersUprobeIsNamedAsTheLikelyCause) {
  PROBEMON_REQUIRE_TRACING();
  const auto list = run({PROBEMON_TOOL, "list", "--path", WORKLOAD_STATIC, "--json"}, 30s);
  ASSERT_EQ(list.status, 0) << list.err;
  // Named: a range-for over a member of a temporary would read freed memory.
  const auto doc = nlohmann::json::parse(list.out);
  std::uint64_t pc = 0;
  for (const auto& probe : doc["objects"][0]["probes"]) {
    if (probe["name"] == "wait__batch") pc = probe["pc"];
  }
  const std::uint64_t offset = fileOffset(WORKLOAD_STATIC, pc);
  ASSERT_NE(offset, 0U) << "pc " << pc;
  std::ifstream type_file("/sys/bus/event_source/devices/uprobe/type");
  std::uint32_t type = 0;
  ASSERT_TRUE(type_file >> type);
  perf_event_attr attr{};
  attr.size = sizeof(attr);
  attr.type = type;
  attr.config1 = reinterpret_cast<std::uintptr_t>(WORKLOAD_STATIC);  // the file
  attr.config2 = offset;
  const int uprobe = static_cast<int>(
      ::syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC));  // every process
  ASSERT_GE(uprobe, 0) << std::strerror(errno);
  const auto result =
      run({PROBEMON_TOOL, "hist", "--path", WORKLOAD_STATIC, "--duration", "1"}, 30s);
  ::close(uprobe);
  EXPECT_EQ(result.status, 1) << result.err;
  EXPECT_NE(result.err.find(
                "Invalid argument: another tracer may hold a uprobe on this probe without its "
                "semaphore"),
            std::string::npos)
      << result.err;
}

}  // namespace
}  // namespace probemon::test
