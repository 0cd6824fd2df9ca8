// probemon hist: per-key log2 latency histograms aggregated in the kernel by
// latency.bpf.c, printed at exit (and every --interval if given) like bcc's
// tools, with count, sum, min, max and p50/p90/p99.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

#include "Attach.h"
#include "Drops.h"
#include "Error.h"
#include "Histogram.h"
#include "Maps.h"
#include "Output.h"
#include "Session.h"
#include "Views.h"
#include "latency.h"
#include "latency.skel.h"

namespace probemon::tool {
namespace {

struct KeyHist {
  pm_key key;
  KeyName name;
  Histogram hist;
};

std::vector<KeyHist> gather(const latency_bpf& skel, const KeyNames& names) {
  std::vector<KeyHist> keys;
  for (auto& [key, hist] : readHistograms(bpf_map__fd(skel.maps.hists))) {
    KeyName name = names.lookup(key);
    if (names.matches(name)) keys.push_back({key, std::move(name), hist});
  }
  std::sort(keys.begin(), keys.end(), [](const KeyHist& a, const KeyHist& b) {
    return std::tie(a.key.pid, a.name.name) < std::tie(b.key.pid, b.name.name);
  });
  return keys;
}

std::vector<Drop> drops(const latency_bpf& skel, const Attachment& attachment,
                        const Options& options) {
  return {{"waits", skel.bss->waits_dropped,
           fmt::format("waits not counted: more keys than --max-keys {}", options.max_keys)},
          {"names", skel.bss->names_dropped,
           fmt::format("key names not read: more keys than --max-keys {}", options.max_keys)},
          {"missed", attachment.missedEvents(),
           "probe hits the kernel skipped (a BPF program was already running on that CPU)"}};
}

void print(const latency_bpf& skel, const KeyNames& names, const Attachment& attachment,
           const Options& options, const Unit& unit, const char* end) {
  const auto keys = gather(skel, names);
  const auto dropped = drops(skel, attachment, options);
  if (options.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& k : keys) {
      nlohmann::json record = KeyNames::json(k.key, k.name);
      record.update(histogramJson(k.hist, unit));
      out.push_back(std::move(record));
    }
    nlohmann::json doc = {{"unit", unit.name}, {"keys", std::move(out)}, {"dropped", dropsJson(dropped)}};
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
  checkCanTrace();
  auto skel = openSkeleton(latency_bpf__open, latency_bpf__destroy, "latency");
  skel->rodata->unit_ns = unit.ns;
  setMaxEntries(skel->maps.hists, options.max_keys);
  setMaxEntries(skel->maps.key_names, options.max_keys);
  checkSkeletonStep(latency_bpf__load(skel.get()), "latency", "load");

  Session session(options, target);
  Attachment attachment(target);
  attachment.attach(skel->progs.handle_wait_done, "wait__done");
  attachment.announce("waits");
  const KeyNames names(bpf_map__fd(skel->maps.key_names), options.key_glob);
  const EndReason end =
      session.run(options.interval_set ? options.interval_s : 0,
                  [&] { print(*skel, names, attachment, options, unit, nullptr); });
  attachment.detach();
  print(*skel, names, attachment, options, unit, describe(end));
  return 0;
}

}  // namespace probemon::tool
