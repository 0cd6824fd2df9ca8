// SPDX-License-Identifier: BSD-3-Clause
// probemon trace: one record per wait at or above --min-ms, as SlowWaits
// streams them; --format chrome collects them into a Chrome/Perfetto trace
// JSON written at exit. Lost records are counted.
#include <fstream>

#include "Error.h"
#include "Output.h"
#include "Session.h"
#include "SlowWaits.h"
#include "Views.h"

namespace probemon::tool {
namespace {

class Trace {
 public:
  explicit Trace(const Options& options) : options_(options) {}

  void onWait(const pm_trace_event& e, const pm_key& key, const KeyName& name) {
    ++shown_;
    if (options_.format == "chrome") {
      chrome_events_.push_back({{"name", name.shown()},
                                {"cat", "probemon"},
                                {"ph", "X"},
                                {"ts", static_cast<double>(e.start_ns) / 1e3},
                                {"dur", static_cast<double>(e.duration_ns) / 1e3},
                                {"pid", e.pid},
                                {"tid", e.tid},
                                {"args", {{"key_id", e.key_id}, {"wait_id", e.wait_id}}}});
    } else if (options_.json) {
      nlohmann::json record = {{"type", "wait"}};
      record.update(name.json(key));
      record.update(nlohmann::json{{"tid", e.tid},
                                   {"wait_id", e.wait_id},
                                   {"start_ns", e.start_ns},
                                   {"duration_ns", e.duration_ns}});
      emitJson(record);
    } else {
      print("{:<8}  {:<7} {:<7} {:>12.3f}  {}\n", clockTime(), processOf(key), e.tid,
            static_cast<double>(e.duration_ns) / 1e6, name.shown());
      flushOutput();
    }
  }

  void header() const {
    if (options_.format != "text" || options_.json) return;
    print("{:<8}  {:<7} {:<7} {:>12}  {}\n", "TIME", "PID", "TID", "WAIT(ms)", "KEY");
    flushOutput();
  }

  void summary(const std::vector<Drop>& dropped, const Target& target, const char* end) {
    if (options_.format == "chrome") {
      writeChrome({{"target", target.describe()}, {"dropped", dropsJson(dropped)}});
    } else if (options_.json) {
      emitJson(
          {{"type", "summary"}, {"waits", shown_}, {"dropped", dropsJson(dropped)}, {"end", end}});
    } else {
      print("{} waits traced\n", shown_);
      printDrops(dropped);
      flushOutput();
    }
  }

 private:
  void writeChrome(nlohmann::json other) {
    const nlohmann::json doc = {{"traceEvents", std::move(chrome_events_)},
                                {"displayTimeUnit", "ms"},
                                {"otherData", std::move(other)}};
    if (options_.output.empty()) {
      emitJson(doc);
      return;
    }
    std::ofstream file(options_.output);
    file << doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    if (!file) throw ToolError("cannot write " + options_.output + ": check the directory");
  }

  const Options& options_;
  std::uint64_t shown_ = 0;
  nlohmann::json chrome_events_ = nlohmann::json::array();
};

}  // namespace

void runTrace(const Options& options) {
  if (!options.output.empty() && options.format != "chrome") {
    throw usageError("--output goes with --format chrome");
  }
  const std::uint32_t ringbuf_bytes = options.ringbuf_kb * 1024;
  if ((ringbuf_bytes & (ringbuf_bytes - 1)) != 0) {
    throw usageError("--ringbuf-kb must be a power of 2, e.g. 1024");
  }
  Session session(options.target, options.duration_s);
  Trace trace(options);
  SlowWaits waits(session, options.max_keys, static_cast<std::uint64_t>(options.min_ms * 1e6),
                  ringbuf_bytes, KeyFilter(options.key_glob),
                  [&](const pm_trace_event& e, const pm_key& key, const KeyName& name) {
                    trace.onWait(e, key, name);
                  });
  session.run({.what = "waits",
               .announced = [&] { trace.header(); },
               .render =
                   [&](const char* end) {
                     waits.consume();  // what came before the detach
                     trace.summary(waits.drops(), session.target(), end);
                   }});
}

}  // namespace probemon::tool
