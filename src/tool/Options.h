// The command line, parsed once in main.cpp and read by every view.
#pragma once

#include <cstdint>
#include <string>

#include "inflight.h"
#include "keys.h"
#include "trace.h"

namespace probemon::tool {

struct Options {
  // Target: exactly one of pid and path.
  int pid = 0;
  std::string path;

  std::string key_glob;         // --key: only keys matching this fnmatch(3) glob
  double interval_s = 1.0;      // --interval: refresh period of live views
  bool interval_set = false;    // hist prints at every interval only when asked
  double duration_s = 0;        // --duration: stop after this long, 0 = until Ctrl-C
  double min_ms = 0;            // --min-ms: inflight age / trace latency threshold
  bool json = false;            // --json
  std::string units = "usecs";  // hist: histogram unit, nsecs|usecs|msecs
  std::string format = "text";  // trace: text|chrome
  std::string output;           // trace --format chrome: file, default stdout
  std::uint32_t max_keys = PM_DEFAULT_MAX_KEYS;    // --max-keys: (pid, key) entries per map
  std::uint32_t max_waits = PM_DEFAULT_MAX_WAITS;  // inflight --max-waits: open waits tracked
  std::uint32_t ringbuf_kb = PM_DEFAULT_RINGBUF_BYTES / 1024;  // trace --ringbuf-kb
  bool verbose = false;  // --verbose: libbpf's own messages on stderr
};

}  // namespace probemon::tool
