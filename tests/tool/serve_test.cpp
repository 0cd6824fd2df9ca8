// SPDX-License-Identifier: BSD-3-Clause
// probemon serve against real targets: buckets exact at every seam (waits
// of exactly 2^k - 1, 2^k and 2^k + 1 ns), a real Prometheus scraping it,
// counters that stay monotonic while --path processes come and go, the
// stuck-wait gauge, hostile keys, drops, per-pid series, a clean detach on
// SIGTERM, a port in use.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <thread>

#include "DocBlocks.h"
#include "ServeTest.h"
#include "ToolTest.h"

namespace probemon::test {
namespace {

std::string series(const std::string& name, const std::string& key, const std::string& more = "") {
  return name + "{key=\"" + key + "\"" + more + "}";
}

std::string countOf(const std::string& key) {
  return series("probemon_wait_duration_seconds_count", key);
}

// The test's exact-duration waits: each key, the ns of its waits.
struct ExactKey {
  std::string key;
  std::vector<std::uint64_t> durations_ns;
};

std::vector<ExactKey> seamKeys() {
  std::vector<ExactKey> keys = {{"seam.zero", {0, 1}}};
  for (const int k : {1, 2, 9, 10, 20, 30, 38}) {
    const std::uint64_t p = std::uint64_t{1} << k;
    keys.push_back({"seam." + std::to_string(k), {p - 1, p, p + 1}});
  }
  // Slot 39 and beyond: only in le="+Inf".
  const std::uint64_t top = std::uint64_t{1} << 39;
  keys.push_back({"seam.top", {top - 1, top, top << 1}});
  return keys;
}

std::unique_ptr<Subprocess> startExactWaits(const std::vector<ExactKey>& keys,
                                            std::vector<std::string> args = {}) {
  std::vector<std::string> argv = {EXACT_WAITS, "--await-go"};
  for (const auto& key : keys) {
    for (const auto d : key.durations_ns) {
      argv.insert(argv.end(), {"--wait", key.key + ":" + std::to_string(d)});
    }
  }
  argv.insert(argv.end(), args.begin(), args.end());
  auto process = std::make_unique<Subprocess>(argv);
  EXPECT_TRUE(process->waitForLine(std::regex("^ready pid="), 10s)) << process->err();
  return process;
}

// The bucket bounds of a key's histogram in ns, with their counts.
std::map<std::uint64_t, double> bucketsOf(const Samples& samples, const std::string& key) {
  std::map<std::uint64_t, double> buckets;
  const std::regex bucket("probemon_wait_duration_seconds_bucket\\{key=\"" + key +
                          "\",le=\"([^\"]+)\"\\}");
  std::smatch match;
  for (const auto& [name, value] : samples) {
    if (!std::regex_match(name, match, bucket) || match[1] == "+Inf") continue;
    buckets[static_cast<std::uint64_t>(std::llround(std::stod(match[1]) * 1e9))] = value;
  }
  return buckets;
}

// A wait of d ns is counted in every bucket with le >= d and in none below:
// in the kernel's whole range and in the default one, whose first bucket
// also counts the waits below it and whose last has none above it.
TEST(ServeTest, BucketsAreExactAtEverySeamAndAnExitedTargetIsStillServed) {
  PROBEMON_REQUIRE_TRACING();
  const auto keys = seamKeys();
  auto waits = startExactWaits(keys);
  struct Range {
    std::vector<std::string> args;
    std::uint64_t first_le_ns, last_le_ns;
    std::size_t buckets;
  };
  const std::vector<Range> ranges = {
      {{"--buckets", "1ns:549.75s"}, 1, (std::uint64_t{1} << 39) - 1, 39},
      {{}, 1023, (std::uint64_t{1} << 34) - 1, 25}};  // 1us:16s
  std::vector<Serve> serves;
  for (const auto& range : ranges) {
    std::vector<std::string> args = {"-p", pidOf(*waits)};
    args.insert(args.end(), range.args.begin(), range.args.end());
    serves.push_back(startServe(args));
    ASSERT_TRUE(serves.back().tool);
  }
  sendGo(*waits);
  ASSERT_EQ(waits->wait(30s), 0) << waits->err();
  for (std::size_t r = 0; r < ranges.size(); ++r) {
    SCOPED_TRACE(ranges[r].buckets);
    Serve& serve = serves[r];
    // The target exited: serve says so in a metric and goes on serving.
    const Samples samples = scrapeUntil(
        serve.port, [](const Samples& s) { return valueOf(s, "probemon_processes_attached") == 0; });
    EXPECT_EQ(valueOf(samples, "probemon_processes_attached"), 0);
    EXPECT_EQ(valueOf(samples, "probemon_process_exits_total"), 1);
    for (const auto& [key, durations] : keys) {
      SCOPED_TRACE(key);
      const auto buckets = bucketsOf(samples, key);
      ASSERT_EQ(buckets.size(), ranges[r].buckets);  // 2^k-1 ns for each k in range, then +Inf
      EXPECT_EQ(buckets.begin()->first, ranges[r].first_le_ns);
      EXPECT_EQ(buckets.rbegin()->first, ranges[r].last_le_ns);
      for (const auto& [le_ns, count] : buckets) {
        std::size_t at_or_below = 0;
        for (const auto d : durations) at_or_below += d <= le_ns ? 1 : 0;
        EXPECT_EQ(count, static_cast<double>(at_or_below)) << "le " << le_ns << " ns";
      }
      const auto n = static_cast<double>(durations.size());
      EXPECT_EQ(
          valueOf(samples, series("probemon_wait_duration_seconds_bucket", key, ",le=\"+Inf\"")),
          n);
      EXPECT_EQ(valueOf(samples, countOf(key)), n);
      double sum_ns = 0;
      for (const auto d : durations) sum_ns += static_cast<double>(d);
      EXPECT_NEAR(valueOf(samples, series("probemon_wait_duration_seconds_sum", key)), sum_ns / 1e9,
                  sum_ns / 1e9 * 1e-12);
    }
    serve.tool->signal(SIGTERM);
    EXPECT_EQ(serve.tool->wait(10s), 0) << serve.tool->out();
  }
}

// A real Prometheus (Debian's 2.42) on loopback, with its own config and
// data directory and a 1 s scrape interval, scrapes two serve processes:
// one on the test workload (waits the library times: exact counts,
// durations known to a bucket) and one on exact-duration waits (quantiles
// known exactly). It negotiates OpenMetrics, so this also checks that its
// parser takes serve's OpenMetrics text.
class Prometheus {
 public:
  Prometheus(const std::vector<int>& target_ports) : port_(freePort()) {
    dir_ = ::testing::TempDir() + "/probemon-prometheus-" + std::to_string(::getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ + "/data");
    std::ofstream config(dir_ + "/prometheus.yml");
    config << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
           << "rule_files: ['" SCRIPTS_DIR "/probemon-rules.yml']\n"
           << "scrape_configs:\n  - job_name: probemon\n    static_configs:\n      - targets: [";
    for (std::size_t i = 0; i < target_ports.size(); ++i) {
      config << (i ? ", " : "") << "'127.0.0.1:" << target_ports[i] << "'";
    }
    config << "]\n";
    config.close();
    process_ = std::make_unique<Subprocess>(std::vector<std::string>{
        "prometheus", "--config.file=" + dir_ + "/prometheus.yml",
        "--storage.tsdb.path=" + dir_ + "/data",
        "--web.listen-address=127.0.0.1:" + std::to_string(port_), "--log.level=warn"});
  }
  ~Prometheus() {
    process_->signal(SIGTERM);
    process_->wait(30s);
    std::filesystem::remove_all(dir_);
  }

