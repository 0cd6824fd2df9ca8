// SPDX-License-Identifier: BSD-3-Clause
// probemon counters: DynamicCounter values (the last one the sampler read)
// and key registrations, from CounterValues, every --interval.
#include "CounterValues.h"
#include "Output.h"
#include "Refresh.h"
#include "Session.h"
#include "Views.h"

namespace probemon::tool {
namespace {

const char* kindName(std::uint32_t kind) {
  switch (kind) {
    case PROBEMON_KIND_WAIT_COUNTER:
      return "wait";
    case PROBEMON_KIND_DYNAMIC_COUNTER:
      return "dynamic";
  }
  return "unknown";
}

void show(const CounterValues& values, const Options& options) {
  const auto counters = values.read();
  const auto dropped = values.drops();
  if (options.json) {
    nlohmann::json records = nlohmann::json::array();
    for (const auto& c : counters) {
      nlohmann::json record = c.name.json(c.key);
      record.update(
          nlohmann::json{{"kind", kindName(c.counter.kind)},
                         {"value", c.counter.samples != 0 ? nlohmann::json(c.counter.value)
                                                          : nlohmann::json(nullptr)},
                         {"samples", c.counter.samples},
                         {"registered", c.counter.registered},
                         {"unregistered", c.counter.unregistered}});
      records.push_back(std::move(record));
    }
    emitRefresh("counters", std::move(records), dropped);
    return;
  }
  print("{}\n{:<7} {:<8} {:>20} {:>8} {:>5} {:>5}  {}\n", clockTime(), "PID", "KIND", "VALUE",
        "SAMPLES", "REG", "UNREG", "KEY");
  for (const auto& c : counters) {
    print("{:<7} {:<8} {:>20} {:>8} {:>5} {:>5}  {}\n", processOf(c.key), kindName(c.counter.kind),
          c.counter.samples != 0 ? std::to_string(c.counter.value) : "-", c.counter.samples,
          c.counter.registered, c.counter.unregistered, c.name.shown());
  }
  endTextRefresh(dropped);
}

}  // namespace

void runCounters(const Options& options) {
  Session session(options.target, options.duration_s);
  const CounterValues values(session, options.max_keys, KeyFilter(options.key_glob));
  session.run({.what = "counters", .every_s = refreshInterval(options), .render = [&](const char*) {
                 show(values, options);
               }});
}

}  // namespace probemon::tool
