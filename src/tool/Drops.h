// SPDX-License-Identifier: BSD-3-Clause
// What a view could not record (a full map, a full ring buffer, events the
// kernel skipped) is always reported, never dropped silently: one list of
// counters per view (Program::drops()), printed the same way by all.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace probemon::tool {

struct Drop {
  const char* name;  // JSON key, e.g. "waits"
  std::uint64_t count;
  std::string what;  // "waits not counted: more keys than --max-keys 4096"
};

// One line per non-zero counter on stdout: "dropped: 9000 waits not counted: ...".
void printDrops(const std::vector<Drop>& drops);
// {"waits": 9000, ...}, every counter, zero or not.
nlohmann::json dropsJson(const std::vector<Drop>& drops);

}  // namespace probemon::tool
