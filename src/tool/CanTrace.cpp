// SPDX-License-Identifier: BSD-3-Clause
#include "CanTrace.h"

#include <bpf/libbpf.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "Error.h"

namespace probemon::tool {
namespace {

bool hasCapability(const __user_cap_data_struct (&data)[2], int cap) {
  return (data[cap / 32].effective & (1U << (cap % 32))) != 0;
}

void check() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &header, data) != 0 ||
      !(hasCapability(data, CAP_SYS_ADMIN) ||
        (hasCapability(data, CAP_BPF) && hasCapability(data, CAP_PERFMON)))) {
    throw ToolError("needs root (or CAP_BPF and CAP_PERFMON): run it with sudo");
  }
  const int bpf = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_KPROBE, nullptr);
  if (bpf == 0 || bpf == -ENOSYS) {
    throw ToolError(
        "this kernel cannot run BPF tracing programs (CONFIG_BPF_SYSCALL, CONFIG_BPF_EVENTS): "
        "use a kernel built with them");
  }
  if (bpf < 0) {
    throw ToolError("the kernel refused to load a BPF program (" +
                    std::string(std::strerror(-bpf)) +
                    "): check kernel lockdown and kernel.unprivileged_bpf_disabled");
  }
  struct stat st;
  if (::stat("/sys/bus/event_source/devices/uprobe/type", &st) != 0) {
    throw ToolError(
        "this kernel has no uprobes (CONFIG_UPROBE_EVENTS), or /sys is not mounted: "
        "use a kernel with uprobes");
  }
}

}  // namespace

void checkCanTrace() {
  static bool checked = false;  // a view may load several programs
  if (!checked) check();
  checked = true;
}

}  // namespace probemon::tool
