// SPDX-License-Identifier: BSD-3-Clause
// probemon top: a live per-key table refreshed every --interval: waits and
// rate in the last interval, p50 and p99 of that interval (from the change
// in the in-kernel histograms), all-time max.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>

#include "LatencyHistograms.h"
#include "Output.h"
#include "Refresh.h"
#include "Session.h"
#include "Views.h"

namespace probemon::tool {
namespace {

using Clock = std::chrono::steady_clock;

constexpr Unit kUnit{"usecs", 1000};

// A percentile of the last interval, null when it had no waits.
nlohmann::json recentJson(const Histogram& recent, double p) {
  return recent.count == 0 ? nlohmann::json(nullptr)
                           : nlohmann::json(recent.percentileNs(p, kUnit));
}

class Top {
 public:
  Top(const LatencyHistograms& latency, const Options& options)
      : latency_(latency), options_(options), clear_(!options.json && ::isatty(STDOUT_FILENO)) {}

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
    for (auto& k : latency_.histograms()) {
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
    const auto dropped = latency_.drops();
    if (options_.json) {
      nlohmann::json records = nlohmann::json::array();
      for (const auto& row : rows) {
        nlohmann::json record = row.key.name.json(row.key.key);
        record.update(nlohmann::json{{"count", row.recent.count},
                                     {"rate", static_cast<double>(row.recent.count) / elapsed_s},
                                     {"p50_ns", recentJson(row.recent, 0.50)},
                                     {"p99_ns", recentJson(row.recent, 0.99)},
                                     {"max_ns", row.key.hist.max_ns},
                                     {"total", row.key.hist.count}});
        records.push_back(std::move(record));
      }
      emitRefresh("keys", std::move(records), dropped, {{"interval_s", elapsed_s}});
      return;
    }
    if (clear_) print("\033[H\033[2J");
    print("{}  probemon waits per key, last {:.1f} s\n", clockTime(), elapsed_s);
    print("{:<7} {:>9} {:>10} {:>10} {:>10} {:>10} {:>10}  {}\n", "PID", "WAITS", "RATE/s", "P50",
          "P99", "MAX", "TOTAL", "KEY");
    for (const auto& row : rows) {
      // No waits in this interval: no percentiles to show.
      auto recent = [&](double p) {
        return row.recent.count == 0 ? std::string("-")
                                     : formatNs(row.recent.percentileNs(p, kUnit));
      };
      print("{:<7} {:>9} {:>10.1f} {:>10} {:>10} {:>10} {:>10}  {}\n", processOf(row.key.key),
            row.recent.count, static_cast<double>(row.recent.count) / elapsed_s, recent(0.50),
            recent(0.99), formatNs(row.key.hist.max_ns), row.key.hist.count, row.key.name.shown());
    }
    endTextRefresh(dropped);
  }

 private:
  const LatencyHistograms& latency_;
  const Options& options_;
  const bool clear_;
  Clock::time_point last_ = Clock::now();
  std::map<pm_key, Histogram, KeyLess> previous_;
};

}  // namespace

void runTop(const Options& options) {
  Session session(options.target, options.duration_s);
  const LatencyHistograms latency(session, options.max_keys, kUnit, KeyFilter(options.key_glob),
                                 options.batch);
  Top top(latency, options);
  session.run({.what = "waits", .every_s = refreshInterval(options), .render = [&](const char*) {
                 top.refresh();
               }});
}

}  // namespace probemon::tool
