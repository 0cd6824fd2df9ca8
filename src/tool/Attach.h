// The one place the tool talks to libbpf about loading and attaching: checks
// that this process and kernel can trace, turns libbpf failures into one-line
// errors, and attaches a program to a probemon probe in every object of the
// target (pid -1 for --path: every process, including later ones).
#pragma once

#include <bpf/libbpf.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <vector>

#include "Target.h"

namespace probemon::tool {

// Routes libbpf's messages to stderr only with --verbose.
void setLibbpfVerbose(bool verbose);

// Throws ToolError unless we may load BPF programs and attach uprobes: root
// or CAP_BPF + CAP_PERFMON (or CAP_SYS_ADMIN), a kernel with BPF and uprobes.
void checkCanTrace();

// Throws ToolError for a failed skeleton open (`err` = -errno or 0 with errno)
// or load, with what to do.
void checkSkeletonStep(int err, const char* program, const char* step);

// Sets a map's size before load (--max-keys and friends).
void setMaxEntries(bpf_map* map, std::uint32_t entries);

// An opened skeleton (foo_bpf__open) that destroys itself (foo_bpf__destroy).
template <typename Skel>
struct SkeletonDeleter {
  void (*destroy)(Skel*);
  void operator()(Skel* skel) const { destroy(skel); }
};
template <typename Skel>
using SkeletonPtr = std::unique_ptr<Skel, SkeletonDeleter<Skel>>;

template <typename Skel>
SkeletonPtr<Skel> openSkeleton(Skel* (*open)(), void (*destroy)(Skel*), const char* program) {
  errno = 0;
  Skel* skel = open();
  if (skel == nullptr) checkSkeletonStep(errno != 0 ? -errno : -EINVAL, program, "open");
  return SkeletonPtr<Skel>(skel, SkeletonDeleter<Skel>{destroy});
}

// The links of one view: every probe in every target object. Destroying it
// detaches, which lowers the probes' semaphores in the target again.
class Attachment {
 public:
  explicit Attachment(const Target& target) : target_(target) {}
  ~Attachment() { detach(); }
  Attachment(const Attachment&) = delete;
  Attachment& operator=(const Attachment&) = delete;

  // Attaches `program` to probemon:`probe` in every target object that has
  // the probe. Throws ToolError if no object has it or the kernel refuses.
  void attach(bpf_program* program, const char* probe);
  void detach();

  // Prints the "Tracing ..." line (stderr) that says every probe is live.
  void announce(const char* what) const;

  // Events the kernel skipped because a program was already running on
  // that CPU (bpf_prog_info.recursion_misses), over every attached program.
  unsigned long long missedEvents() const;

 private:
  const Target& target_;
  std::vector<bpf_link*> links_;
  std::vector<const bpf_program*> programs_;
};

}  // namespace probemon::tool
