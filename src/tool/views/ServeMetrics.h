// SPDX-License-Identifier: BSD-3-Clause
// What `probemon serve` exposes, read from the BPF maps at scrape time: a
// prometheus-cpp Collectable over the loader's readers (LatencyHistograms,
// CounterValues and, with --inflight, OpenWaits). The metric names are a
// public contract (docs/prometheus.md):
//
//   probemon_wait_duration_seconds          histogram  key (+ pid)
//   probemon_waits_in_flight                gauge      key (+ pid)   --inflight
//   probemon_wait_oldest_in_flight_seconds  gauge      key (+ pid)   --inflight
//   probemon_dynamic_value                  gauge      key (+ pid)
//   probemon_dropped_total                  counter    reason
//   probemon_processes_attached             gauge
//   probemon_process_exits_total            counter
//
// The histograms' le bounds are the kernel's log2 seams in --buckets
// (BucketRange). Series are per key name, summed over the target's processes (a pid label
// too with --per-pid). Counters never go down while serve runs: with --path,
// a scrape first asks which traced processes have exited (TracedProcesses),
// then reads the maps, adds the exited processes' histograms to their keys'
// kept totals and frees their entries, so processes may come and go for
// ever within --max-keys (with --per-pid an exited process's series just
// end). Open waits and counter values are those of live processes only.
//
// Collect() may run on any thread; scrapes are serialized by a lock.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "BucketRange.h"
#include "CounterValues.h"
#include "Histogram.h"
#include "LatencyHistograms.h"
#include "OpenWaits.h"
#include "TracedProcesses.h"

namespace probemon::tool {

class Session;

class ServeMetrics : public prometheus::Collectable {
 public:
  // `open` may be null (no --inflight). The readers must outlive this.
  ServeMetrics(const Session& session, const LatencyHistograms& latency,
               const CounterValues& counters, const OpenWaits* open, bool per_pid,
               std::uint32_t max_keys, BucketRange buckets);

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  // A series' identity: the key's label value, and its pid with --per-pid
  // (0 otherwise).
  using Series = std::pair<std::string, std::uint32_t>;

  Series seriesOf(const pm_key& key, const KeyName& name) const;
  // Reads the maps; keeps and frees what the exited processes left.
  std::map<Series, Histogram> histograms(const std::vector<std::uint32_t>& exited) const;

  const LatencyHistograms& latency_;
  const CounterValues& counters_;
  const OpenWaits* const open_;
  const bool per_pid_;
  const bool free_exited_;  // --path: exited processes' entries are freed
  const std::uint32_t max_keys_;
  const BucketRange buckets_;

  mutable std::mutex mu_;
  mutable TracedProcesses processes_;
  // By key label: the waits of exited processes (--path, without --per-pid).
  mutable std::map<std::string, Histogram> exited_totals_;
  // Waits of exited processes whose key found no room in exited_totals_.
  mutable std::uint64_t exited_dropped_ = 0;
};

}  // namespace probemon::tool
