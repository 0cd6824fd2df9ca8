// SPDX-License-Identifier: BSD-3-Clause
#include "Refresh.h"

#include "Output.h"

namespace probemon::tool {

void emitRefresh(const char* name, nlohmann::json records, const std::vector<Drop>& drops,
                 nlohmann::json extra) {
  extra["time"] = epochSeconds();
  extra[name] = std::move(records);
  extra["dropped"] = dropsJson(drops);
  emitJson(extra);
}

void endTextRefresh(const std::vector<Drop>& drops) {
  printDrops(drops);
  print("\n");
  flushOutput();
}

}  // namespace probemon::tool
