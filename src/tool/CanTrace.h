// SPDX-License-Identifier: BSD-3-Clause
// Whether this process and kernel can trace, checked before the first BPF
// program is loaded, so the user gets one line saying what is missing
// instead of a libbpf failure: capabilities, a kernel with BPF tracing
// programs and uprobes, and then the one thing that decides: the kernel
// lets this process open a uprobe (a perf_event_open(2) of the uprobe PMU
// on a function of the tool itself, closed at once).
//
// What it takes, measured on Linux 6.18 (tests/tool/cli_test.cpp,
// docs/tool.md): the uprobe PMU refuses perf_event_open without
// CAP_SYS_ADMIN (CAP_BPF + CAP_PERFMON load the programs but cannot attach
// them); and -p reads the target's files through /proc/PID/root, which
// needs CAP_SYS_PTRACE unless the target runs as the same user with no
// more capabilities than the tool. Root has all of them.
#pragma once

namespace probemon::tool {

// What to do when the kernel says EACCES or EPERM to tracing.
inline constexpr const char* kPrivilegeHint =
    "run it as root (sudo): attaching uprobes needs CAP_SYS_ADMIN (CAP_BPF and CAP_PERFMON are "
    "not enough on this kernel), and -p needs CAP_SYS_PTRACE to read the process's files";

// Throws ToolError with what to do; checks once per process.
void checkCanTrace();

// Whether this process has capability `cap` (CAP_*) in its effective set.
bool hasCapability(int cap);

}  // namespace probemon::tool
