// probemon hist: per-key log2 latency histograms aggregated in the kernel by
// latency.bpf.c, printed at exit (and every --interval if given) like bcc's
// tools, with count, sum, min, max and p50/p90/p99.
#include <fmt/format.h>

#include <cstdio>

#include "Latency.h"
#include "Output.h"
#include "Session.h"
#include "Views.h"

namespace probemon::tool {
namespace {

// `end` is null for an --interval refresh, the reason at exit.
void print(const LatencyTracer& tracer, const Options& options, const Unit& unit, const char* end) {
  const auto keys = tracer.histograms();
  const auto dropped = tracer.drops();
  if (options.json) {
    nlohmann::json records = nlohmann::json::array();
    for (const auto& k : keys) {
      nlohmann::json record = KeyNames::json(k.key, k.name);
      record.update(histogramJson(k.hist, unit));
      records.push_back(std::move(record));
    }
    nlohmann::json doc = {
        {"unit", unit.name}, {"keys", std::move(records)}, {"dropped", dropsJson(dropped)}};
    if (end != nullptr) doc["end"] = end;
    emitJson(doc);
    return;
  }
  if (end == nullptr) fmt::print("{}\n", clockTime());
  if (keys.empty()) fmt::print("no waits seen\n");
  for (const auto& k : keys) {
    fmt::print("\nkey = {}  pid {}\n", k.name.shown(), k.key.pid);
    printLog2Hist(stdout, k.hist, unit);
    fmt::print("count {}  sum {}  min {}  max {}  p50 {}  p90 {}  p99 {}\n", k.hist.count,
               formatNs(k.hist.sum_ns), formatNs(k.hist.min_ns), formatNs(k.hist.max_ns),
               formatNs(k.hist.percentileNs(0.50, unit)), formatNs(k.hist.percentileNs(0.90, unit)),
               formatNs(k.hist.percentileNs(0.99, unit)));
  }
  printDrops(stdout, dropped);
  flushOutput();
}

}  // namespace

int runHist(const Options& options) {
  const Unit unit = unitNamed(options.units);
  const Target target = resolveTarget(options);
  Session session(options, target);
  LatencyTracer tracer(options, target, unit);
  tracer.announce();
  const EndReason end = session.run(options.interval_set ? options.interval_s : 0,
                                    [&] { print(tracer, options, unit, nullptr); });
  tracer.detach();
  print(tracer, options, unit, describe(end));
  return 0;
}

}  // namespace probemon::tool
