// SPDX-License-Identifier: BSD-3-Clause
#include "UsdtArgs.h"

#include <algorithm>
#include <array>
#include <charconv>

#include "escaping/Escaping.h"

namespace probemon::tool {
namespace {

// The x86-64 registers libbpf's USDT support reads, by every name an SDT
// spec may use for them (64, 32, 16 and 8 bits).
bool isKnownRegister(std::string_view name) {
  static constexpr std::array<std::string_view, 66> kNames = {
      "rip",  "eip",  "rax",  "eax",  "ax",   "al",   "rbx",  "ebx",  "bx",   "bl",   "rcx",
      "ecx",  "cx",   "cl",   "rdx",  "edx",  "dx",   "dl",   "rsi",  "esi",  "si",   "sil",
      "rdi",  "edi",  "di",   "dil",  "rbp",  "ebp",  "bp",   "bpl",  "rsp",  "esp",  "sp",
      "spl",  "r8",   "r8d",  "r8w",  "r8b",  "r9",   "r9d",  "r9w",  "r9b",  "r10",  "r10d",
      "r10w", "r10b", "r11",  "r11d", "r11w", "r11b", "r12",  "r12d", "r12w", "r12b", "r13",
      "r13d", "r13w", "r13b", "r14",  "r14d", "r14w", "r14b", "r15",  "r15d", "r15w", "r15b"};
  return std::find(kNames.begin(), kNames.end(), name) != kNames.end();
}

// A decimal integer that is all of `text`.
std::optional<std::int64_t> integer(std::string_view text) {
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

// "%reg" with a register libbpf knows.
std::optional<std::string> registerOperand(std::string_view text) {
  if (text.size() < 2 || text[0] != '%' || !isKnownRegister(text.substr(1))) return std::nullopt;
  return std::string(text.substr(1));
}

// One "[-]SIZE@OPERAND"; nullopt with why in `why`.
std::optional<UsdtArg> parseArg(std::string_view text, std::string& why) {
  const auto at = text.find('@');
  if (at == std::string_view::npos) {
    why = "no '@' between size and location";
    return std::nullopt;
  }
  UsdtArg arg;
  const auto size = integer(text.substr(0, at));
  if (!size || (*size != 1 && *size != 2 && *size != 4 && *size != 8 && *size != -1 &&
                *size != -2 && *size != -4 && *size != -8)) {
    why = "the size is not 1, 2, 4 or 8 bytes (negative: signed)";
    return std::nullopt;
  }
  arg.size = static_cast<int>(*size < 0 ? -*size : *size);
  arg.is_signed = *size < 0;
  const std::string_view operand = text.substr(at + 1);
  if (auto reg = registerOperand(operand)) {
    arg.kind = UsdtArg::Kind::kRegister;
    arg.reg = std::move(*reg);
    return arg;
  }
  if (!operand.empty() && operand[0] == '$') {
    if (const auto value = integer(operand.substr(1))) {
      arg.kind = UsdtArg::Kind::kConstant;
      arg.value = *value;
      return arg;
    }
  }
  // [-]DISPLACEMENT(%reg) or (%reg)
  const auto open = operand.find('(');
  if (open != std::string_view::npos && operand.back() == ')') {
    const auto displacement =
        open == 0 ? std::optional<std::int64_t>(0) : integer(operand.substr(0, open));
    auto reg = registerOperand(operand.substr(open + 1, operand.size() - open - 2));
    if (displacement && reg) {
      arg.kind = UsdtArg::Kind::kMemory;
      arg.reg = std::move(*reg);
      arg.value = *displacement;
      return arg;
    }
  }
  why =
      "not a location libbpf reads (%REG, $CONSTANT, DISPLACEMENT(%REG); not an index register "
      "or a symbol)";
  return std::nullopt;
}

}  // namespace

std::optional<std::vector<UsdtArg>> parseUsdtArgs(std::string_view spec, std::string& error) {
  std::vector<UsdtArg> args;
  std::size_t at = 0;
  while (true) {
    at = spec.find_first_not_of(' ', at);
    if (at == std::string_view::npos) break;
    const auto end = std::min(spec.find(' ', at), spec.size());
    const std::string_view text = spec.substr(at, end - at);
    std::string why;
    auto arg = parseArg(text, why);
    if (!arg) {
      error = "argument " + std::to_string(args.size() + 1) + ", '" + detail::terminalText(text) +
              "', " + why;
      return std::nullopt;
    }
    if (args.size() == kMaxUsdtArgs) {
      error = "more than " + std::to_string(kMaxUsdtArgs) + " arguments, libbpf's limit";
      return std::nullopt;
    }
    args.push_back(std::move(*arg));
    at = end;
  }
  return args;
}

}  // namespace probemon::tool
