// SPDX-License-Identifier: BSD-3-Clause
// What a recording's backends write into: the event queue and the names its
// records refer to. Shared (std::shared_ptr) by the recording and every
// backend instance it registered, so a wait still open when the recording
// is destroyed writes its end stamp into memory that is still there.
#pragma once

#include <atomic>
#include <cstdint>

#include <probemon/RecordQueue.h>

#include "NameTable.h"

namespace probemon::detail {

struct RecordingStore {
  explicit RecordingStore(std::int64_t max_events) : queue(max_events) {}

  RecordQueue queue;
  NameTable names;
  // Keys whose recorder could not be allocated: their waits go unrecorded.
  std::atomic<std::uint64_t> keys_no_memory{0};
};

}  // namespace probemon::detail
