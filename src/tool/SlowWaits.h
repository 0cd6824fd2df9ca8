// SPDX-License-Identifier: BSD-3-Clause
// trace.bpf.c as the trace view reads it: one record per wait at or above a
// latency threshold, streamed through a BPF ring buffer that the session
// serves whenever it is readable; records that did not fit are counted.
#pragma once

#include <bpf/libbpf.h>

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <vector>

#include "Drops.h"
#include "KeyFilter.h"
#include "KeyNames.h"
#include "Program.h"
#include "trace.h"
#include "trace.skel.h"

namespace probemon::tool {

class SlowWaits {
 public:
  // Called with each wait of a key the filter selects, in ring buffer order.
  using OnWait =
      std::function<void(const pm_trace_event& wait, const pm_key& key, const KeyName& name)>;

  // Loads the program into `session` with a ring buffer of `ringbuf_bytes`
  // (a power of 2) and attaches it; throws ToolError.
  SlowWaits(Session& session, std::uint32_t max_keys, std::uint64_t min_ns,
            std::uint32_t ringbuf_bytes, KeyFilter filter, OnWait on_wait);

  // Hands every record in the ring buffer to on_wait; rethrows what it threw.
  void consume();
  std::vector<Drop> drops() const;

 private:
  static int onRecord(void* context, void* data, std::size_t size);

  const std::uint32_t ringbuf_kb_;
  const OnWait on_wait_;
  Program<trace_bpf> program_;
  std::unique_ptr<ring_buffer, decltype(&ring_buffer__free)> ring_;  // after program_
  std::exception_ptr failure_;  // from on_wait_, across libbpf's C frames
};

}  // namespace probemon::tool
