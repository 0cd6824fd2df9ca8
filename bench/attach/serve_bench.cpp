// SPDX-License-Identifier: BSD-3-Clause
// probemon-bench-serve: what `probemon serve` costs (docs/performance.md,
// "probemon serve"), each comparison side by side in one run:
//   - the exposition alone: one scrape of --keys keys (histograms shaped
//     like serve's: its default buckets and +Inf), from serve's endpoint
//     (MetricsServer: civetweb and prometheus-cpp's TextSerializer into a
//     kept buffer) against prometheus-cpp's Exposer serving the same
//     families, asked as Prometheus asks (gzip accepted) and without gzip;
//     client-side ms per scrape, rounds alternating;
//   - with root, serve attached to this process with --keys real keys: ms
//     per scrape (client side, and serve's own probemon_scrape_duration_
//     seconds), serve's CPU per scrape, and its CPU share at one scrape per
//     second with --keys and with 10 keys while this process waits on them;
//   - ns per wait with nothing, `hist`, `serve` and `serve --inflight`
//     attached, rounds alternating.
//
//   probemon-bench-serve --tool build/src/tool/probemon [--keys 1000] [--scrapes 21]
//                        [--cpu-seconds 30] [--rounds 5] [--waits 200000]
#include <civetweb.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <probemon/WaitCounter.h>
#include <prometheus/exposer.h>
#include <CLI/CLI.hpp>

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
  std::vector<double> text, open_metrics, exposer_gzip, exposer_plain;
  std::size_t text_bytes = 0, exposer_bytes = 0;
  for (int i = 0; i < scrapes; ++i) {
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
  row("serve's endpoint, text 0.0.4", text, text_bytes);
  row("serve's endpoint, OpenMetrics (Prometheus's Accept)", open_metrics, 0);
  row("prometheus-cpp Exposer, Prometheus's Accept (gzip)", exposer_gzip, exposer_bytes);
  row("prometheus-cpp Exposer, no Accept headers", exposer_plain, 0);
}

// CPU seconds process `pid` has used (all its threads), from /proc.
double cpuSeconds(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // Fields after the command (which may hold spaces): utime and stime are
  // the 12th and 13th after the closing parenthesis.
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string field;
  double ticks = 0;
  for (int i = 1; i <= 13 && fields >> field; ++i) {
    if (i >= 12) ticks += std::stod(field);
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
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

void attached(const std::string& tool, std::vector<probemon::WaitCounterHandle>& handles,
              int scrapes, double cpu_seconds) {
  int port = 0;
  {
    auto serve = startServe(tool, port);
    std::vector<double> client, own, cpu;
    for (int i = 0; i < scrapes; ++i) {
      for (auto& handle : handles) oneWait(handle);  // every key changes between scrapes
      const double before = cpuSeconds(serve->pid());
      const Scrape s = scrape(port, fmt::format("Accept: {}\r\n", kPrometheusAccept));
      cpu.push_back((cpuSeconds(serve->pid()) - before) * 1e3);
      client.push_back(s.ms);
      // serve reports the previous scrape's duration: skip the first.
      if (i > 0) own.push_back(scrapeDurationOf(s.body));
    }
    serve->finish(SIGTERM);
    fmt::print("serve -p, {} keys, {} scrapes, medians (max)\n", handles.size(), scrapes);
    fmt::print("  {:<58} {:>8.1f} ms  ({:.1f})\n", "one scrape, client side", median(client),
               *std::max_element(client.begin(), client.end()));
    fmt::print("  {:<58} {:>8.1f} ms  ({:.1f})\n", "one scrape, serve's probemon_scrape_duration",
               median(own), *std::max_element(own.begin(), own.end()));
    fmt::print("  {:<58} {:>8.0f} ms  (10 ms ticks)\n", "serve's CPU per scrape", median(cpu));
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
    auto serve = startServe(tool, port);
    scrape(port, "");  // the first scrape reads every name once
    const double cpu_before = cpuSeconds(serve->pid());
    const auto start = Clock::now();
    for (int s = 0; s < static_cast<int>(cpu_seconds); ++s) {
      std::this_thread::sleep_until(start + std::chrono::seconds(s + 1));
      scrape(port, fmt::format("Accept: {}\r\n", kPrometheusAccept));
    }
    const double cpu = cpuSeconds(serve->pid()) - cpu_before;
    const double wall = std::chrono::duration<double>(Clock::now() - start).count();
    stop = true;
    serve->finish(SIGTERM);
    fmt::print("  {:<58} {:>8.2f} %   ({:.2f} s CPU in {:.1f} s)\n",
               fmt::format("serve's CPU at one scrape per second, {} keys", keys), 100 * cpu / wall,
               cpu, wall);
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
  std::string tool;
  int keys = 1000, scrapes = 21, rounds = 5;
  long waits = 200000;
  double cpu_seconds = 30;
  app.add_option("--tool", tool, "the probemon tool (without it: the exposition only)");
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
  attached(tool, handles, scrapes, cpu_seconds);
  perWait(tool, rounds, waits);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "probemon-bench-serve: %s\n", e.what());
  return 1;
}
