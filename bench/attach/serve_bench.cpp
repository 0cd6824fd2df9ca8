// SPDX-License-Identifier: BSD-3-Clause
// probemon-bench-serve: what `probemon serve` costs (docs/performance.md,
// "probemon serve"), each comparison side by side in one run:
//   - the exposition alone: one scrape of --keys keys (histograms shaped
//     like serve's: its default buckets and +Inf), from serve's endpoint
//     (MetricsServer: civetweb and prometheus-cpp's TextSerializer into a
//     kept buffer) against prometheus-cpp's Exposer serving the same
//     families, asked as Prometheus asks (gzip accepted) and without gzip;
//     client-side ms per scrape, rounds alternating; and the text written
//     by serve's Exposition alone, in the benchmark's thread;
//   - with root, serve attached to this process with --keys real keys: ms
//     per scrape (client side, and serve's own probemon_scrape_duration_
//     seconds), serve's CPU per scrape (to the ns, from schedstat), and its
//     CPU share at one scrape per second with --keys and with 10 keys while
//     this process waits on them; with --baseline, another build's serve is
//     attached too and scraped in turn with it;
//   - ns per wait with nothing, `hist`, `serve` and `serve --inflight`
//     attached, rounds alternating.
//
//   probemon-bench-serve --tool build/src/tool/probemon [--baseline OTHER/probemon
//                        [--baseline-arg=--buckets=1ns:549.75s]] [--keys 1000] [--scrapes 21] [--cpu-seconds 30] [--rounds 5]
//                        [--waits 200000]
#include <civetweb.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <probemon/WaitCounter.h>
#include <prometheus/exposer.h>
#include <CLI/CLI.hpp>

#include "Exposition.h"
#include "Histogram.h"
#include "MetricsServer.h"
#include "SecondsHistogram.h"
#include "ToolProcess.h"

namespace {

using probemon::bench::Clock;
using probemon::bench::median;
using probemon::bench::nsPerIteration;
using probemon::bench::ToolProcess;

constexpr const char* kPrometheusAccept =
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

struct Scrape {
  double ms = 0;
  std::string body;
};

// GET /metrics on 127.0.0.1:`port`, timed from connect to the last byte.
Scrape scrape(int port, const std::string& headers) {
  char error[256] = "";
  const auto start = Clock::now();
  mg_connection* conn =
      mg_download("127.0.0.1", port, 0, error, sizeof(error),
                  "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n%s\r\n", headers.c_str());
  if (conn == nullptr) throw std::runtime_error(std::string("scrape failed: ") + error);
  if (mg_get_response_info(conn)->status_code != 200) throw std::runtime_error("scrape: not 200");
  Scrape result;
  char buffer[65536];
  for (int n; (n = mg_read(conn, buffer, sizeof(buffer))) > 0;) {
    result.body.append(buffer, static_cast<std::size_t>(n));
  }
  mg_close_connection(conn);
  result.ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  return result;
}

// Families shaped like serve's for `keys` keys: a histogram each, filled,
// with serve's default buckets.
class SyntheticMetrics : public prometheus::Collectable {
 public:
  explicit SyntheticMetrics(int keys) : keys_(keys) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    prometheus::MetricFamily family{
        "probemon_wait_duration_seconds", "Durations", prometheus::MetricType::Histogram, {}};
    family.metric.reserve(static_cast<std::size_t>(keys_));
    for (int key = 0; key < keys_; ++key) {
      probemon::tool::Histogram hist;
      for (std::size_t slot = 8; slot < 30; ++slot) hist.slots[slot] = slot * 1000 + key;
      hist.sum_ns = 123456789ULL * static_cast<unsigned>(key + 1);
      prometheus::ClientMetric metric;
      metric.label = {{"key", fmt::format("bench.serve.key.{}", key)}};
      metric.histogram = probemon::tool::secondsHistogram(hist, buckets_);
      family.metric.push_back(std::move(metric));
    }
    return {family};
  }

