// SPDX-License-Identifier: BSD-3-Clause
// The links of one BPF program: its handlers attached to probemon probes in
// every object of the session's target (pid -1 for --path: every process,
// including later ones), and to kernel tracepoints. Detaching, which the
// session does before a view's last rendering and the destructor does in any
// case, goes in the reverse order of attaching (a reader attaches the probe
// that ends what another begins first: inflight's wait__done before
// wait__start) and lowers the probes' semaphores in the target again.
#pragma once

#include <bpf/libbpf.h>

#include <cstddef>
#include <vector>

namespace probemon::tool {

class Session;

// The most sites one probe may have in a target. libprobemon fires each
// probe from one to a few places (a static or LTO build inlines them
// into a few more); a file with thousands is not a probemon build, and
// attaching and detaching a uprobe each would take minutes.
inline constexpr std::size_t kMaxProbeSites = 64;

class Attachment {
 public:
  explicit Attachment(Session& session);
  ~Attachment();
  Attachment(const Attachment&) = delete;
  Attachment& operator=(const Attachment&) = delete;

  // Attaches `program` to probemon:`probe` in every target object that has
  // the probe, having checked every site's arguments (UsdtArgs.h) and their
  // number. Throws ToolError if no object has it, a site is not
  // libprobemon's, the target exited, Ctrl-C or SIGTERM came, or the
  // kernel refuses.
  void attach(bpf_program* program, const char* probe);
  // Attaches `program` to the tracepoint its section names (SEC("tp/...")).
  // Throws ToolError if the kernel refuses.
  void attachTracepoint(bpf_program* program);
  void detach();

  // Probe hits the kernel skipped because a BPF program was already running
  // on that CPU (bpf_prog_info.recursion_misses), over the attached programs.
  unsigned long long missedEvents() const;

 private:
  Session& session_;
  std::vector<bpf_link*> links_;
  std::vector<const bpf_program*> programs_;
};

}  // namespace probemon::tool
