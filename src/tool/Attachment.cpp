// SPDX-License-Identifier: BSD-3-Clause
#include "Attachment.h"

#include <bpf/bpf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "CanTrace.h"
#include "Error.h"
#include "Session.h"
#include "UsdtArgs.h"

namespace probemon::tool {

namespace {

// How many arguments each probe of the probe ABI has (PRODUCT.md), so a
// probe with fewer (not libprobemon's) is refused rather than read as
// nothing. Probes not listed are not checked.
std::size_t abiArguments(std::string_view probe) {
  if (probe == "wait__start") return 4;
  if (probe == "wait__done") return 5;
  if (probe == "wait__batch") return 2;
  if (probe == "counter__register" || probe == "counter__unregister" || probe == "dynamic__value") {
    return 3;
  }
  return 0;
}

// Why the kernel refused a uprobe, with what to do.
std::string attachHint(int err) {
  switch (err) {
    case EACCES:
    case EPERM:
      return std::string(": ") + kPrivilegeHint;
    case EINVAL:
      return ": another tracer may hold a uprobe on this probe without its semaphore (a perf "
             "probe, or a bpftrace or BPF uprobe on its address), and the kernel refuses a "
             "second one that has one (dmesg then says \"ref_ctr_offset mismatch\"): end that "
             "tracer, or run with --verbose for libbpf's log";
    default:
      return " (run with --verbose for libbpf's log)";
  }
}

}  // namespace

Attachment::Attachment(Session& session) : session_(session) {
  session_.attachments_.push_back(this);
}

Attachment::~Attachment() {
  detach();
  std::erase(session_.attachments_, this);
}

void Attachment::attach(bpf_program* program, const char* probe) {
  const Target& target = session_.target();
  // Check every site first: nothing is attached to a target that is refused.
  std::size_t sites = 0;
  for (const auto& object : target.objects) {
    for (const UsdtProbe& site : object.probes) {
      if (site.name != probe) continue;
      ++sites;
      std::string error;
      const auto args = parseUsdtArgs(site.args, error);
      const std::string where = "probemon:" + std::string(probe) + " in " + object.shown_path;
      if (!args) throw ToolError("cannot read the arguments of " + where + ": " + error);
      if (args->size() < abiArguments(probe)) {
        throw ToolError(fmt::format(
            "{} has {} arguments where probemon's probe ABI has {}: it is not libprobemon's "
            "probe; give a process or file linked with libprobemon",
            where, args->size(), abiArguments(probe)));
      }
    }
  }
  if (sites > kMaxProbeSites) {
    throw ToolError(fmt::format(
        "probemon:{} has {} sites in {}, more than the {} a probemon build can have: each is a "
        "uprobe to attach and detach, which would take minutes; give a process or file linked "
        "with libprobemon",
        probe, sites, target.describe(), kMaxProbeSites));
  }
  if (sites == 0) {
    throw ToolError(target.describe() + " has no probe probemon:" + probe +
                    ": its libprobemon is too old for this tool");
  }
  for (const auto& object : target.objects) {
    if (std::none_of(object.probes.begin(), object.probes.end(),
                     [&](const UsdtProbe& p) { return p.name == probe; })) {
      continue;
    }
    // One call attaches every site of the probe in the object; Ctrl-C and
    // SIGTERM are seen between calls.
    session_.throwIfStopped();
    bpf_link* link = bpf_program__attach_usdt(program, target.pid, object.path.c_str(), kProvider,
                                              probe, nullptr);
    if (link == nullptr) {
      const int err = errno;
      if (target.exited()) {
        throw ToolError("process " + std::to_string(target.pid) +
                        " exited while probemon attached to it");
      }
      throw ToolError("cannot attach to probemon:" + std::string(probe) + " in " +
                      object.shown_path + ": " + std::strerror(err) + attachHint(err));
    }
    links_.push_back(link);
  }
  programs_.push_back(program);
}

void Attachment::attachTracepoint(bpf_program* program) {
  bpf_link* link = bpf_program__attach(program);
  if (link == nullptr) {
    throw ToolError(std::string("cannot attach to tracepoint ") +
                    bpf_program__section_name(program) + ": " + std::strerror(errno) +
                    " (is tracefs mounted? run with --verbose for libbpf's log)");
  }
  links_.push_back(link);
  programs_.push_back(program);
}

void Attachment::detach() {
  for (auto link = links_.rbegin(); link != links_.rend(); ++link) bpf_link__destroy(*link);
  links_.clear();
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
