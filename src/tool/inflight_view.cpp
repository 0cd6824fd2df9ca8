// probemon inflight: the waits open longer than --min-ms right now, with key,
// thread and age (the "what is stuck" view), from inflight.bpf.c's LRU hash
// of open waits, every --interval.
#include <fmt/format.h>

#include <algorithm>
#include <ctime>

#include "Attach.h"
#include "Drops.h"
#include "Maps.h"
#include "Output.h"
#include "Session.h"
#include "Views.h"
#include "inflight.h"
#include "inflight.skel.h"

namespace probemon::tool {
namespace {

std::uint64_t monotonicNs() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000ULL +
         static_cast<std::uint64_t>(now.tv_nsec);
}

struct OpenWait {
  pm_wait_key id;
  pm_wait wait;
  KeyName name;
  std::uint64_t age_ns;
};

void show(const inflight_bpf& skel, const KeyNames& names, const Attachment& attachment,
          const Options& options) {
  const std::uint64_t now = monotonicNs();
  const auto min_age_ns = static_cast<std::uint64_t>(options.min_ms * 1e6);
  std::vector<OpenWait> open;
  for (const auto& [id, wait] : readMap<pm_wait_key, pm_wait>(bpf_map__fd(skel.maps.waits))) {
    const std::uint64_t age = now > wait.start_ns ? now - wait.start_ns : 0;
    if (age < min_age_ns) continue;
    KeyName name = names.lookup({id.pid, 0, wait.key_id});
    if (names.matches(name)) open.push_back({id, wait, std::move(name), age});
  }
  std::sort(open.begin(), open.end(),
            [](const OpenWait& a, const OpenWait& b) { return a.age_ns > b.age_ns; });
  const std::vector<Drop> dropped = {
      {"evicted", skel.bss->waits_evicted,
       fmt::format("open waits evicted: more open at once than --max-waits {}", options.max_waits)},
      namesDropped(skel.bss->names_dropped, options.max_keys),
      hitsMissed(attachment.missedEvents())};
  if (options.json) {
    nlohmann::json waits = nlohmann::json::array();
    for (const auto& w : open) {
      nlohmann::json record = KeyNames::json({w.id.pid, 0, w.wait.key_id}, w.name);
      record.update(nlohmann::json{{"tid", w.wait.tid},
                                   {"wait_id", w.id.wait_id},
                                   {"start_ns", w.wait.start_ns},
                                   {"age_ns", w.age_ns}});
      waits.push_back(std::move(record));
    }
    emitJson(
        {{"time", epochSeconds()}, {"waits", std::move(waits)}, {"dropped", dropsJson(dropped)}});
    return;
  }
  fmt::print("{}  {} waits open for at least {} ms\n", clockTime(), open.size(), options.min_ms);
  if (!open.empty()) fmt::print("{:<7} {:<7} {:>12}  {}\n", "PID", "TID", "AGE(ms)", "KEY");
  for (const auto& w : open) {
    fmt::print("{:<7} {:<7} {:>12.1f}  {}\n", w.id.pid, w.wait.tid,
               static_cast<double>(w.age_ns) / 1e6, w.name.shown());
  }
  printDrops(stdout, dropped);
  fmt::print("\n");
  flushOutput();
}

}  // namespace

int runInflight(const Options& options) {
  const Target target = resolveTarget(options);
  checkCanTrace();
  auto skel = openSkeleton(inflight_bpf__open, inflight_bpf__destroy, "inflight");
  setMaxEntries(skel->maps.waits, options.max_waits);
  setMaxEntries(skel->maps.key_names, options.max_keys);
  checkSkeletonStep(inflight_bpf__load(skel.get()), "inflight", "load");

  Session session(options, target);
  Attachment attachment(target);
  attachment.attach(skel->progs.handle_wait_start, "wait__start");
  attachment.attach(skel->progs.handle_wait_done, "wait__done");
  skel->data->attached_ns = monotonicNs();
  attachment.announce("open waits");
  const KeyNames names(bpf_map__fd(skel->maps.key_names), options.key_glob);
  session.run(options.interval_s, [&] { show(*skel, names, attachment, options); });
  attachment.detach();
  show(*skel, names, attachment, options);
  return 0;
}

}  // namespace probemon::tool
