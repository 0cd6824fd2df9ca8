#include "Drops.h"

#include <fmt/format.h>

namespace probemon::tool {

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
