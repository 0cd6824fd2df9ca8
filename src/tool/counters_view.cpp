// probemon counters: DynamicCounter values (the last one the sampler read)
// and key registrations, from counters.bpf.c, every --interval.
#include <fmt/format.h>

#include <algorithm>

#include "Attach.h"
#include "Drops.h"
#include "Maps.h"
#include "Output.h"
#include "Session.h"
#include "Views.h"
#include "counters.h"
#include "counters.skel.h"

namespace probemon::tool {
namespace {

const char* kindName(std::uint32_t kind) {
  switch (kind) {
    case PM_KIND_WAIT:
      return "wait";
    case PM_KIND_DYNAMIC:
      return "dynamic";
  }
  return "unknown";
}

struct Counter {
  pm_key key;
  pm_counter counter;
  KeyName name;
};

void show(const counters_bpf& skel, const KeyNames& names, const Attachment& attachment,
          const Options& options) {
  std::vector<Counter> counters;
  for (const auto& [key, counter] : readMap<pm_key, pm_counter>(bpf_map__fd(skel.maps.counters))) {
    KeyName name = names.lookup(key);
    if (names.matches(name)) counters.push_back({key, counter, std::move(name)});
  }
  std::sort(counters.begin(), counters.end(), [](const Counter& a, const Counter& b) {
    return std::tie(a.key.pid, a.name.name) < std::tie(b.key.pid, b.name.name);
  });
  const std::vector<Drop> dropped = {
      {"counters", skel.bss->counters_dropped,
       fmt::format("counter events not recorded: more keys than --max-keys {}", options.max_keys)},
      namesDropped(skel.bss->names_dropped, options.max_keys),
      hitsMissed(attachment.missedEvents())};
  if (options.json) {
    nlohmann::json records = nlohmann::json::array();
    for (const auto& c : counters) {
      nlohmann::json record = KeyNames::json(c.key, c.name);
      record.update(
          nlohmann::json{{"kind", kindName(c.counter.kind)},
                         {"value", c.counter.samples != 0 ? nlohmann::json(c.counter.value)
                                                          : nlohmann::json(nullptr)},
                         {"samples", c.counter.samples},
                         {"registered", c.counter.registered},
                         {"unregistered", c.counter.unregistered}});
      records.push_back(std::move(record));
    }
    emitJson({{"time", epochSeconds()},
              {"counters", std::move(records)},
              {"dropped", dropsJson(dropped)}});
    return;
  }
  fmt::print("{}\n{:<7} {:<8} {:>20} {:>8} {:>5} {:>5}  {}\n", clockTime(), "PID", "KIND", "VALUE",
             "SAMPLES", "REG", "UNREG", "KEY");
  for (const auto& c : counters) {
    fmt::print("{:<7} {:<8} {:>20} {:>8} {:>5} {:>5}  {}\n", c.key.pid, kindName(c.counter.kind),
               c.counter.samples != 0 ? std::to_string(c.counter.value) : "-", c.counter.samples,
               c.counter.registered, c.counter.unregistered, c.name.shown());
  }
  printDrops(stdout, dropped);
  fmt::print("\n");
  flushOutput();
}

}  // namespace

int runCounters(const Options& options) {
  const Target target = resolveTarget(options);
  checkCanTrace();
  auto skel = openSkeleton(counters_bpf__open, counters_bpf__destroy, "counters");
  setMaxEntries(skel->maps.counters, options.max_keys);
  setMaxEntries(skel->maps.key_names, options.max_keys);
  checkSkeletonStep(counters_bpf__load(skel.get()), "counters", "load");

  Session session(options, target);
  Attachment attachment(target);
  attachment.attach(skel->progs.handle_register, "counter__register");
  attachment.attach(skel->progs.handle_unregister, "counter__unregister");
  attachment.attach(skel->progs.handle_value, "dynamic__value");
  attachment.announce("counters");
  const KeyNames names(bpf_map__fd(skel->maps.key_names), options.key_glob);
  session.run(options.interval_s, [&] { show(*skel, names, attachment, options); });
  attachment.detach();
  show(*skel, names, attachment, options);
  return 0;
}

}  // namespace probemon::tool
