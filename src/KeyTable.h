// The process-wide table of keys: one immortal entry per distinct key string,
// shared by wait counters and DynamicCounters.
//
// It gives each key the two things the probe ABI promises: a NUL-terminated
// string valid for the life of the process, and a non-zero key_id unique per
// key, so BPF programs can key maps by integer and read each string once.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace probemon::detail {

struct Key {
  std::string name;
  std::uint64_t id;
};

// The entry for `name`, created on first use. Thread-safe; never freed.
const Key& internKey(std::string_view name);

}  // namespace probemon::detail
