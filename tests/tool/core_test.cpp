// SPDX-License-Identifier: BSD-3-Clause
// Parts of the tool's loader that need no kernel: the USDT note reader and
// the argument-spec parser on untrusted input (the fuzz targets' seeds), and
// the estimate of what a program's maps take.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "MapMemory.h"
#include "UsdtArgs.h"
#include "UsdtNotes.h"

namespace probemon::tool {
namespace {

std::vector<char> seed(const std::string& name) {
  std::ifstream in(std::string(PROBEMON_FUZZ_CORPUS) + "/usdt_notes/" + name, std::ios::binary);
  return std::vector<char>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::vector<UsdtArg> args(const std::string& spec) {
  std::string error;
  auto parsed = parseUsdtArgs(spec, error);
  EXPECT_TRUE(parsed) << spec << ": " << error;
  return parsed.value_or(std::vector<UsdtArg>{});
}

std::string argsError(const std::string& spec) {
  std::string error;
  EXPECT_FALSE(parseUsdtArgs(spec, error)) << spec;
  return error;
}

TEST(UsdtNotesTest, ReadsTheProbesOfOneProvider) {
  auto image = seed("probes.o");  // gcc -c of two probemon probes and one other
  ASSERT_FALSE(image.empty());
  const auto probes = readUsdtProbes(image.data(), image.size(), "probemon", "probes.o");
  ASSERT_EQ(probes.size(), 2U);
  EXPECT_EQ(probes[0].name, "wait__done");
  EXPECT_EQ(probes[0].args, "8@%rdi -8@%rsi -8@%rdx -8@%rcx -8@%r8");
  EXPECT_EQ(probes[1].name, "counter__register");
  EXPECT_EQ(probes[1].semaphore, 0U);
}

TEST(UsdtNotesTest, ADamagedFileIsAnErrorNotAFileWithoutProbes) {
  auto cut = seed("truncated.o");  // the first 600 bytes of probes.o
  ASSERT_FALSE(cut.empty());
  try {
    readUsdtProbes(cut.data(), cut.size(), "probemon", "cut.o");
    ADD_FAILURE() << "no error";
  } catch (const NotElf&) {
    ADD_FAILURE() << "said to be no ELF";
  } catch (const ToolError& e) {
    EXPECT_NE(std::string(e.what()).find("cut.o is a damaged or truncated ELF file"),
              std::string::npos)
        << e.what();
  }
  std::string text = "not ELF";
  EXPECT_THROW(readUsdtProbes(text.data(), text.size(), "probemon", "t"), NotElf);
}

TEST(UsdtArgsTest, ParsesTheFormsLibbpfReads) {
  const auto parsed = args("8@%rax -4@$5 8@-16(%rbp) 2@(%r12) 1@%sil");
  ASSERT_EQ(parsed.size(), 5U);
  EXPECT_EQ(parsed[0].kind, UsdtArg::Kind::kRegister);
  EXPECT_EQ(parsed[0].reg, "rax");
  EXPECT_EQ(parsed[1].kind, UsdtArg::Kind::kConstant);
  EXPECT_TRUE(parsed[1].is_signed);
  EXPECT_EQ(parsed[1].size, 4);
  EXPECT_EQ(parsed[1].value, 5);
  EXPECT_EQ(parsed[2].kind, UsdtArg::Kind::kMemory);
  EXPECT_EQ(parsed[2].reg, "rbp");
  EXPECT_EQ(parsed[2].value, -16);
  EXPECT_EQ(parsed[3].value, 0);
  EXPECT_EQ(parsed[4].size, 1);
  EXPECT_TRUE(args("").empty());
  EXPECT_EQ(args("  8@%rdi   8@%rsi ").size(), 2U);
}

TEST(UsdtArgsTest, SaysWhichArgumentItCannotRead) {
  EXPECT_EQ(argsError("8@%rax 8@(%rax,%rdx,8)"),
            "argument 2, '8@(%rax,%rdx,8)', not a location libbpf reads (%REG, $CONSTANT, "
            "DISPLACEMENT(%REG); not an index register or a symbol)");
  EXPECT_NE(argsError("8@sym(%rip)").find("argument 1"), std::string::npos);
  EXPECT_NE(argsError("3@%rax").find("the size is not 1, 2, 4 or 8"), std::string::npos);
  EXPECT_NE(argsError("8%rax").find("no '@'"), std::string::npos);
  EXPECT_NE(argsError("8@%xyz").find("not a location"), std::string::npos);
  EXPECT_NE(argsError("8@\x1b[2J").find("'8@\\x1b[2J'"), std::string::npos);  // escaped
  std::string thirteen;
  for (int i = 0; i < 13; ++i) thirteen += "8@%rax ";
  EXPECT_NE(argsError(thirteen).find("more than 12 arguments"), std::string::npos);
}

TEST(MapMemoryTest, PerCpuMapsCountEveryPossibleCpu) {
  // hist's histograms with -p: 4096 keys of 352 bytes on 2 CPUs.
  EXPECT_EQ(estimateMapBytes(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 352, 4096, 2), 4096U * 352 * 2);
  EXPECT_EQ(estimateMapBytes(BPF_MAP_TYPE_ARRAY, 4, 352, 4096, 2), 4096U * 352);
  // At --max-keys 16 M: 5.9 GB per CPU.
  EXPECT_EQ(estimateMapBytes(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 352, 1U << 24, 1), 5'905'580'032U);
  // A hash element carries a header and its key; values are rounded to 8.
  EXPECT_GT(estimateMapBytes(BPF_MAP_TYPE_HASH, 16, 134, 1000, 2), 1000U * (16 + 136));
  EXPECT_GT(estimateMapBytes(BPF_MAP_TYPE_PERCPU_HASH, 16, 352, 1000, 4), 1000U * 352 * 4);
  EXPECT_EQ(estimateMapBytes(BPF_MAP_TYPE_RINGBUF, 0, 0, 1U << 20, 2), 1U << 20);
}

}  // namespace
}  // namespace probemon::tool
