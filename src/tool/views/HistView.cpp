// SPDX-License-Identifier: BSD-3-Clause
// probemon hist: per-key log2 latency histograms aggregated in the kernel
// (LatencyHistograms), printed at exit (and every --interval if given) like
// bcc's tools, with count, sum, min, max and p50/p90/p99.
#include "LatencyHistograms.h"
#include "Output.h"
#include "Session.h"
#include "Views.h"

namespace probemon::tool {
namespace {

// `end` is null for an --interval refresh, the reason at exit.
void printHistograms(const LatencyHistograms& latency, const Options& options, const Unit& unit,
                     const char* end) {
  const auto keys = latency.histograms();
  const auto dropped = latency.drops();
  if (options.json) {
    nlohmann::json records = nlohmann::json::array();
    for (const auto& k : keys) {
      nlohmann::json record = k.name.json(k.key);
      record.update(histogramJson(k.hist, unit));
      records.push_back(std::move(record));
    }
    nlohmann::json doc = {
        {"unit", unit.name}, {"keys", std::move(records)}, {"dropped", dropsJson(dropped)}};
    if (end != nullptr) doc["end"] = end;
    emitJson(doc);
    return;
  }
  if (end == nullptr) print("{}\n", clockTime());
  if (keys.empty()) print("no waits seen\n");
  for (const auto& k : keys) {
    print("\nkey = {}  pid {}\n", k.name.shown(), processOf(k.key));
    writeText(log2HistText(k.hist, unit));
    print("count {}  sum {}  min {}  max {}  p50 {}  p90 {}  p99 {}\n", k.hist.count,
          formatNs(k.hist.sum_ns), formatNs(k.hist.min_ns), formatNs(k.hist.max_ns),
          formatNs(k.hist.percentileNs(0.50, unit)), formatNs(k.hist.percentileNs(0.90, unit)),
          formatNs(k.hist.percentileNs(0.99, unit)));
  }
  printDrops(dropped);
  flushOutput();
}

}  // namespace

void runHist(const Options& options) {
  const Unit unit = unitNamed(options.units);
  Session session(options.target, options.duration_s);
  const LatencyHistograms latency(session, options.max_keys, unit, KeyFilter(options.key_glob),
                                 options.batch);
  session.run({.what = "waits",
               .every_s = options.interval_s.value_or(0),  // only when asked
               .render = [&](const char* end) { printHistograms(latency, options, unit, end); }});
}

}  // namespace probemon::tool
