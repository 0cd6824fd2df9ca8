// SPDX-License-Identifier: BSD-3-Clause
// Program<Skel>: one BPF program of bpf/ loaded for a session, the loader
// every view uses. It opens the skeleton (bpftool's foo_bpf), sizes its
// key_names map to --max-keys, tells it the target (-p) and sizes its map of
// process generations (bpf/generations.bpf.h), lets the caller set its
// read-only data and size its other maps, loads it, attaches the tracepoints
// that follow process images (exec, pid reuse) before any probe, attaches
// its handlers to probes of the session's target (detached by the session
// before the view's last rendering, in the reverse order, or when the
// Program goes), reads key names back and applies --key to them, and adds
// to the program's own drops the ones every program has: key names not
// read, probe hits of processes whose images cannot be told apart and probe
// hits the kernel skipped. So the reader of one program (e.g.
// LatencyHistograms) only configures and reads its maps, and a view only
// renders; a view may load several programs into its session, and read them
// from other threads while the session runs.
//
//   Program<latency_bpf> program(session, "latency", max_keys, filter, [&](latency_bpf& skel) {
//     skel.rodata->unit_ns = 1000;
//     setMaxEntries(skel.maps.hists, max_keys);
//   });
//   program.attach(program->progs.handle_wait_done, "wait__done");
//   ... program->maps.hists, program.names().shown(key), program.generation(pid),
//   program.drops({{"waits", program->bss->waits_dropped, "waits not counted: ..."}})
#pragma once

#include <bpf/libbpf.h>

#include <cerrno>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <vector>

#include "Attachment.h"
#include "CanTrace.h"
#include "Drops.h"
#include "KeyNames.h"
#include "MapMemory.h"
#include "MapReaders.h"
#include "Session.h"

namespace probemon::tool {

// Sets a map's size before load; throws ToolError.
void setMaxEntries(bpf_map* map, std::uint32_t entries);

// Throws ToolError for a failed skeleton step (`err`: -errno) with what to do.
[[noreturn]] void skeletonFailed(int err, const char* program, const char* step);

// What every program may drop, besides its own.
struct CommonDrops {
  // Keys whose name did not fit or could not be read when first seen
  // (keys.bpf.h).
  std::uint64_t names;
  std::uint64_t images;  // probe hits whose process has no generation
  unsigned long long missed;
};

// `own` followed by the drops of every program.
std::vector<Drop> withCommonDrops(std::vector<Drop> own, const CommonDrops& common,
                                  std::uint32_t max_keys);

// The generation (bpf/generations.bpf.h) of process `pid` now, from the
// generations map `fd`; nullopt if the program has not seen it.
std::optional<std::uint32_t> generationIn(int fd, std::uint32_t pid);

template <typename Skel>
class Program {
 public:
  using Configure = std::function<void(Skel&)>;

  // Loads the program (`name` for messages: "latency" for latency.bpf.c).
  // Throws ToolError.
  Program(Session& session, const char* name, std::uint32_t max_keys, KeyFilter filter,
          const Configure& configure = {})
      : max_keys_(max_keys),
        skel_(load(name, session.target().pid, max_keys, configure)),
        names_(bpf_map__fd(skel_->maps.key_names), std::move(filter)),
        attachment_(session) {
    // Before any probe: an image must not change unseen once keys are read.
    attachment_.attachTracepoint(skel_->progs.pm_track_exec);
    if (skel_->rodata->target_pid == 0) attachment_.attachTracepoint(skel_->progs.pm_track_newtask);
  }

  Skel* operator->() const { return skel_.get(); }

  // Attaches `handler` to probemon:`probe` in every target object.
  void attach(bpf_program* handler, const char* probe) { attachment_.attach(handler, probe); }

  const KeyNames& names() const { return names_; }

  // The generation of process `pid` now: the image whose keys and waits
  // carry it; nullopt if the program has not seen the process.
  std::optional<std::uint32_t> generation(std::uint32_t pid) const {
    if (skel_->rodata->target_pid != 0) {
      return __atomic_load_n(&skel_->bss->target_generation, __ATOMIC_RELAXED);
    }
    return generationIn(bpf_map__fd(skel_->maps.generations), pid);
  }

  // Deletes what process `pid` left in `maps` (hashes keyed by pm_key or
  // pm_wait_key) and its key names, once it has exited, so its keys make
  // room for those of other processes (serve --path).
  void forget(std::uint32_t pid, std::initializer_list<bpf_map*> maps) const {
    for (bpf_map* map : maps) deleteEntriesOfProcess(bpf_map__fd(map), bpf_map__key_size(map), pid);
    names_.forget(pid);
  }

  // The program's own drops, then names, images and missed.
  std::vector<Drop> drops(std::vector<Drop> own) const {
    return withCommonDrops(std::move(own),
                           {skel_->bss->names_dropped + skel_->bss->names_unread,
                            skel_->bss->generations_dropped, attachment_.missedEvents()},
                           max_keys_);
  }

 private:
  struct Destroy {
    void operator()(Skel* skel) const { Skel::destroy(skel); }
  };
  using SkeletonPtr = std::unique_ptr<Skel, Destroy>;

  // `pid`: the -p target, or -1 for --path.
  static SkeletonPtr load(const char* name, int pid, std::uint32_t max_keys,
                          const Configure& configure) {
    checkCanTrace();
    errno = 0;
    SkeletonPtr skel(Skel::open());
    if (!skel) skeletonFailed(errno != 0 ? -errno : -EINVAL, name, "open");
    setMaxEntries(skel->maps.key_names, max_keys);
    // -p: one process, its generation in a global; --path: one entry per
    // process seen, and pid reuse to follow.
    skel->rodata->target_pid = pid > 0 ? static_cast<std::uint32_t>(pid) : 0;
    setMaxEntries(skel->maps.generations, pid > 0 ? 1 : max_keys);
    bpf_program__set_autoload(skel->progs.pm_track_newtask, pid <= 0);
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