 private:
  int keys_;
  probemon::tool::BucketRange buckets_ = probemon::tool::bucketRange(probemon::tool::kDefaultBuckets);
};

void exposition(int keys, int scrapes) {
  const SyntheticMetrics metrics(keys);
  const probemon::tool::MetricsServer ours("127.0.0.1:0", metrics);
  const int ours_port = std::stoi(std::regex_replace(ours.url(), std::regex(".*:(\\d+)/.*"), "$1"));
  auto shared = std::make_shared<SyntheticMetrics>(keys);
  prometheus::Exposer exposer("127.0.0.1:0", 2);
  exposer.RegisterCollectable(shared);
  const int exposer_port = exposer.GetListeningPorts().front();
  const std::string gzip = "Accept-Encoding: gzip\r\n";
  const std::string prometheus = fmt::format("Accept: {}\r\n{}", kPrometheusAccept, gzip);
  std::vector<double> text, open_metrics, exposer_gzip, exposer_plain, serializer;
  std::size_t text_bytes = 0, exposer_bytes = 0;
  probemon::tool::Exposition alone;
  for (int i = 0; i < scrapes; ++i) {
    // The serializer on its own, in this thread: the floor of a scrape.
    auto families = metrics.Collect();
    const auto start = Clock::now();
    alone.write(std::move(families), probemon::tool::Format::kText);
    serializer.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    const Scrape t = scrape(ours_port, gzip);
    text.push_back(t.ms);
    text_bytes = t.body.size();
    open_metrics.push_back(scrape(ours_port, prometheus).ms);
    const Scrape e = scrape(exposer_port, prometheus);
    exposer_gzip.push_back(e.ms);
    exposer_bytes = e.body.size();
    exposer_plain.push_back(scrape(exposer_port, "").ms);
  }
  fmt::print("exposition of {} keys, {} scrapes each, medians (max)\n", keys, scrapes);
  const auto row = [](const char* what, const std::vector<double>& ms, std::size_t bytes) {
    fmt::print("  {:<58} {:>8.1f} ms  ({:.1f})  {} bytes\n", what, median(ms),
               *std::max_element(ms.begin(), ms.end()), bytes);
  };
  row("TextSerializer alone (Exposition::write), text 0.0.4", serializer, text_bytes);
  row("serve's endpoint, text 0.0.4", text, text_bytes);
  row("serve's endpoint, OpenMetrics (Prometheus's Accept)", open_metrics, 0);
  row("prometheus-cpp Exposer, Prometheus's Accept (gzip)", exposer_gzip, exposer_bytes);
  row("prometheus-cpp Exposer, no Accept headers", exposer_plain, 0);
}

// CPU seconds the threads of process `pid` have used, to the nanosecond:
// the first field of each /proc/PID/task/TID/schedstat (/proc/PID/stat
// counts 10 ms ticks, too coarse for a scrape).
double cpuSeconds(pid_t pid) {
  double ns = 0;
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    std::ifstream schedstat(task.path() / "schedstat");
    double on_cpu_ns = 0;
    if (schedstat >> on_cpu_ns) ns += on_cpu_ns;
  }
  return ns / 1e9;
}

