// SPDX-License-Identifier: BSD-3-Clause
// The argument specs of a USDT probe (the third string of its note, e.g.
// "-4@%esi 8@-24(%rbp) 8@$5"), parsed in the forms libbpf's USDT support
// can read on x86-64: a register, a constant, or memory at a register plus
// a displacement. The loader checks every probe site with it before
// attaching, so a probe libbpf cannot read, or one with fewer arguments
// than the probe ABI gives it (another program's probemon:wait__done),
// is a clear error, not a BPF program that silently reads nothing. The spec
// comes from an untrusted file: the parser is fuzzed (tests/fuzz/).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace probemon::tool {

struct UsdtArg {
  enum class Kind { kConstant, kRegister, kMemory };
  Kind kind = Kind::kConstant;
  int size = 8;            // bytes: 1, 2, 4 or 8
  bool is_signed = false;  // a negative size in the spec
  std::string reg;         // kRegister, kMemory: the register, without '%'
  std::int64_t value = 0;  // kConstant: the value; kMemory: the displacement
};

// libbpf's limit (BPF_USDT_MAX_ARG_CNT).
inline constexpr std::size_t kMaxUsdtArgs = 12;

// The arguments of `spec`; on failure nullopt, with why in `error`
// ("argument 2, '8@(%rax,%rdx,8)', is not a form libbpf reads: ...").
std::optional<std::vector<UsdtArg>> parseUsdtArgs(std::string_view spec, std::string& error);

}  // namespace probemon::tool
