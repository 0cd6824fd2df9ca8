// SPDX-License-Identifier: BSD-3-Clause
// Program<Skel>: one BPF program of bpf/ loaded for a session, the loader
// every view uses. It opens the skeleton (bpftool's foo_bpf), sizes its
// key_names map to --max-keys, lets the caller set its read-only data and
// size its other maps, loads it, attaches its handlers to probes of the
// session's target (detached by the session before the view's last
// rendering, or when the Program goes), reads key names back and applies
// --key to them, and adds to the program's own drops the ones every program
// has: key names not read and probe hits the kernel skipped. So the reader
// of one program (e.g. LatencyHistograms) only configures and reads its
// maps, and a view only renders; a view may load several programs into its
// session, and read them from other threads while the session runs.
//
//   Program<latency_bpf> program(session, "latency", max_keys, filter, [&](latency_bpf& skel) {
//     skel.rodata->unit_ns = 1000;
//     setMaxEntries(skel.maps.hists, max_keys);
//   });
//   program.attach(program->progs.handle_wait_done, "wait__done");
//   ... program->maps.hists, program.names().shown(key),
//   program.drops({{"waits", program->bss->waits_dropped, "waits not counted: ..."}})
#pragma once

#include <bpf/libbpf.h>

#include <cerrno>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "Attachment.h"
#include "CanTrace.h"
#include "Drops.h"
#include "KeyNames.h"
#include "MapMemory.h"

namespace probemon::tool {

class Session;

// Sets a map's size before load; throws ToolError.
void setMaxEntries(bpf_map* map, std::uint32_t entries);

// Throws ToolError for a failed skeleton step (`err`: -errno) with what to do.
[[noreturn]] void skeletonFailed(int err, const char* program, const char* step);

// `own` followed by the drops of every program: `names_dropped` counts keys
// whose name did not fit or could not be read when first seen (keys.bpf.h).
std::vector<Drop> withCommonDrops(std::vector<Drop> own, std::uint64_t names_dropped,
                                  std::uint32_t max_keys, unsigned long long missed);

template <typename Skel>
class Program {
 public:
  using Configure = std::function<void(Skel&)>;

  // Loads the program (`name` for messages: "latency" for latency.bpf.c).
  // Throws ToolError.
  Program(Session& session, const char* name, std::uint32_t max_keys, KeyFilter filter,
          const Configure& configure = {})
      : max_keys_(max_keys),
        skel_(load(name, max_keys, configure)),
        names_(bpf_map__fd(skel_->maps.key_names), std::move(filter)),
        attachment_(session) {}

  Skel* operator->() const { return skel_.get(); }

  // Attaches `handler` to probemon:`probe` in every target object.
  void attach(bpf_program* handler, const char* probe) { attachment_.attach(handler, probe); }

  const KeyNames& names() const { return names_; }

  // The program's own drops, then names and missed.
  std::vector<Drop> drops(std::vector<Drop> own) const {
    return withCommonDrops(std::move(own), skel_->bss->names_dropped + skel_->bss->names_unread,
                           max_keys_, attachment_.missedEvents());
  }

 private:
  struct Destroy {
    void operator()(Skel* skel) const { Skel::destroy(skel); }
  };
  using SkeletonPtr = std::unique_ptr<Skel, Destroy>;

  static SkeletonPtr load(const char* name, std::uint32_t max_keys, const Configure& configure) {
    checkCanTrace();
    errno = 0;
    SkeletonPtr skel(Skel::open());
    if (!skel) skeletonFailed(errno != 0 ? -errno : -EINVAL, name, "open");
    setMaxEntries(skel->maps.key_names, max_keys);
    if (configure) configure(*skel);
    checkMapMemory(skel->obj, name, max_keys);
    if (const int err = Skel::load(skel.get()); err != 0) skeletonFailed(err, name, "load");
    return skel;
  }

  const std::uint32_t max_keys_;
  SkeletonPtr skel_;
  KeyNames names_;
  Attachment attachment_;  // after skel_: links go before the object they use
};

}  // namespace probemon::tool
