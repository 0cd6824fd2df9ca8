// SPDX-License-Identifier: BSD-3-Clause
// The USDT probes an ELF file declares in its .note.stapsdt section (the
// SystemTap SDT v3 note format), read with libelf.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace probemon::tool {

struct UsdtProbe {
  std::string provider;
  std::string name;
  std::uint64_t pc = 0;         // address of the probe's nop
  std::uint64_t base = 0;       // link-time address of .stapsdt.base
  std::uint64_t semaphore = 0;  // address of the semaphore, 0 if none
  std::string args;             // argument locations, e.g. "8@%rax -4@$1"
};

// The provider probemon's probes.
inline constexpr const char* kProvider = "probemon";

// All probes of `provider` in the ELF file at `path`. Throws ToolError if the
// file cannot be read or is not ELF.
std::vector<UsdtProbe> readUsdtProbes(const std::string& path, const std::string& provider);

}  // namespace probemon::tool
