// SPDX-License-Identifier: BSD-3-Clause
// probemon: in-kernel latency histograms, stuck waits, traces and counters
// from the probemon USDT probes of a running process or of a binary.
//
// The command line is one table of subcommands: each names its view
// (views/), says which of the shared option groups it takes, and adds its own
// options. Adding a view is a row here and a file in views/.
#include <CLI/CLI.hpp>

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <limits>
#include <string>

#include "Error.h"
#include "LibbpfLog.h"
#include "Options.h"
#include "Session.h"
#include "escaping/Escaping.h"
#include "views/Views.h"

namespace {

using probemon::tool::Options;

// The option groups a subcommand takes besides the target, --key, --json
// and --verbose, which every one takes.
enum Groups : unsigned {
  kTracing = 1,   // --duration, --max-keys: it attaches
  kInterval = 2,  // --interval: it refreshes
  kLatency = 4,   // --no-batch: it reads latency histograms
};

// A number from `low` to `high` (above `low` if `low_open`), finite: NaN
// passes every comparison, so CLI11's own range checks let "nan" through and
// it silently disabled the option; and their messages print the limits of a
// double in full (309 digits).
CLI::Validator numberIn(double low, double high, bool low_open = false) {
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        const std::string wanted = fmt::format("a number {} {:g} and at most {:g}",
                                               low_open ? "above" : "from", low, high);
        char* end = nullptr;
        const double value = std::strtod(text.c_str(), &end);
        if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(value) ||
            value < low || (low_open && value == low) || value > high) {
          return "give " + wanted + ", not '" + text + "'";
        }
        return "";
      },
      fmt::format("NUMBER in {}{:g}, {:g}]", low_open ? "(" : "[", low, high));
}

// Bounds that keep the values in range where they are used: --min-ms in
// nanoseconds as a u64, --duration as a steady_clock deadline.
constexpr double kMaxMinMs = 1e12;     // 31 years
constexpr double kMaxDurationS = 1e9;  // 31 years

struct Subcommand {
  const char* name;
  const char* help;
  void (*run)(const Options&);
  unsigned groups;
  const char* interval_help;
  void (*add_own)(CLI::App&, Options&);  // its own options, or null
};

const Subcommand kSubcommands[] = {
    {"list", "the probemon probes and semaphores in a process or file", probemon::tool::runList, 0,
     nullptr, nullptr},
    {"hist", "per-key latency histograms, printed at exit", probemon::tool::runHist,
     kTracing | kInterval | kLatency, "also print every S seconds",
     [](CLI::App& sub, Options& o) {
       sub.add_option("--units", o.units, "histogram unit")
           ->check(CLI::IsMember({"nsecs", "usecs", "msecs"}));
     }},
    {"top", "live per-key table: rate, p50, p99, max", probemon::tool::runTop,
     kTracing | kInterval | kLatency,
     "refresh every S seconds (default 1)", nullptr},
    {"inflight", "waits open longer than --min-ms right now", probemon::tool::runInflight,
     kTracing | kInterval, "refresh every S seconds (default 1)",
     [](CLI::App& sub, Options& o) {
       sub.add_option("--min-ms", o.min_ms, "only waits open at least this long")
           ->check(numberIn(0, kMaxMinMs));
       sub.add_option("--max-waits", o.max_waits, "open waits tracked at once")
           ->check(CLI::Range(1U, 1U << 24));
     }},
    {"trace", "one line per wait at or above --min-ms", probemon::tool::runTrace, kTracing, nullptr,
     [](CLI::App& sub, Options& o) {
       sub.add_option("--min-ms", o.min_ms, "only waits at least this long")
           ->check(numberIn(0, kMaxMinMs));
       sub.add_option("--format", o.format, "text, or chrome for a Chrome/Perfetto trace JSON")
           ->check(CLI::IsMember({"text", "chrome"}));
       sub.add_option("-o,--output", o.output, "with --format chrome: write here, not stdout");
       sub.add_option("--ringbuf-kb", o.ringbuf_kb, "BPF ring buffer size (power of 2)")
           ->check(CLI::Range(4U, 1U << 20));
     }},
    {"counters", "DynamicCounter values and registrations", probemon::tool::runCounters,
     kTracing | kInterval, "refresh every S seconds (default 1)", nullptr},
    {"serve", "serve /metrics to Prometheus until SIGTERM", probemon::tool::runServe,
     kTracing | kLatency,
     nullptr,
     [](CLI::App& sub, Options& o) {
       sub.add_option("--listen", o.listen, "IPV4:PORT to serve /metrics on")
           ->capture_default_str();
       sub.add_flag("--per-pid", o.per_pid, "a pid label on every key's series");
       sub.add_option("--buckets", o.buckets,
                      "FROM:TO: the histograms' le bounds, log2 seams covering this range "
                      "(waits below are in the first, above only in +Inf)")
           ->capture_default_str();
       sub.add_flag("--inflight", o.inflight,
                    "also open waits per key and the age of the oldest (costs a probe per wait)");
       sub.add_option("--max-waits", o.max_waits, "with --inflight: open waits tracked at once")
           ->check(CLI::Range(1U, 1U << 24));
     }},
};

