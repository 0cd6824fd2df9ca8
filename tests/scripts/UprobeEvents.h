// SPDX-License-Identifier: BSD-3-Clause
// What perf and the scripts leave in tracefs: they must remove every event
// they define.
#pragma once

#include <string>

namespace probemon::test {

// The lines of /sys/kernel/tracing/uprobe_events in group sdt_probemon.
std::string probemonUprobeEvents();

}  // namespace probemon::test
