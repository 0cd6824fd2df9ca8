// SPDX-License-Identifier: BSD-3-Clause
// Whether this process and kernel can trace: root or CAP_BPF + CAP_PERFMON
// (or CAP_SYS_ADMIN), a kernel with BPF tracing programs and uprobes. Checked
// before the first BPF program is loaded, so the user gets one line saying
// what is missing instead of a libbpf failure.
#pragma once

namespace probemon::tool {

// Throws ToolError with what to do; checks once per process.
void checkCanTrace();

}  // namespace probemon::tool