void addOptions(CLI::App& sub, const Subcommand& command, Options& o) {
  auto* pid = sub.add_option("-p,--pid", o.target.pid, "process to trace")
                  ->check(CLI::Range(1, std::numeric_limits<int>::max()));
  auto* path = sub.add_option("--path", o.target.path,
                              "executable or libprobemon.so: trace every process of it, "
                              "including ones started later");
  pid->excludes(path);
  sub.add_option("--key", o.key_glob, "only keys matching this glob, e.g. 'demo.*'");
  sub.add_flag("--json", o.json, "JSON output");
  sub.add_flag("-v,--verbose", o.verbose, "show libbpf's messages");
  if (command.groups & kTracing) {
    sub.add_option("--duration", o.duration_s, "stop after S seconds (default: until Ctrl-C)")
        ->check(numberIn(0, kMaxDurationS, true));
    sub.add_option("--max-keys", o.max_keys, "size of the per-key maps")
        ->check(CLI::Range(1U, 1U << 24));
  }
  if (command.groups & kInterval) {
    sub.add_option_function<double>(
           "--interval", [&o](double s) { o.interval_s = s; }, command.interval_help)
        ->check(numberIn(0.01, 86400.0));
  }
  if (command.groups & kLatency) {
    sub.add_flag("!--no-batch", o.batch,
                 "one probe hit per wait (wait__done) instead of one per batch of waits "
                 "(wait__batch): for a target whose libprobemon has no wait__batch");
  }
  if (command.add_own != nullptr) command.add_own(sub, o);
}

// CLI11 answers a word that is no subcommand with "A subcommand is
// required": name the word and the subcommands instead (usage, exit 2).
void checkSubcommand(int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-') return;
  std::string names;
  for (const Subcommand& command : kSubcommands) {
    if (std::strcmp(argv[1], command.name) == 0) return;
    names += names.empty() ? command.name : std::string(", ") + command.name;
  }
  throw CLI::ParseError("unknown subcommand '" + std::string(argv[1]) + "': use one of " + names,
                        CLI::ExitCodes::ExtrasError);
}

int runTool(int argc, char** argv) {
  using namespace probemon::tool;
  CLI::App app{
      "probemon: latency histograms, stuck waits, traces and counters from the "
      "probemon USDT probes of a running process"};
  app.require_subcommand(1);
  Options o;
  for (const Subcommand& command : kSubcommands) {
    addOptions(*app.add_subcommand(command.name, command.help), command, o);
  }
  try {
    checkSubcommand(argc, argv);
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "probemon: %s: see probemon --help\n",
                 probemon::detail::terminalText(e.what()).c_str());
    return 2;
  }
  try {
    if (o.target.pid == 0 && o.target.path.empty()) {
      throw usageError("give a target: -p PID or --path FILE");
    }
    blockStopSignals();
    setLibbpfVerbose(o.verbose);
    for (const Subcommand& command : kSubcommands) {
      if (app.got_subcommand(command.name)) command.run(o);
    }
    return 0;
  } catch (const ToolError& e) {
    // No message: the reader of the output has gone (OutputClosed).
    // Messages may hold what the target chose (paths): escaped like output.
    if (*e.what() != '\0') {
      std::fprintf(stderr, "probemon: %s\n", probemon::detail::terminalText(e.what()).c_str());
    }
    return e.exitCode();
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return runTool(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "probemon: %s\n", probemon::detail::terminalText(e.what()).c_str());
    return 1;
  }
}
