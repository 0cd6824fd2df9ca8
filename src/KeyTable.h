// SPDX-License-Identifier: BSD-3-Clause
// The process-wide table of keys: one immortal entry per distinct key string,
// shared by wait counters and DynamicCounters, the one place a key string is
// looked up.
//
// It gives each key the two things the probe ABI promises: a NUL-terminated
// string valid for the life of the process, and a non-zero key_id unique per
// key, so BPF programs can key maps by integer and read each string once.
// It also holds the key's wait counter state once a handle was made for it
// (waitCounterFor()).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace probemon::detail {

class WaitCounterImpl;

struct Key {
  const std::string name;
  const std::uint64_t id;
  // Set once, under the wait counter registry's lock; never freed.
  std::atomic<WaitCounterImpl*> wait_counter{nullptr};
};

// The entry for `name`, created on first use. Thread-safe; never freed.
Key& internKey(std::string_view name);

// fork(): the table's lock, taken before and released after (Fork.h).
void lockKeysForFork();
void unlockKeysAfterFork(bool in_child);

}  // namespace probemon::detail
