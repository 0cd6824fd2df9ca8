#include "Attach.h"

#include <bpf/bpf.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <string>

#include "Error.h"

namespace probemon::tool {
namespace {

bool g_verbose = false;

int printLibbpf(enum libbpf_print_level level, const char* format, va_list args) {
  (void)level;
  if (!g_verbose) return 0;  // failures become our own one-line errors
  return std::vfprintf(stderr, format, args);
}

bool hasCapability(const __user_cap_data_struct (&data)[2], int cap) {
  return (data[cap / 32].effective & (1U << (cap % 32))) != 0;
}

std::string errorText(int err) { return std::strerror(err < 0 ? -err : err); }

}  // namespace

void setLibbpfVerbose(bool verbose) {
  g_verbose = verbose;
  libbpf_set_print(printLibbpf);
}

void checkCanTrace() {
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
    throw ToolError("the kernel refused to load a BPF program (" + errorText(bpf) +
                    "): check kernel lockdown and kernel.unprivileged_bpf_disabled");
  }
  struct stat st;
  if (::stat("/sys/bus/event_source/devices/uprobe/type", &st) != 0) {
    throw ToolError(
        "this kernel has no uprobes (CONFIG_UPROBE_EVENTS), or /sys is not mounted: "
        "use a kernel with uprobes");
  }
}

void checkSkeletonStep(int err, const char* program, const char* step) {
  if (err == 0) return;
  throw ToolError(std::string("cannot ") + step + " BPF program " + program + ": " +
                  errorText(err) + " (run with --verbose for libbpf's log)");
}

void setMaxEntries(bpf_map* map, std::uint32_t entries) {
  if (entries == 0) throw usageError("map sizes must be at least 1");
  const int err = bpf_map__set_max_entries(map, entries);
  if (err != 0) {
    throw ToolError(std::string("cannot size BPF map ") + bpf_map__name(map) + ": " +
                    errorText(err));
  }
}

void Attachment::attach(bpf_program* program, const char* probe) {
  bool found = false;
  for (const auto& object : target_.objects) {
    const bool has_probe = std::any_of(object.probes.begin(), object.probes.end(),
                                       [&](const UsdtProbe& p) { return p.name == probe; });
    if (!has_probe) continue;
    found = true;
    bpf_link* link = bpf_program__attach_usdt(program, target_.pid, object.path.c_str(), kProvider,
                                              probe, nullptr);
    if (link == nullptr) {
      const int err = errno;
      if (target_.pid > 0 && ::kill(target_.pid, 0) != 0 && errno == ESRCH) {
        throw ToolError("process " + std::to_string(target_.pid) + " exited before attach");
      }
      throw ToolError("cannot attach to probemon:" + std::string(probe) + " in " +
                      object.shown_path + ": " + errorText(err) +
                      " (run with --verbose for libbpf's log)");
    }
    links_.push_back(link);
  }
  if (!found) {
    throw ToolError(target_.describe() + " has no probe probemon:" + probe +
                    ": its libprobemon is too old for this tool");
  }
  programs_.push_back(program);
}

void Attachment::detach() {
  for (bpf_link* link : links_) bpf_link__destroy(link);
  links_.clear();
}

void Attachment::announce(const char* what) const {
  std::fprintf(stderr, "Tracing probemon %s in %s... Hit Ctrl-C to end.\n", what,
               target_.describe().c_str());
}

unsigned long long Attachment::missedEvents() const {
  unsigned long long missed = 0;
  for (const bpf_program* program : programs_) {
    bpf_prog_info info{};
    __u32 length = sizeof(info);
    if (bpf_obj_get_info_by_fd(bpf_program__fd(program), &info, &length) == 0) {
      missed += info.recursion_misses;
    }
  }
  return missed;
}

}  // namespace probemon::tool
