// SPDX-License-Identifier: BSD-3-Clause
// counters.bpf.c as the counters view reads it: per key, the last value the
// library's sampler read from each DynamicCounter (dynamic__value) and the
// registrations seen (counter__register, counter__unregister).
#pragma once

#include <cstdint>
#include <vector>

#include "Drops.h"
#include "KeyFilter.h"
#include "KeyNames.h"
#include "Program.h"
#include "counters.h"
#include "counters.skel.h"

namespace probemon::tool {

struct CounterValue {
  pm_key key;
  KeyName name;
  pm_counter counter;
};

class CounterValues {
 public:
  // Loads the program into `session` and attaches it; throws ToolError.
  CounterValues(Session& session, std::uint32_t max_keys, KeyFilter filter);

  // The counters of the keys the filter selects, by pid and name.
  std::vector<CounterValue> read() const;
  std::vector<Drop> drops() const;
  // Frees the entries of process `pid`, which has exited (Program::forget).
  void forget(std::uint32_t pid) const;

 private:
  const std::uint32_t max_keys_;
  Program<counters_bpf> program_;
};

}  // namespace probemon::tool