// `probemon serve -p <this process>` with `extra` options; its port.
std::unique_ptr<ToolProcess> startServe(const std::string& tool, int& port,
                                        const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args = {tool,       "serve",      "-p", std::to_string(::getpid()),
                                   "--listen", "127.0.0.1:0"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto serve = std::make_unique<ToolProcess>(args);
  serve->waitAttached();
  std::smatch match;
  if (!std::regex_search(serve->stderrText(), match,
                         std::regex("127\\.0\\.0\\.1:(\\d+)/metrics"))) {
    throw std::runtime_error("serve did not say where it serves: " + serve->stderrText());
  }
  port = std::stoi(match[1]);
  return serve;
}

void oneWait(probemon::WaitCounterHandle& handle) { auto guard = handle.start(); }

double scrapeDurationOf(const std::string& body) {
  std::smatch match;
  std::regex_search(body, match, std::regex("\nprobemon_scrape_duration_seconds ([^\n]+)\n"));
  return match.empty() ? 0 : std::stod(match[1]) * 1e3;
}

// A probemon tool to measure serve of: "serve" (--tool) or "baseline"
// (--baseline, e.g. a build of an earlier commit, with --baseline-arg
// options of its serve).
struct Tool {
  std::string name;
  std::string path;
  std::vector<std::string> args;
};

// Every tool's serve attached at once and scraped in turn, so a comparison
// sees the same load.
struct Serves {
  std::vector<std::unique_ptr<ToolProcess>> processes;
  std::vector<int> ports;

  explicit Serves(const std::vector<Tool>& tools) {
    for (const Tool& tool : tools) {
      ports.push_back(0);
      processes.push_back(startServe(tool.path, ports.back(), tool.args));
    }
  }
  ~Serves() {
    for (auto& process : processes) process->finish(SIGTERM);
  }
};

void attached(const std::vector<Tool>& tools, std::vector<probemon::WaitCounterHandle>& handles,
              int scrapes, double cpu_seconds) {
  {
    Serves serves(tools);
    std::vector<std::vector<double>> client(tools.size()), own(tools.size()), cpu(tools.size());
    for (int i = 0; i < scrapes; ++i) {
      for (auto& handle : handles) oneWait(handle);  // every key changes between scrapes
      for (std::size_t t = 0; t < tools.size(); ++t) {
        const double before = cpuSeconds(serves.processes[t]->pid());
        const Scrape s = scrape(serves.ports[t], fmt::format("Accept: {}\r\n", kPrometheusAccept));
        cpu[t].push_back((cpuSeconds(serves.processes[t]->pid()) - before) * 1e3);
        client[t].push_back(s.ms);
        // serve reports the previous scrape's duration: skip the first.
        if (i > 0) own[t].push_back(scrapeDurationOf(s.body));
      }
    }
    fmt::print("serve -p, {} keys, {} scrapes, medians (max)\n", handles.size(), scrapes);
    const auto row = [](const std::string& what, const std::vector<double>& ms) {
      fmt::print("  {:<58} {:>8.1f} ms  ({:.1f})\n", what, median(ms),
                 *std::max_element(ms.begin(), ms.end()));
    };
    for (std::size_t t = 0; t < tools.size(); ++t) {
      row(tools[t].name + ": one scrape, client side", client[t]);
      row(tools[t].name + ": one scrape, its probemon_scrape_duration", own[t]);
      row(tools[t].name + ": its CPU per scrape", cpu[t]);
    }
  }
  // One scrape per second while this process waits on its keys.
  for (const std::size_t keys : {std::size_t{10}, handles.size()}) {
    std::atomic<bool> stop{false};
    std::jthread load([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        for (std::size_t k = 0; k < keys; ++k) oneWait(handles[k]);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
    Serves serves(tools);
    std::vector<double> cpu_before;
    for (std::size_t t = 0; t < tools.size(); ++t) {
      scrape(serves.ports[t], "");  // the first scrape reads every name once
      cpu_before.push_back(cpuSeconds(serves.processes[t]->pid()));
    }
    const auto start = Clock::now();
    for (int s = 0; s < static_cast<int>(cpu_seconds); ++s) {
      std::this_thread::sleep_until(start + std::chrono::seconds(s + 1));
      for (const int port : serves.ports) {
        scrape(port, fmt::format("Accept: {}\r\n", kPrometheusAccept));
      }
    }
    const double wall = std::chrono::duration<double>(Clock::now() - start).count();
    for (std::size_t t = 0; t < tools.size(); ++t) {
      const double cpu = cpuSeconds(serves.processes[t]->pid()) - cpu_before[t];
      fmt::print("  {:<58} {:>8.2f} %   ({:.3f} s CPU in {:.1f} s)\n",
                 fmt::format("{}: CPU at one scrape per second, {} keys", tools[t].name, keys),
                 100 * cpu / wall, cpu, wall);
    }
    stop = true;
  }
}

void perWait(const std::string& tool, int rounds, long waits) {
  probemon::WaitCounterHandle handle("bench.serve.wait");
  std::vector<double> none, hist, serve, inflight;
  for (int round = 0; round < rounds; ++round) {
    none.push_back(nsPerIteration(waits, [&] { oneWait(handle); }));
    {
      ToolProcess tool_hist({tool, "hist", "-p", std::to_string(::getpid())});
      tool_hist.waitAttached();
      hist.push_back(nsPerIteration(waits, [&] { oneWait(handle); }));
      tool_hist.finish(SIGINT);
    }
    int port = 0;
    for (const bool with_inflight : {false, true}) {
      auto tool_serve = startServe(
          tool, port,
          with_inflight ? std::vector<std::string>{"--inflight"} : std::vector<std::string>{});
      (with_inflight ? inflight : serve).push_back(nsPerIteration(waits, [&] { oneWait(handle); }));
      tool_serve->finish(SIGTERM);
    }
  }
  fmt::print("ns per wait, {} rounds x {} waits, medians\n", rounds, waits);
  fmt::print("  {:<58} {:>8.1f} ns\n", "nothing attached", median(none));
  fmt::print("  {:<58} {:>8.1f} ns\n", "probemon hist", median(hist));
  fmt::print("  {:<58} {:>8.1f} ns  ({:.3f}x hist)\n", "probemon serve", median(serve),
             median(serve) / median(hist));
  fmt::print("  {:<58} {:>8.1f} ns  ({:.3f}x hist, +{:.0f} ns)\n", "probemon serve --inflight",
             median(inflight), median(inflight) / median(hist), median(inflight) - median(hist));
}

}  // namespace

int main(int argc, char** argv) try {
  CLI::App app{"probemon-bench-serve: what probemon serve costs, side by side"};
  std::string tool, baseline;
  std::vector<std::string> baseline_args;
  int keys = 1000, scrapes = 21, rounds = 5;
  long waits = 200000;
  double cpu_seconds = 30;
  app.add_option("--tool", tool, "the probemon tool (without it: the exposition only)");
  app.add_option("--baseline", baseline,
                 "another probemon tool (e.g. an earlier commit's) whose serve is measured side "
                 "by side with --tool's");
  app.add_option("--baseline-arg", baseline_args,
                 "an option of the baseline's serve, e.g. --baseline-arg=--buckets=1ns:549.75s");
  app.add_option("--keys", keys, "keys per scrape")->check(CLI::Range(1, 100000));
  app.add_option("--scrapes", scrapes, "scrapes per configuration")->check(CLI::Range(3, 10000));
  app.add_option("--cpu-seconds", cpu_seconds, "how long the one-scrape-per-second runs last")
      ->check(CLI::Range(5.0, 3600.0));
  app.add_option("--rounds", rounds, "alternating rounds of the per-wait cost")
      ->check(CLI::Range(1, 100));
  app.add_option("--waits", waits, "waits per measurement")->check(CLI::Range(1000L, 100000000L));
  CLI11_PARSE(app, argc, argv);
  mg_init_library(0);
  exposition(keys, scrapes);
  if (tool.empty()) return 0;
  if (::geteuid() != 0) {
    std::fprintf(stderr, "probemon-bench-serve: attaching needs root: run it with sudo\n");
    return 1;
  }
  std::vector<probemon::WaitCounterHandle> handles;
  handles.reserve(static_cast<std::size_t>(keys));
  for (int key = 0; key < keys; ++key) handles.emplace_back(fmt::format("bench.serve.key.{}", key));
  std::vector<Tool> tools = {{"serve", tool, {}}};
  if (!baseline.empty()) tools.push_back({"baseline", baseline, baseline_args});
  attached(tools, handles, scrapes, cpu_seconds);
  perWait(tool, rounds, waits);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "probemon-bench-serve: %s\n", e.what());
  return 1;
}
