// SPDX-License-Identifier: BSD-3-Clause
// probemon serve: a Prometheus exporter. It loads the programs hist and
// counters load (and inflight's with --inflight), serves /metrics on
// --listen (ServeMetrics read at scrape time, MetricsServer) and runs until
// SIGTERM or SIGINT, then detaches. A -p target's exit does not end it: the
// metric probemon_processes_attached drops to 0 and what was gathered is
// still served. docs/prometheus.md.
#include <cstdio>
#include <optional>

#include "BucketRange.h"
#include "CounterValues.h"
#include "Error.h"
#include "LatencyHistograms.h"
#include "MetricsServer.h"
#include "OpenWaits.h"
#include "ServeMetrics.h"
#include "Session.h"
#include "Views.h"

namespace probemon::tool {

void runServe(const Options& options) {
  if (options.json) throw usageError("serve has no --json: its output is /metrics on --listen");
  checkListenAddress(options.listen);  // before attaching anything
  const BucketRange buckets = bucketRange(options.buckets);
  Session session(options.target, options.duration_s);
  const KeyFilter filter(options.key_glob);
  // Nanoseconds: the kernel's buckets are then the exact le bounds.
  const LatencyHistograms latency(session, options.max_keys, unitNamed("nsecs"), filter,
                                 options.batch);
  const CounterValues counters(session, options.max_keys, filter);
  std::optional<OpenWaits> open;
  if (options.inflight) open.emplace(session, options.max_keys, options.max_waits, filter);
  const ServeMetrics metrics(session, latency, counters, open ? &*open : nullptr, options.per_pid,
                             options.max_keys, buckets);
  const MetricsServer server(options.listen, metrics);  // stopped before the readers go
  std::fprintf(stderr, "Serving %s\n", server.url().c_str());
  session.run({.what = "waits",
               .render =
                   [&](const char* end) {
                     if (end != nullptr) std::fprintf(stderr, "Stopped serving: %s\n", end);
                   },
               .target_exited =
                   [&] {
                     std::fprintf(stderr,
                                  "The target exited; still serving what was gathered until "
                                  "SIGTERM\n");
                   }});
}

}  // namespace probemon::tool
