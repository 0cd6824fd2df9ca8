// SPDX-License-Identifier: BSD-3-Clause
// probemon trace: one record per wait at or above --min-ms, as SlowWaits
// streams them; --format chrome writes them as a Chrome/Perfetto trace JSON,
// streamed to the output as they come (memory stays bounded however long it
// runs) and closed with the drops at exit. Lost records are counted.
#include <memory>
#include <optional>

#include "Error.h"
#include "Output.h"
#include "Session.h"
#include "SlowWaits.h"
#include "Views.h"
#include "escaping/Escaping.h"

namespace probemon::tool {
namespace {

// Nanoseconds as microseconds with the nanoseconds kept as three decimals.
std::string micros(std::uint64_t ns) { return fmt::format("{}.{:03}", ns / 1000, ns % 1000); }

// The Chrome trace document, written event by event: its head at start,
// each wait as it comes (through stdio's buffer), its tail at the end.
class ChromeTrace {
 public:
  explicit ChromeTrace(OutputFile& out) : out_(out) { out_.write("{\"traceEvents\":[\n"); }

  void wait(const pm_trace_event& e, const KeyName& name) {
    std::string event = first_ ? "{\"name\":" : ",\n{\"name\":";
    first_ = false;
    detail::appendJsonString(event, name.label());
    event += fmt::format(
        ",\"cat\":\"probemon\",\"ph\":\"X\",\"ts\":{},\"dur\":{},\"pid\":{},\"tid\":{},"
        "\"args\":{{\"key_id\":{},\"wait_id\":{}}}}}",
        micros(e.start_ns), micros(e.duration_ns), e.pid, e.tid, e.key_id, e.wait_id);
    out_.write(event);
  }

  void finish(const nlohmann::json& other) {
    out_.write("\n],\"displayTimeUnit\":\"ms\",\"otherData\":");
    out_.write(other.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    out_.write("}\n");
    out_.close();
  }

 private:
  OutputFile& out_;
  bool first_ = true;
};

class Trace {
 public:
  // Opens -o now, so a bad path fails before anything is attached.
  explicit Trace(const Options& options) : options_(options) {
    if (options.format != "chrome") return;
    if (!options.output.empty()) file_ = std::make_unique<OutputFile>(options.output);
    chrome_.emplace(file_ ? *file_ : OutputFile::standardOutput());
  }

  void onWait(const pm_trace_event& e, const pm_key& key, const KeyName& name) {
    ++shown_;
    if (chrome_) {
      chrome_->wait(e, name);
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
    if (chrome_) {
      chrome_->finish(
          {{"target", detail::utf8Text(target.describe())}, {"dropped", dropsJson(dropped)}});
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
  const Options& options_;
  std::uint64_t shown_ = 0;
  std::unique_ptr<OutputFile> file_;  // -o
  std::optional<ChromeTrace> chrome_;
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
  Trace trace(options);
  Session session(options.target, options.duration_s);
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
