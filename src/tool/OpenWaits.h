// SPDX-License-Identifier: BSD-3-Clause
// inflight.bpf.c as the inflight view reads it: the waits open right now
// (wait__start inserts them into a hash, wait__done removes them), with key,
// thread and age.
//
// What it guarantees: every wait listed was open when the map was read (or,
// in the last rendering, when wait__done was detached), since wait__done is
// attached before wait__start and detached after it; a wait that starts while
// the tool is attached is listed once it is old enough, unless more than
// --max-waits are open at once, which is counted when it happens. Waits open
// before the tool attached are not seen. Ages are taken in the target's own
// clock (time namespaces); the waits of an image that is gone (the process
// executed another, or exited) are dropped from the map, not listed.
#pragma once

#include <cstdint>
#include <vector>

#include "Drops.h"
#include "KeyFilter.h"
#include "KeyNames.h"
#include "Program.h"
#include "inflight.h"
#include "inflight.skel.h"

namespace probemon::tool {

struct OpenWait {
  pm_key key;  // key_id, pid and generation
  KeyName name;
  std::uint32_t tid;
  std::uint64_t wait_id;
  std::uint64_t start_ns;  // CLOCK_MONOTONIC of the target
  std::uint64_t age_ns;
};

class OpenWaits {
 public:
  // Loads the program into `session`, tracking up to `max_waits` open waits,
  // and attaches it; throws ToolError.
  OpenWaits(Session& session, std::uint32_t max_keys, std::uint32_t max_waits, KeyFilter filter);

  // The waits of the keys the filter selects open at least `min_age_ns`,
  // oldest first. Drops those of images that are gone from the map.
  std::vector<OpenWait> openFor(std::uint64_t min_age_ns) const;
  std::vector<Drop> drops() const;
  // Frees the entries of process `pid`, which has exited (Program::forget).
  void forget(std::uint32_t pid) const;

 private:
  const std::uint32_t max_waits_;
  Program<inflight_bpf> program_;
};

}  // namespace probemon::tool
