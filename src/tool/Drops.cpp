// SPDX-License-Identifier: BSD-3-Clause
#include "Drops.h"

#include "Output.h"

namespace probemon::tool {

void printDrops(const std::vector<Drop>& drops) {
  for (const auto& drop : drops) {
    if (drop.count != 0) print("dropped: {} {}\n", drop.count, drop.what);
  }
}

nlohmann::json dropsJson(const std::vector<Drop>& drops) {
  nlohmann::json json = nlohmann::json::object();
  for (const auto& drop : drops) json[drop.name] = drop.count;
  return json;
}

}  // namespace probemon::tool
