// SPDX-License-Identifier: BSD-3-Clause
// The USDT probes an ELF file declares in its .note.stapsdt section (the
// SystemTap SDT v3 note format), read with libelf. The file is untrusted
// (any file a traced process maps, through /proc/PID/root): every length and
// offset is checked, a damaged file is an error that says so, and the
// reader is fuzzed (tests/fuzz/usdt_notes.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "Error.h"

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

// The file is not ELF at all (a font, a locale archive, a text file): it
// cannot hold probes, so a process's other mappings may be skipped quietly.
class NotElf : public ToolError {
 public:
  using ToolError::ToolError;
};

// All probes of `provider` in the ELF file at `path`. Throws NotElf, or
// ToolError if the file cannot be read or its ELF structure is damaged
// (e.g. truncated).
std::vector<UsdtProbe> readUsdtProbes(const std::string& path, const std::string& provider);

// The same for an ELF image in memory (libelf may convert it in place);
// `name` is the file's, for messages.
std::vector<UsdtProbe> readUsdtProbes(char* image, std::size_t size, const std::string& provider,
                                      const std::string& name);

}  // namespace probemon::tool
