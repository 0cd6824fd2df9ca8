// probemon: in-kernel latency histograms, stuck waits, traces and counters
// from the probemon USDT probes of a running process or of a binary.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <functional>
#include <limits>
#include <map>
#include <system_error>

#include "Attach.h"
#include "Error.h"
#include "Options.h"
#include "Output.h"
#include "Session.h"
#include "Views.h"

namespace {

using probemon::tool::Options;

// Options every subcommand has: the target, --key, --duration, --json.
void addCommon(CLI::App* sub, Options& o) {
  auto* pid = sub->add_option("-p,--pid", o.pid, "process to trace")
                  ->check(CLI::Range(1, std::numeric_limits<int>::max()));
  auto* path = sub->add_option("--path", o.path,
                               "executable or libprobemon.so: trace every process of it, "
                               "including ones started later");
  pid->excludes(path);
  sub->add_option("--key", o.key_glob, "only keys matching this glob, e.g. 'demo.*'");
  sub->add_flag("--json", o.json, "JSON output");
  sub->add_flag("-v,--verbose", o.verbose, "show libbpf's messages");
}

void addTracing(CLI::App* sub, Options& o) {
  sub->add_option("--duration", o.duration_s, "stop after S seconds (default: until Ctrl-C)")
      ->check(CLI::PositiveNumber);
  sub->add_option("--max-keys", o.max_keys, "size of the per-key maps")
      ->check(CLI::Range(1U, 1U << 24));
}

void addInterval(CLI::App* sub, Options& o, const char* help) {
  sub->add_option_function<double>(
         "--interval",
         [&o](double s) {
           o.interval_s = s;
           o.interval_set = true;
         },
         help)
      ->check(CLI::Range(0.01, 86400.0));
}

int runTool(int argc, char** argv) {
  using namespace probemon::tool;
  CLI::App app{
      "probemon: latency histograms, stuck waits, traces and counters from the "
      "probemon USDT probes of a running process"};
  app.require_subcommand(1);
  Options o;
  std::map<CLI::App*, std::function<int(const Options&)>> views;

  auto* list =
      app.add_subcommand("list", "the probemon probes and semaphores in a process or file");
  addCommon(list, o);
  views[list] = runList;

  auto* hist = app.add_subcommand("hist", "per-key latency histograms, printed at exit");
  addCommon(hist, o);
  addTracing(hist, o);
  addInterval(hist, o, "also print every S seconds");
  hist->add_option("--units", o.units, "histogram unit")
      ->check(CLI::IsMember({"nsecs", "usecs", "msecs"}));
  views[hist] = runHist;

  auto* top = app.add_subcommand("top", "live per-key table: rate, p50, p99, max");
  addCommon(top, o);
  addTracing(top, o);
  addInterval(top, o, "refresh every S seconds (default 1)");
  views[top] = runTop;

  auto* inflight = app.add_subcommand("inflight", "waits open longer than --min-ms right now");
  addCommon(inflight, o);
  addTracing(inflight, o);
  addInterval(inflight, o, "refresh every S seconds (default 1)");
  inflight->add_option("--min-ms", o.min_ms, "only waits open at least this long")
      ->check(CLI::NonNegativeNumber);
  inflight->add_option("--max-waits", o.max_waits, "open waits tracked at once")
      ->check(CLI::Range(1U, 1U << 24));
  views[inflight] = runInflight;

  auto* trace = app.add_subcommand("trace", "one line per wait at or above --min-ms");
  addCommon(trace, o);
  addTracing(trace, o);
  trace->add_option("--min-ms", o.min_ms, "only waits at least this long")
      ->check(CLI::NonNegativeNumber);
  trace->add_option("--format", o.format, "text, or chrome for a Chrome/Perfetto trace JSON")
      ->check(CLI::IsMember({"text", "chrome"}));
  trace->add_option("-o,--output", o.output, "with --format chrome: write here, not stdout");
  trace->add_option("--ringbuf-kb", o.ringbuf_kb, "BPF ring buffer size (power of 2)")
      ->check(CLI::Range(4U, 1U << 20));
  views[trace] = runTrace;

  auto* counters = app.add_subcommand("counters", "DynamicCounter values and registrations");
  addCommon(counters, o);
  addTracing(counters, o);
  addInterval(counters, o, "refresh every S seconds (default 1)");
  views[counters] = runCounters;

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "probemon: %s: see probemon --help\n", e.what());
    return 2;
  }
  try {
    if (o.pid == 0 && o.path.empty()) throw usageError("give a target: -p PID or --path FILE");
    blockStopSignals();
    setLibbpfVerbose(o.verbose);
    for (auto& [sub, view] : views) {
      if (sub->parsed()) return view(o);
    }
    return 2;
  } catch (const OutputClosed&) {
    return 0;
  } catch (const std::system_error& e) {
    // fmt::print reports a write to a closed pipe this way.
    if (e.code() == std::errc::broken_pipe) return 0;
    std::fprintf(stderr, "probemon: %s\n", e.what());
    return 1;
  } catch (const ToolError& e) {
    std::fprintf(stderr, "probemon: %s\n", e.what());
    return e.exitCode();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "probemon: %s\n", e.what());
    return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return runTool(argc, argv);
  } catch (const std::exception& e) {  // from setting up the command line
    std::fprintf(stderr, "probemon: %s\n", e.what());
    return 1;
  }
}
