// SPDX-License-Identifier: BSD-3-Clause
#include "CounterValues.h"

#include <fmt/format.h>

#include "MapReaders.h"

namespace probemon::tool {

CounterValues::CounterValues(Session& session, std::uint32_t max_keys, KeyFilter filter)
    : max_keys_(max_keys),
      program_(session, "counters", max_keys, std::move(filter),
               [&](counters_bpf& skel) { setMaxEntries(skel.maps.counters, max_keys); }) {
  program_.attach(program_->progs.handle_register, "counter__register");
  program_.attach(program_->progs.handle_unregister, "counter__unregister");
  program_.attach(program_->progs.handle_value, "dynamic__value");
}

std::vector<CounterValue> CounterValues::read() const {
  std::vector<CounterValue> counters;
  for (const auto& [key, counter] :
       readMap<pm_key, pm_counter>(bpf_map__fd(program_->maps.counters))) {
    if (auto name = program_.names().shown(key))
      counters.push_back({key, std::move(*name), counter});
  }
  sortByPidAndName(counters);
  return counters;
}

std::vector<Drop> CounterValues::drops() const {
  return program_.drops(
      {{"counters", program_->bss->counters_dropped,
        fmt::format("counter events not recorded: more keys than --max-keys {}", max_keys_)}});
}

void CounterValues::forget(std::uint32_t pid) const {
  program_.forget(pid, {program_->maps.counters});
}

}  // namespace probemon::tool
