// SPDX-License-Identifier: BSD-3-Clause
// The names a trace gives the process and its threads (Chrome `M`
// process_name / thread_name events).
#pragma once

#include <cstdint>
#include <string>

namespace probemon::detail {

// The program's name (its invocation's last path component).
std::string processName();
// /proc/self/task/TID/comm, for a thread whose records did not capture its
// name (one only a Python tracer saw); "thread TID" if it has exited.
std::string threadName(std::uint64_t tid);

}  // namespace probemon::detail
