// probemon top: a live per-key table refreshed every --interval: waits and
// rate in the last interval, p50 and p99 of that interval (from the change
// in the in-kernel histograms), all-time max.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>

#include "Latency.h"
#include "Output.h"
#include "Session.h"
#include "Views.h"

namespace probemon::tool {
namespace {

using Clock = std::chrono::steady_clock;

// A percentile of the last interval, null when it had no waits.
nlohmann::json recentJson(const Histogram& recent, double p);

class Top {
 public:
  Top(const LatencyTracer& tracer, const Options& options)
      : tracer_(tracer), options_(options), clear_(!options.json && ::isatty(STDOUT_FILENO)) {}

  void refresh() {
    const auto now = Clock::now();
    const double elapsed_s = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    struct Row {
      KeyHist key;
      Histogram recent;
    };
    std::vector<Row> rows;
    std::map<pm_key, Histogram, KeyLess> current;
    for (auto& k : tracer_.histograms()) {
      const auto before = previous_.find(k.key);
      const Histogram recent = before == previous_.end() ? k.hist : k.hist.since(before->second);
      current[k.key] = k.hist;
      rows.push_back({std::move(k), recent});
    }
    previous_ = std::move(current);
    std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
      return a.recent.count != b.recent.count ? a.recent.count > b.recent.count
                                              : a.key.key.key_id < b.key.key.key_id;
    });
    const auto dropped = tracer_.drops();
    if (options_.json) {
      nlohmann::json records = nlohmann::json::array();
      for (const auto& row : rows) {
        nlohmann::json record = KeyNames::json(row.key.key, row.key.name);
        record.update(nlohmann::json{{"count", row.recent.count},
                                     {"rate", static_cast<double>(row.recent.count) / elapsed_s},
                                     {"p50_ns", recentJson(row.recent, 0.50)},
                                     {"p99_ns", recentJson(row.recent, 0.99)},
                                     {"max_ns", row.key.hist.max_ns},
                                     {"total", row.key.hist.count}});
        records.push_back(std::move(record));
      }
      emitJson({{"time", epochSeconds()},
                {"interval_s", elapsed_s},
                {"keys", std::move(records)},
                {"dropped", dropsJson(dropped)}});
      return;
    }
    if (clear_) fmt::print("\033[H\033[2J");
    fmt::print("{}  probemon waits per key, last {:.1f} s\n", clockTime(), elapsed_s);
    fmt::print("{:<7} {:>9} {:>10} {:>10} {:>10} {:>10} {:>10}  {}\n", "PID", "WAITS", "RATE/s",
               "P50", "P99", "MAX", "TOTAL", "KEY");
    for (const auto& row : rows) {
      // No waits in this interval: no percentiles to show.
      auto recent = [&](double p) {
        return row.recent.count == 0 ? std::string("-")
                                     : formatNs(row.recent.percentileNs(p, kUnit));
      };
      fmt::print("{:<7} {:>9} {:>10.1f} {:>10} {:>10} {:>10} {:>10}  {}\n", row.key.key.pid,
                 row.recent.count, static_cast<double>(row.recent.count) / elapsed_s, recent(0.50),
                 recent(0.99), formatNs(row.key.hist.max_ns), row.key.hist.count,
                 row.key.name.shown());
    }
    printDrops(stdout, dropped);
    fmt::print("\n");
    flushOutput();
  }

  static constexpr Unit kUnit{"usecs", 1000};

 private:
  const LatencyTracer& tracer_;
  const Options& options_;
  const bool clear_;
  Clock::time_point last_ = Clock::now();
  std::map<pm_key, Histogram, KeyLess> previous_;
};

nlohmann::json recentJson(const Histogram& recent, double p) {
  return recent.count == 0 ? nlohmann::json(nullptr)
                           : nlohmann::json(recent.percentileNs(p, Top::kUnit));
}

}  // namespace

int runTop(const Options& options) {
  const Target target = resolveTarget(options);
  Session session(options, target);
  LatencyTracer tracer(options, target, Top::kUnit);
  Top top(tracer, options);
  tracer.announce();
  session.run(options.interval_s, [&] { top.refresh(); });
  tracer.detach();
  top.refresh();
  return 0;
}

}  // namespace probemon::tool
