#include "Drops.h"

#include <fmt/format.h>

namespace probemon::tool {

Drop namesDropped(std::uint64_t count, std::uint32_t max_keys) {
  return {"names", count,
          fmt::format("key names not read: more keys than --max-keys {}", max_keys)};
}

Drop hitsMissed(std::uint64_t count) {
  return {"missed", count,
          "probe hits the kernel skipped (a BPF program was already running on that CPU)"};
}

void printDrops(std::FILE* out, const std::vector<Drop>& drops) {
  for (const auto& drop : drops) {
    if (drop.count != 0) fmt::print(out, "dropped: {} {}\n", drop.count, drop.what);
  }
}

nlohmann::json dropsJson(const std::vector<Drop>& drops) {
  nlohmann::json json = nlohmann::json::object();
  for (const auto& drop : drops) json[drop.name] = drop.count;
  return json;
}

}  // namespace probemon::tool
