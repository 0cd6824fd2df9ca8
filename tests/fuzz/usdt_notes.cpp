// SPDX-License-Identifier: BSD-3-Clause
// Fuzzes the USDT note reader with ELF images (any file a traced process
// maps reaches it): it returns probes or throws ToolError, and each probe's
// argument spec goes through the argument parser, as the loader does.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "UsdtArgs.h"
#include "UsdtNotes.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // libelf may convert the image in place: give it a copy.
  std::vector<char> image(data, data + size);
  try {
    for (const auto& probe :
         probemon::tool::readUsdtProbes(image.data(), image.size(), "probemon", "fuzz")) {
      std::string error;
      (void)probemon::tool::parseUsdtArgs(probe.args, error);
    }
  } catch (const probemon::tool::ToolError&) {
    // Not ELF, or damaged: said, not crashed.
  }
  return 0;
}
