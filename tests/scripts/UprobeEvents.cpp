// SPDX-License-Identifier: BSD-3-Clause
#include "UprobeEvents.h"

#include <fstream>

namespace probemon::test {

std::string probemonUprobeEvents() {
  std::ifstream events("/sys/kernel/tracing/uprobe_events");
  std::string found;
  for (std::string line; std::getline(events, line);) {
    if (line.find(":sdt_probemon/") != std::string::npos) found += line + "\n";
  }
  return found;
}

}  // namespace probemon::test
