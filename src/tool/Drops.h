// What a view could not record (a full map, a full ring buffer, events the
// kernel skipped) is always reported, never dropped silently: one list of
// counters per view, printed the same way by all.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace probemon::tool {

struct Drop {
  const char* name;  // JSON key, e.g. "waits"
  std::uint64_t count;
  std::string what;  // "waits not counted: more keys than --max-keys 4096"
};

// The drops every view has: key names the key_names map had no room for,
// and probe hits the kernel skipped (Attachment::missedEvents()).
Drop namesDropped(std::uint64_t count, std::uint32_t max_keys);
Drop hitsMissed(std::uint64_t count);

// One line per non-zero counter: "dropped: 9000 waits not counted: ...".
void printDrops(std::FILE* out, const std::vector<Drop>& drops);
// {"waits": 9000, ...}, every counter, zero or not.
nlohmann::json dropsJson(const std::vector<Drop>& drops);

}  // namespace probemon::tool
