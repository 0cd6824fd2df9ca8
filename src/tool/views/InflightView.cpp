// SPDX-License-Identifier: BSD-3-Clause
// probemon inflight: the waits open longer than --min-ms right now, with key,
// thread and age (the "what is stuck" view), from OpenWaits, every
// --interval.
#include "OpenWaits.h"
#include "Output.h"
#include "Refresh.h"
#include "Session.h"
#include "Views.h"

namespace probemon::tool {
namespace {

void show(const OpenWaits& waits, const Options& options) {
  const auto open = waits.openFor(static_cast<std::uint64_t>(options.min_ms * 1e6));
  const auto dropped = waits.drops();
  if (options.json) {
    nlohmann::json records = nlohmann::json::array();
    for (const auto& w : open) {
      nlohmann::json record = w.name.json(w.key);
      record.update(nlohmann::json{
          {"tid", w.tid}, {"wait_id", w.wait_id}, {"start_ns", w.start_ns}, {"age_ns", w.age_ns}});
      records.push_back(std::move(record));
    }
    emitRefresh("waits", std::move(records), dropped);
    return;
  }
  print("{}  {} waits open for at least {} ms\n", clockTime(), open.size(), options.min_ms);
  if (!open.empty()) print("{:<7} {:<7} {:>12}  {}\n", "PID", "TID", "AGE(ms)", "KEY");
  for (const auto& w : open) {
    print("{:<7} {:<7} {:>12.1f}  {}\n", processOf(w.key), w.tid,
          static_cast<double>(w.age_ns) / 1e6, w.name.shown());
  }
  endTextRefresh(dropped);
}

}  // namespace

void runInflight(const Options& options) {
  Session session(options.target, options.duration_s);
  const OpenWaits waits(session, options.max_keys, options.max_waits, KeyFilter(options.key_glob));
  session.run({.what = "open waits",
               .every_s = refreshInterval(options),
               .render = [&](const char*) { show(waits, options); }});
}

}  // namespace probemon::tool
