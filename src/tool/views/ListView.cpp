// SPDX-License-Identifier: BSD-3-Clause
// probemon list: the probemon probes and semaphores in a process or file.
// Paths, names and argument specs come from the target's files: escaped.
#include "Output.h"
#include "Target.h"
#include "Views.h"
#include "escaping/Escaping.h"

namespace probemon::tool {

void runList(const Options& options) {
  const Target target = resolveTarget(options.target);
  if (options.json) {
    nlohmann::json objects = nlohmann::json::array();
    for (const auto& object : target.objects) {
      nlohmann::json probes = nlohmann::json::array();
      for (const auto& probe : object.probes) {
        probes.push_back({{"provider", detail::utf8Text(probe.provider)},
                          {"name", detail::utf8Text(probe.name)},
                          {"pc", probe.pc},
                          {"semaphore", probe.semaphore},
                          {"args", detail::utf8Text(probe.args)}});
      }
      objects.push_back(
          {{"path", detail::utf8Text(object.shown_path)}, {"probes", std::move(probes)}});
    }
    emitJson({{"pid", target.pid > 0 ? nlohmann::json(target.pid) : nlohmann::json(nullptr)},
              {"objects", std::move(objects)}});
    return;
  }
  for (const auto& object : target.objects) {
    print("{}{}\n", detail::terminalText(object.shown_path),
          target.pid > 0 ? fmt::format(" (pid {})", target.pid) : "");
    print("  {:<30} {:>18} {:>18}  {}\n", "PROBE", "PC", "SEMAPHORE", "ARGS");
    for (const auto& probe : object.probes) {
      print("  {:<30} {:>#18x} {:>#18x}  {}\n",
            detail::terminalText(probe.provider + ":" + probe.name), probe.pc, probe.semaphore,
            detail::terminalText(probe.args));
    }
  }
  flushOutput();
}

}  // namespace probemon::tool