  bool ready() {
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (httpGet(port_, "/-/ready").status == 200) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }

  // The answer to an instant query.
  nlohmann::json answer(const std::string& promql) {
    const HttpResponse response = httpGet(port_, "/api/v1/query?query=" + urlEncode(promql));
    if (response.body.empty()) return {{"status", "no answer"}, {"error", response.error}};
    return nlohmann::json::parse(response.body);
  }

  // The value of an instant query with one result; NaN if none.
  double query(const std::string& promql) {
    const auto doc = answer(promql);
    if (doc["status"] != "success") return std::nan("");
    const auto& result = doc["data"]["result"];
    if (result.size() != 1) return std::nan("");
    return std::stod(result[0]["value"][1].get<std::string>());
  }

  // Queries until the result equals `want` (at most 60 s); returns the last.
  double queryUntil(const std::string& promql, double want) {
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    double value = query(promql);
    while (value != want && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(200ms);
      value = query(promql);
    }
    return value;
  }

  std::string log() const { return process_->out() + process_->err(); }
  int port() const { return port_; }

 private:
  int port_;
  std::string dir_;
  std::unique_ptr<Subprocess> process_;
};

TEST(ServeTest, PrometheusScrapesCountsAndQuantiles) {
  PROBEMON_REQUIRE_TRACING("prometheus");
  auto workload = startWorkload(WORKLOAD, {"--await-go", "--threads", "2", "--plan",
                                           "prom.fast:20:3", "--plan", "prom.slow:4:20"});
  // Ten waits of exactly 1,000 ns: the default range's first bucket,
  // [0, 1023] ns. Four of 3 ms: bucket (2,097,151, 4,194,303] ns.
  auto exact = startExactWaits({{"prom.exact", std::vector<std::uint64_t>(10, 1000)},
                                {"prom.exact.ms", std::vector<std::uint64_t>(4, 3'000'000)}});
  Serve serve_workload = startServe({"-p", pidOf(*workload)});
  Serve serve_exact = startServe({"-p", pidOf(*exact)});
  ASSERT_TRUE(serve_workload.tool && serve_exact.tool);
  sendGo(*workload);
  sendGo(*exact);
  ASSERT_EQ(workload->wait(60s), 0) << workload->err();
  ASSERT_EQ(exact->wait(30s), 0) << exact->err();

  Prometheus prometheus({serve_workload.port, serve_exact.port});
  ASSERT_TRUE(prometheus.ready()) << prometheus.log();
  const auto count = [](const std::string& key) {
    return "probemon_wait_duration_seconds_count{key=\"" + key + "\"}";
  };
  EXPECT_EQ(prometheus.queryUntil(count("prom.fast"), 40), 40) << prometheus.log();
  EXPECT_EQ(prometheus.queryUntil(count("prom.slow"), 8), 8);
  EXPECT_EQ(prometheus.queryUntil(count("prom.exact"), 10), 10);
  EXPECT_EQ(prometheus.queryUntil(count("prom.exact.ms"), 4), 4);
  const auto quantile = [&](double q, const std::string& key) {
    return prometheus.query("histogram_quantile(" + std::to_string(q) +
                            ", probemon_wait_duration_seconds_bucket{key=\"" + key + "\"})");
  };
  // Prometheus interpolates inside the bucket holding the rank:
  // low + (high - low) * (rank - below) / in_bucket, low being the bound
  // of the bucket below, 0 for the first.
  EXPECT_NEAR(quantile(0.5, "prom.exact"), 1023 * 0.5 * 1e-9, 1e-15);
  EXPECT_NEAR(quantile(0.99, "prom.exact"), 1023 * 0.99 * 1e-9, 1e-15);
  EXPECT_NEAR(quantile(0.25, "prom.exact.ms"), (2097151 + (4194303 - 2097151) * 0.25) * 1e-9,
              1e-12);
  // Sleeps of 20 ms take 20 ms and a little more: bucket (16.8, 33.6] ms.
  const double slow_p50 = quantile(0.5, "prom.slow");
  EXPECT_GT(slow_p50, 0.016777215);
  EXPECT_LE(slow_p50, 0.033554431);
  // Summed over both serve processes (one series each).
  EXPECT_EQ(prometheus.query("sum(probemon_dropped_total{reason=\"waits\"})"), 0);
  EXPECT_EQ(prometheus.query("sum(up)"), 2);
  // The PromQL of docs/prometheus.md and the rules it loaded.
  int queries = 0;
  for (const auto& [name, promql] : markedCodeBlocks(DOCS_DIR "/prometheus.md", "prometheus")) {
    if (name != "promql") continue;
    const auto doc = prometheus.answer(promql);
    EXPECT_EQ(doc["status"], "success") << promql << doc.dump();
    ++queries;
  }
  EXPECT_EQ(queries, 6);
  // Every rule evaluated without error (health "ok"; "unknown" until the
  // first evaluation).
  std::map<std::string, std::string> health;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  for (;;) {
    health.clear();
    const auto rules = nlohmann::json::parse(httpGet(prometheus.port(), "/api/v1/rules").body);
    for (const auto& group : rules["data"]["groups"]) {
      for (const auto& rule : group["rules"]) health[rule["name"]] = rule["health"];
    }
    const bool evaluated =
        std::ranges::none_of(health, [](const auto& rule) { return rule.second != "ok"; });
    if (evaluated || std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(200ms);
  }
  std::set<std::string> loaded;
  for (const auto& [name, state] : health) {
    loaded.insert(name);
    EXPECT_EQ(state, "ok") << name;
  }
  EXPECT_EQ(loaded,
            (std::set<std::string>{"key:probemon_waits:rate5m",
                                   "key:probemon_wait_duration_seconds:p99_rate5m",
                                   "ProbemonWaitStuck", "ProbemonDropping", "ProbemonNoProcess"}));
}

// --path: every process of the library, and their waits stay counted after
// they exit, in their key's series. --max-keys 1 leaves room for one (pid,
// key) entry, so the second process is counted only because the first one's
// entries were freed when it exited.
TEST(ServeTest, PathKeepsCountersMonotonicAcrossRestartedTargets) {
  PROBEMON_REQUIRE_TRACING();
  Serve serve = startServe({"--path", LIBPROBEMON, "--max-keys", "1"});
  ASSERT_TRUE(serve.tool);
  double last = 0;
  for (int run = 1; run <= 3; ++run) {
    auto workload = startWorkload(WORKLOAD, {"--plan", "restart.key:5:0"});
    ASSERT_EQ(workload->wait(30s), 0) << workload->err();
    const Samples samples = scrapeUntil(serve.port, [&](const Samples& s) {
      return valueOf(s, "probemon_process_exits_total") == run;
    });
    const double count = valueOf(samples, countOf("restart.key"));
    EXPECT_GE(count, last);
    last = count;
    EXPECT_EQ(count, 5.0 * run);
    EXPECT_EQ(valueOf(samples, "probemon_process_exits_total"), run);
    EXPECT_EQ(valueOf(samples, "probemon_processes_attached"), 0);
    for (const char* reason : {"waits", "names", "counters", "missed", "exited_keys"}) {
      EXPECT_EQ(valueOf(samples, "probemon_dropped_total{reason=\"" + std::string(reason) + "\"}"),
                0)
          << reason;
    }
  }
  serve.tool->signal(SIGINT);
  EXPECT_EQ(serve.tool->wait(10s), 0) << serve.tool->out();
}

// With --per-pid each process has its own series, which end with it.
TEST(ServeTest, PerPidSeriesAndDynamicCounterValues) {
  PROBEMON_REQUIRE_TRACING();
  auto workload = startWorkload(WORKLOAD, {"--await-go", "--plan", "pid.key:3:0", "--counter",
                                           "pid.gauge=-42", "--linger-ms", "30000"});
  Serve serve = startServe({"-p", pidOf(*workload), "--per-pid"});
  ASSERT_TRUE(serve.tool);
  sendGo(*workload);
  const std::string pid = ",pid=\"" + pidOf(*workload) + "\"";
  const Samples samples = scrapeUntil(serve.port, [&](const Samples& s) {
    return valueOf(s, series("probemon_dynamic_value", "pid.gauge", pid)) == -42 &&
           valueOf(s, series("probemon_wait_duration_seconds_count", "pid.key", pid)) == 3;
  });
  EXPECT_EQ(valueOf(samples, series("probemon_wait_duration_seconds_count", "pid.key", pid)), 3);
  EXPECT_EQ(valueOf(samples, series("probemon_dynamic_value", "pid.gauge", pid)), -42);
  EXPECT_EQ(valueOf(samples, "probemon_processes_attached"), 1);
  // Without --inflight, no in-flight gauges.
  EXPECT_EQ(scrape(serve.port).body.find("probemon_waits_in_flight"), std::string::npos);
}

// The stuck-wait alert: a wait held open shows in probemon_waits_in_flight
// with a growing age; a key with no open wait reads 0; once the process is
// gone (killed mid-wait) its open wait is no longer shown as stuck: the
// series of a key that never finished a wait ends, that of a key with a
// histogram reads 0.
TEST(ServeTest, InflightShowsAWaitHeldOpenUntilItsProcessIsGone) {
  PROBEMON_REQUIRE_TRACING();
  auto workload = startWorkload(
      WORKLOAD, {"--await-go", "--plan", "free.key:2:0", "--hold", "stuck.key:60000"});
  Serve serve = startServe({"-p", pidOf(*workload), "--inflight"});
  ASSERT_TRUE(serve.tool);
  sendGo(*workload);
  ASSERT_TRUE(workload->waitForLine(std::regex("^hold key=stuck.key"), 10s));
  const std::string stuck = series("probemon_waits_in_flight", "stuck.key");
  const std::string age = series("probemon_wait_oldest_in_flight_seconds", "stuck.key");
  const Samples first = scrapeUntil(serve.port, [&](const Samples& s) {
    return valueOf(s, stuck) == 1 && valueOf(s, countOf("free.key")) == 2;
  });
  EXPECT_EQ(valueOf(first, stuck), 1);
  EXPECT_GT(valueOf(first, age), 0);
  EXPECT_EQ(valueOf(first, series("probemon_waits_in_flight", "free.key")), 0);
  EXPECT_EQ(valueOf(first, series("probemon_wait_oldest_in_flight_seconds", "free.key")), 0);
  const Samples later = scrapeUntil(
      serve.port, [&](const Samples& s) { return valueOf(s, age) > valueOf(first, age); });
  EXPECT_GT(valueOf(later, age), valueOf(first, age));
  EXPECT_EQ(valueOf(later, "probemon_dropped_total{reason=\"untracked\"}"), 0);

  workload->signal(SIGKILL);
  workload->wait(10s);
  const Samples gone = scrapeUntil(
      serve.port, [&](const Samples& s) { return valueOf(s, "probemon_processes_attached") == 0; });
  EXPECT_EQ(valueOf(gone, stuck), -1);  // no such series
  EXPECT_EQ(valueOf(gone, age), -1);
  EXPECT_EQ(valueOf(gone, series("probemon_waits_in_flight", "free.key")), 0);
  EXPECT_EQ(valueOf(gone, countOf("free.key")), 2);  // what it gathered stays
}

// Keys are whatever bytes the application chose: quotes, backslashes,
// newlines and invalid UTF-8 still give expositions that promtool and both
// of python3-prometheus-client's parsers accept, with the key as its label.
TEST(ServeTest, HostileKeysGiveValidExpositionsInBothFormats) {
  PROBEMON_REQUIRE_TRACING("promtool");
  const std::vector<std::pair<std::string, std::string>> keys = {
      {"quote\"key", "quote\"key"},
      {"back\\slash\\", "back\\slash\\"},
      {"new\nline", "new\nline"},
      {"bad\xff\xfeutf8", "bad\xEF\xBF\xBD\xEF\xBF\xBDutf8"},
      {"caf\xC3\xA9 \xE2\x9C\x93", "caf\xC3\xA9 \xE2\x9C\x93"},  // valid UTF-8 stays
      {"cut\xC3", "cut\xEF\xBF\xBD"},
  };
  std::vector<std::string> args = {"--await-go"};
  for (const auto& [key, label] : keys) args.insert(args.end(), {"--plan", key + ":2:0"});
  auto workload = startWorkload(WORKLOAD, args);
  Serve serve = startServe({"-p", pidOf(*workload), "--inflight"});
  ASSERT_TRUE(serve.tool);
  sendGo(*workload);
  ASSERT_EQ(workload->wait(30s), 0) << workload->err();
  scrapeUntil(serve.port,
              [](const Samples& s) { return valueOf(s, "probemon_processes_attached") == 0; });

  const HttpResponse text = scrape(serve.port);
  EXPECT_EQ(text.content_type, "text/plain; version=0.0.4; charset=utf-8");
  const RunResult lint = promtoolCheck(text.body);
  EXPECT_EQ(lint.status, 0) << lint.out << lint.err << text.body;
  EXPECT_EQ(lint.out + lint.err, "");

  const HttpResponse open_metrics = scrape(serve.port, kPrometheusAccept);
  EXPECT_EQ(open_metrics.content_type,
            "application/openmetrics-text; version=1.0.0; charset=utf-8");
  EXPECT_TRUE(open_metrics.body.ends_with("\n# EOF\n"));
  for (const auto& [format, body] :
       {std::pair{"text", text.body}, std::pair{"openmetrics", open_metrics.body}}) {
    SCOPED_TRACE(format);
    const auto parsed = pythonParse(body, format);
    ASSERT_FALSE(parsed.contains("error")) << parsed["error"] << body;
    std::map<std::string, double> counts;
    for (const auto& sample : parsed["samples"]) {
      if (sample[0] == "probemon_wait_duration_seconds_count") counts[sample[1]["key"]] = sample[2];
    }
    std::map<std::string, double> want;
    for (const auto& [key, label] : keys) want[label] = 2;
    EXPECT_EQ(counts, want);
    std::map<std::string, std::string> types;
    for (const auto& family : parsed["families"]) types[family[0]] = family[1];
    EXPECT_EQ(types["probemon_wait_duration_seconds"], "histogram");
    EXPECT_EQ(types["probemon_dropped"], "counter");
    EXPECT_EQ(types["probemon_process_exits"], "counter");
    EXPECT_EQ(types["probemon_waits_in_flight"], "gauge");
  }
}

// Every drop the readers count is a probemon_dropped_total{reason}.
TEST(ServeTest, WaitsPastMaxKeysAreCountedAsDropped) {
  PROBEMON_REQUIRE_TRACING();
  std::vector<std::string> args = {"--await-go"};
  for (int i = 0; i < 50; ++i)
    args.insert(args.end(), {"--plan", "many." + std::to_string(i) + ":1:0"});
  auto workload = startWorkload(WORKLOAD, args);
  Serve serve = startServe({"-p", pidOf(*workload), "--max-keys", "20"});
  ASSERT_TRUE(serve.tool);
  sendGo(*workload);
  ASSERT_EQ(workload->wait(30s), 0) << workload->err();
  const Samples samples = scrapeUntil(serve.port, [](const Samples& s) {
    return valueOf(s, "probemon_dropped_total{reason=\"waits\"}") == 30;
  });
  EXPECT_EQ(valueOf(samples, "probemon_dropped_total{reason=\"waits\"}"), 30);
  std::size_t keys = 0;
  for (const auto& [name, value] : samples) {
    keys += name.starts_with("probemon_wait_duration_seconds_count{") ? 1 : 0;
  }
  EXPECT_EQ(keys, 20U);
}

// SIGTERM and SIGINT stop serve: exit 0, every probe detached (the target's
// semaphores back at 0), the target going on.
TEST(ServeTest, StopsCleanlyAndTheTargetKeepsRunning) {
  PROBEMON_REQUIRE_TRACING();
  for (const int signo : {SIGTERM, SIGINT}) {
    auto workload = startWorkload(WORKLOAD, {"--await-go", "--plan", "test.a:3:1", "--counter",
                                             "test.c=5", "--linger-ms", "1000", "--await-detach"});
    Serve serve = startServe({"-p", pidOf(*workload), "--inflight"});
    ASSERT_TRUE(serve.tool);
    sendGo(*workload);
    EXPECT_EQ(scrape(serve.port).status, 200);
    serve.tool->signal(signo);
    ASSERT_EQ(serve.tool->wait(10s), 0) << serve.tool->out();
    EXPECT_TRUE(workload->waitForLine(std::regex("^detached$"), 10s)) << workload->err();
    EXPECT_EQ(workload->wait(10s), 0) << workload->err();
  }
}

TEST(ServeTest, APortInUseIsOneClearError) {
  PROBEMON_REQUIRE_TRACING();
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const std::string listen = "127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  auto workload = startWorkload(WORKLOAD, {"--await-go"});
  const RunResult result =
      run({PROBEMON_TOOL, "serve", "-p", pidOf(*workload), "--listen", listen}, 30s);
  EXPECT_EQ(result.status, 1);
  EXPECT_TRUE(std::regex_match(
      result.err, std::regex("probemon: cannot serve on " + listen +
                             ": [^\n]*Address already in use[^\n]*: choose a free address with "
                             "--listen\n")))
      << result.err;
  ::close(fd);
}

}  // namespace
}  // namespace probemon::test
