// SPDX-License-Identifier: BSD-3-Clause
// The command line as the views read it: parsed once by main.cpp's table of
// subcommands. Only the views see it; the loader (Session, Target, Program
// and the programs' readers) is given just the values it uses.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "BucketRange.h"
#include "Target.h"

namespace probemon::tool {

// Map sizes. Maps are preallocated: at the default --max-keys, hist's and
// top's per-CPU histograms take 352 bytes per key per CPU, 1.4 MB per CPU.
inline constexpr std::uint32_t kDefaultMaxKeys = 4096;
inline constexpr std::uint32_t kDefaultMaxWaits = 16384;
inline constexpr std::uint32_t kDefaultRingbufKb = 1024;
// serve: loopback only unless told. The exporters' port range 9100-9999 is
// fully allocated; this one is ours by choice, not by registration.
inline constexpr const char* kDefaultListen = "127.0.0.1:9477";

struct Options {
  TargetSpec target;                           // -p PID or --path FILE
  std::string key_glob;                        // --key: only keys matching this fnmatch(3) glob
  bool json = false;                           // --json
  bool verbose = false;                        // --verbose: libbpf's own messages on stderr
  double duration_s = 0;                       // --duration: stop after this long, 0 = until Ctrl-C
  std::uint32_t max_keys = kDefaultMaxKeys;    // --max-keys: (pid, key) entries per map
  std::optional<double> interval_s;            // --interval: refresh period of live views
  double min_ms = 0;                           // --min-ms: inflight age / trace latency threshold
  std::string units = "usecs";                 // hist: histogram unit, nsecs|usecs|msecs
  std::string format = "text";                 // trace: text|chrome
  std::string output;                          // trace --format chrome: file, default stdout
  std::uint32_t max_waits = kDefaultMaxWaits;  // inflight --max-waits: open waits tracked
  std::uint32_t ringbuf_kb = kDefaultRingbufKb;  // trace --ringbuf-kb
  std::string listen = kDefaultListen;           // serve --listen: IPV4:PORT
  bool per_pid = false;                          // serve --per-pid: a pid label on every key
  bool inflight = false;                         // serve --inflight: open waits per key
  std::string buckets = kDefaultBuckets;         // serve --buckets: FROM:TO of the le bounds
  bool batch = true;  // hist, top, serve: batched probe mode; --no-batch: one trap per wait
};

}  // namespace probemon::tool
