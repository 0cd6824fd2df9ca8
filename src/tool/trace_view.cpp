// probemon trace: one record per wait at or above --min-ms, streamed from
// trace.bpf.c through a BPF ring buffer; --format chrome collects them into a
// Chrome/Perfetto trace JSON written at exit. Lost records are counted.
#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <map>

#include "Attach.h"
#include "Drops.h"
#include "Error.h"
#include "Maps.h"
#include "Output.h"
#include "Session.h"
#include "Views.h"
#include "trace.h"
#include "trace.skel.h"

namespace probemon::tool {
namespace {

struct Tracer {
  const Options& options;
  KeyNames names;
  std::map<pm_key, KeyName, KeyLess> cache;  // names never change: one map lookup per key
  std::uint64_t shown = 0;
  nlohmann::json chrome_events = nlohmann::json::array();

  const KeyName& nameOf(const pm_key& key) {
    auto it = cache.find(key);
    if (it == cache.end() || !it->second.known) {
      it = cache.insert_or_assign(key, names.lookup(key)).first;
    }
    return it->second;
  }

  void onEvent(const pm_trace_event& e) {
    const pm_key key{e.pid, 0, e.key_id};
    const KeyName& name = nameOf(key);
    if (!names.matches(name)) return;
    ++shown;
    if (options.format == "chrome") {
      chrome_events.push_back({{"name", name.shown()},
                               {"cat", "probemon"},
                               {"ph", "X"},
                               {"ts", static_cast<double>(e.start_ns) / 1e3},
                               {"dur", static_cast<double>(e.duration_ns) / 1e3},
                               {"pid", e.pid},
                               {"tid", e.tid},
                               {"args", {{"key_id", e.key_id}, {"wait_id", e.wait_id}}}});
    } else if (options.json) {
      nlohmann::json record = {{"type", "wait"}};
      record.update(KeyNames::json(key, name));
      record.update(nlohmann::json{{"tid", e.tid},
                                   {"wait_id", e.wait_id},
                                   {"start_ns", e.start_ns},
                                   {"duration_ns", e.duration_ns}});
      emitJson(record);
    } else {
      fmt::print("{:<8}  {:<7} {:<7} {:>12.3f}  {}\n", clockTime(), e.pid, e.tid,
                 static_cast<double>(e.duration_ns) / 1e6, name.shown());
      flushOutput();
    }
  }
};

int onRingbufRecord(void* context, void* data, std::size_t size) {
  if (size >= sizeof(pm_trace_event)) {
    static_cast<Tracer*>(context)->onEvent(*static_cast<const pm_trace_event*>(data));
  }
  return 0;
}

void writeChrome(const Options& options, nlohmann::json events, nlohmann::json other) {
  const nlohmann::json doc = {{"traceEvents", std::move(events)},
                              {"displayTimeUnit", "ms"},
                              {"otherData", std::move(other)}};
  if (options.output.empty()) {
    emitJson(doc);
    return;
  }
  std::ofstream file(options.output);
  file << doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  if (!file) throw ToolError("cannot write " + options.output + ": check the directory");
}

}  // namespace

int runTrace(const Options& options) {
  if (!options.output.empty() && options.format != "chrome") {
    throw usageError("--output goes with --format chrome");
  }
  const std::uint32_t ringbuf_bytes = options.ringbuf_kb * 1024;
  if ((ringbuf_bytes & (ringbuf_bytes - 1)) != 0) {
    throw usageError("--ringbuf-kb must be a power of 2, e.g. 1024");
  }
  const Target target = resolveTarget(options);
  checkCanTrace();
  auto skel = openSkeleton(trace_bpf__open, trace_bpf__destroy, "trace");
  skel->rodata->min_ns = static_cast<std::uint64_t>(options.min_ms * 1e6);
  setMaxEntries(skel->maps.events, ringbuf_bytes);
  setMaxEntries(skel->maps.key_names, options.max_keys);
  checkSkeletonStep(trace_bpf__load(skel.get()), "trace", "load");

  Tracer tracer{options, KeyNames(bpf_map__fd(skel->maps.key_names), options.key_glob), {}};
  std::unique_ptr<ring_buffer, decltype(&ring_buffer__free)> ring(
      ring_buffer__new(bpf_map__fd(skel->maps.events), onRingbufRecord, &tracer, nullptr),
      &ring_buffer__free);
  if (!ring) checkSkeletonStep(-errno, "trace", "open the ring buffer of");

  Session session(options, target);
  Attachment attachment(target);
  attachment.attach(skel->progs.handle_wait_done, "wait__done");
  attachment.announce("waits");
  if (options.format == "text" && !options.json) {
    fmt::print("{:<8}  {:<7} {:<7} {:>12}  {}\n", "TIME", "PID", "TID", "WAIT(ms)", "KEY");
    flushOutput();
  }
  session.watch(ring_buffer__epoll_fd(ring.get()), [&] { ring_buffer__consume(ring.get()); });
  const EndReason end = session.run(0, {});
  attachment.detach();
  ring_buffer__consume(ring.get());

  const std::vector<Drop> dropped = {
      {"events", skel->bss->events_lost,
       fmt::format("waits not traced: ring buffer full (raise --ringbuf-kb {})",
                   options.ringbuf_kb)},
      namesDropped(skel->bss->names_dropped, options.max_keys),
      hitsMissed(attachment.missedEvents())};
  if (options.format == "chrome") {
    writeChrome(options, std::move(tracer.chrome_events),
                {{"target", target.describe()}, {"dropped", dropsJson(dropped)}});
  } else if (options.json) {
    emitJson({{"type", "summary"},
              {"waits", tracer.shown},
              {"dropped", dropsJson(dropped)},
              {"end", describe(end)}});
  } else {
    fmt::print("{} waits traced\n", tracer.shown);
    printDrops(stdout, dropped);
    flushOutput();
  }
  return 0;
}

}  // namespace probemon::tool
