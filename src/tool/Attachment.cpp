// SPDX-License-Identifier: BSD-3-Clause
#include "Attachment.h"

#include <bpf/bpf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "Error.h"
#include "Session.h"

namespace probemon::tool {

Attachment::Attachment(Session& session) : session_(session) {
  session_.attachments_.push_back(this);
}

Attachment::~Attachment() {
  detach();
  std::erase(session_.attachments_, this);
}

void Attachment::attach(bpf_program* program, const char* probe) {
  const Target& target = session_.target();
  bool found = false;
  for (const auto& object : target.objects) {
    const bool has_probe = std::any_of(object.probes.begin(), object.probes.end(),
                                       [&](const UsdtProbe& p) { return p.name == probe; });
    if (!has_probe) continue;
    found = true;
    bpf_link* link = bpf_program__attach_usdt(program, target.pid, object.path.c_str(), kProvider,
                                              probe, nullptr);
    if (link == nullptr) {
      const int err = errno;
      if (target.exited()) {
        throw ToolError("process " + std::to_string(target.pid) + " exited before attach");
      }
      throw ToolError("cannot attach to probemon:" + std::string(probe) + " in " +
                      object.shown_path + ": " + std::strerror(err) +
                      " (run with --verbose for libbpf's log)");
    }
    links_.push_back(link);
  }
  if (!found) {
    throw ToolError(target.describe() + " has no probe probemon:" + probe +
                    ": its libprobemon is too old for this tool");
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
