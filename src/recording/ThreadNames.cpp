// SPDX-License-Identifier: BSD-3-Clause
// Process and thread names (ThreadNames.h).
#include "ThreadNames.h"

#include <errno.h>

#include <fstream>

namespace probemon::detail {

std::string processName() { return program_invocation_short_name; }

std::string threadName(std::uint64_t tid) {
  std::ifstream comm("/proc/self/task/" + std::to_string(tid) + "/comm");
  std::string name;
  if (comm && std::getline(comm, name) && !name.empty()) return name;
  return "thread " + std::to_string(tid);
}

}  // namespace probemon::detail
