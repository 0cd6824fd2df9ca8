// SPDX-License-Identifier: BSD-3-Clause
#include "CanTrace.h"

#include <bpf/libbpf.h>
#include <linux/capability.h>
#include <linux/perf_event.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "Error.h"
#include "Fd.h"

namespace probemon::tool {
namespace {

constexpr const char* kUprobeType = "/sys/bus/event_source/devices/uprobe/type";

// Never called: the uprobe of the permission check is placed on it.
extern "C" __attribute__((noinline, used)) void probemon_uprobe_check_site() {
  asm volatile("" ::: "memory");
}

// The offset in the tool's executable of probemon_uprobe_check_site, from
// the mapping that holds it; -1 if not found.
long long checkSiteOffset() {
  const auto address = reinterpret_cast<std::uintptr_t>(&probemon_uprobe_check_site);
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    std::uintmax_t start = 0, end = 0, offset = 0;
    if (std::sscanf(line.c_str(), "%jx-%jx %*s %jx", &start, &end, &offset) == 3 &&
        address >= start && address < end) {
      return static_cast<long long>(address - start + offset);
    }
  }
  return -1;
}

// errno of opening a uprobe on this process, as attaching does; 0 if the
// kernel allows it, or if the check could not be set up (the attach then
// reports what is wrong).
int uprobeRefusal() {
  std::ifstream type_file(kUprobeType);
  std::uint32_t type = 0;
  const long long offset = checkSiteOffset();
  if (!(type_file >> type) || offset < 0) return 0;
  const char* exe = "/proc/self/exe";
  perf_event_attr attr{};
  attr.size = sizeof(attr);
  attr.type = type;
  attr.disabled = 1;
  attr.config1 = reinterpret_cast<std::uintptr_t>(exe);  // uprobe_path
  attr.config2 = static_cast<std::uint64_t>(offset);     // probe_offset
  const Fd fd(static_cast<int>(
      ::syscall(SYS_perf_event_open, &attr, ::getpid(), -1, -1, PERF_FLAG_FD_CLOEXEC)));
  return fd.get() >= 0 ? 0 : errno;
}

void check() {
  if (!(hasCapability(CAP_SYS_ADMIN) || (hasCapability(CAP_BPF) && hasCapability(CAP_PERFMON)))) {
    throw ToolError(std::string("needs root: ") + kPrivilegeHint);
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
  if (::stat(kUprobeType, &st) != 0) {
    throw ToolError(
        "this kernel has no uprobes (CONFIG_UPROBE_EVENTS), or /sys is not mounted: "
        "use a kernel with uprobes");
  }
  if (const int err = uprobeRefusal(); err == EACCES || err == EPERM) {
    throw ToolError(std::string("the kernel refuses uprobes to this process (perf_event_open: ") +
                    std::strerror(err) + "): " + kPrivilegeHint);
  }
}

}  // namespace

bool hasCapability(int cap) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  return ::syscall(SYS_capget, &header, data) == 0 &&
         (data[cap / 32].effective & (1U << (cap % 32))) != 0;
}

void checkCanTrace() {
  static bool checked = false;  // a view may load several programs
  if (!checked) check();
  checked = true;
}

}  // namespace probemon::tool
