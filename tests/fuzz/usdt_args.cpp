// SPDX-License-Identifier: BSD-3-Clause
// Fuzzes the USDT argument-spec parser: any string parses or fails with a
// reason, and what parses is within libbpf's limits.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "UsdtArgs.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view spec(reinterpret_cast<const char*>(data), size);
  std::string error;
  const auto args = probemon::tool::parseUsdtArgs(spec, error);
  if (!args) {
    if (error.empty()) std::abort();  // a failure always says why
    return 0;
  }
  if (args->size() > probemon::tool::kMaxUsdtArgs) std::abort();
  for (const auto& arg : *args) {
    if (arg.size != 1 && arg.size != 2 && arg.size != 4 && arg.size != 8) std::abort();
    if (arg.kind != probemon::tool::UsdtArg::Kind::kConstant && arg.reg.empty()) std::abort();
  }
  return 0;
}
