// SPDX-License-Identifier: BSD-3-Clause
#include "ServeMetrics.h"

#include <algorithm>
#include <set>

#include "LabelValue.h"
#include "SecondsHistogram.h"
#include "Session.h"

namespace probemon::tool {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

struct InFlight {
  std::uint64_t waits = 0;
  std::uint64_t oldest_ns = 0;
};

// A DynamicCounter with a value that has not been destroyed since serve
// attached (one registered before that counts as registered once).
bool liveDynamicCounter(const pm_counter& counter) {
  return counter.kind == PROBEMON_KIND_DYNAMIC_COUNTER && counter.samples != 0 &&
         std::max<std::uint64_t>(counter.registered, 1) > counter.unregistered;
}

MetricFamily family(const char* name, const char* help, MetricType type) {
  return {name, help, type, {}};
}

ClientMetric withLabels(std::vector<ClientMetric::Label> labels) {
  ClientMetric metric;
  metric.label = std::move(labels);
  return metric;
}

ClientMetric gauge(std::vector<ClientMetric::Label> labels, double value) {
  ClientMetric metric = withLabels(std::move(labels));
  metric.gauge.value = value;
  return metric;
}

ClientMetric counter(std::vector<ClientMetric::Label> labels, double value) {
  ClientMetric metric = withLabels(std::move(labels));
  metric.counter.value = value;
  return metric;
}

}  // namespace

ServeMetrics::ServeMetrics(const Session& session, const LatencyHistograms& latency,
                           const CounterValues& counters, const OpenWaits* open, bool per_pid,
                           std::uint32_t max_keys, BucketRange buckets)
    : latency_(latency),
      counters_(counters),
      open_(open),
      per_pid_(per_pid),
      free_exited_(session.target().pid < 0),
      max_keys_(max_keys),
      buckets_(buckets) {
  if (session.target().pid > 0) processes_.see(static_cast<std::uint32_t>(session.target().pid));
}

ServeMetrics::Series ServeMetrics::seriesOf(const pm_key& key, const KeyName& name) const {
  // The name's own bytes, not shown() (the tables' form, which may escape
  // for a terminal): the serializer escapes label values for Prometheus.
  return {labelValue(name.truncated ? name.name + "..." : name.name), per_pid_ ? key.pid : 0};
}

std::map<ServeMetrics::Series, Histogram> ServeMetrics::histograms(
    const std::vector<std::uint32_t>& exited) const {
  const std::set<std::uint32_t> gone(exited.begin(), exited.end());
  std::map<Series, Histogram> series;
  for (const KeyHist& k : latency_.histograms()) {
    processes_.see(k.key.pid);
    Series id = seriesOf(k.key, k.name);
    if (!free_exited_ || !gone.contains(k.key.pid)) {
      series[id].merge(k.hist);
      continue;
    }
    // An exited process's last waits, read after it exited: complete. With
    // --per-pid its series end here.
    if (per_pid_) continue;
    auto kept = exited_totals_.find(id.first);
    if (kept == exited_totals_.end() && exited_totals_.size() < max_keys_) {
      kept = exited_totals_.emplace(id.first, Histogram()).first;
    }
    if (kept == exited_totals_.end()) {
      exited_dropped_ += k.hist.count;
    } else {
      kept->second.merge(k.hist);
    }
  }
  if (!per_pid_) {
    for (const auto& [label, hist] : exited_totals_) series[{label, 0}].merge(hist);
  }
  return series;
}

std::vector<MetricFamily> ServeMetrics::Collect() const {
  std::lock_guard lock(mu_);
  // Asked before the maps are read, so what an exited process left is read
  // whole.
  const std::vector<std::uint32_t> exited = processes_.newlyExited();
  const auto hists = histograms(exited);
  const auto labels = [this](const Series& id) {
    std::vector<ClientMetric::Label> labels = {{"key", id.first}};
    if (per_pid_) labels.push_back({"pid", std::to_string(id.second)});
    return labels;
  };

  std::vector<MetricFamily> families;
  MetricFamily durations =
      family("probemon_wait_duration_seconds",
             "Durations of the waits of each wait counter key, from the kernel's log2 histograms "
             "(le: 2^k-1 ns, exact)",
             MetricType::Histogram);
  durations.metric.reserve(hists.size());
  for (const auto& [id, hist] : hists) {
    ClientMetric metric = withLabels(labels(id));
    metric.histogram = secondsHistogram(hist, buckets_);
    durations.metric.push_back(std::move(metric));
  }
  families.push_back(std::move(durations));

  if (open_ != nullptr) {
    std::map<Series, InFlight> in_flight;
    for (const auto& [id, hist] : hists) in_flight[id];  // a steady series: 0 when none is open
    for (const OpenWait& wait : open_->openFor(0)) {
      processes_.see(wait.key.pid);
      if (processes_.exited(wait.key.pid)) continue;
      InFlight& key = in_flight[seriesOf(wait.key, wait.name)];
      ++key.waits;
      key.oldest_ns = std::max(key.oldest_ns, wait.age_ns);
    }
    MetricFamily waits = family("probemon_waits_in_flight", "Waits open now, per key (--inflight)",
                                MetricType::Gauge);
    MetricFamily oldest = family("probemon_wait_oldest_in_flight_seconds",
                                 "Age of the oldest wait open now, per key; 0 if none (--inflight)",
                                 MetricType::Gauge);
    for (const auto& [id, key] : in_flight) {
      waits.metric.push_back(gauge(labels(id), static_cast<double>(key.waits)));
      oldest.metric.push_back(gauge(labels(id), static_cast<double>(key.oldest_ns) / 1e9));
    }
    families.push_back(std::move(waits));
    families.push_back(std::move(oldest));
  }

  std::map<Series, double> values;
  for (const CounterValue& c : counters_.read()) {
    processes_.see(c.key.pid);
    if (processes_.exited(c.key.pid) || !liveDynamicCounter(c.counter)) continue;
    values[seriesOf(c.key, c.name)] += static_cast<double>(c.counter.value);
  }
  MetricFamily dynamic =
      family("probemon_dynamic_value",
             "The last value the sampler read from each DynamicCounter, summed over processes",
             MetricType::Gauge);
  for (const auto& [id, value] : values) dynamic.metric.push_back(gauge(labels(id), value));
  families.push_back(std::move(dynamic));

  // Every drop the readers count, by reason, summed over the BPF programs.
  std::map<std::string, std::uint64_t> drops = {{"exited_keys", exited_dropped_}};
  std::vector<std::vector<Drop>> all = {latency_.drops(), counters_.drops()};
  if (open_ != nullptr) all.push_back(open_->drops());
  for (const auto& reader : all) {
    for (const Drop& drop : reader) drops[drop.name] += drop.count;
  }
  MetricFamily dropped =
      family("probemon_dropped_total", "Events not recorded, by reason (docs/prometheus.md)",
             MetricType::Counter);
  for (const auto& [reason, count] : drops) {
    dropped.metric.push_back(counter({{"reason", reason}}, static_cast<double>(count)));
  }
  families.push_back(std::move(dropped));

  // The exited processes' entries go last: every reader has been read.
  for (const std::uint32_t pid : exited) {
    latency_.forget(pid);
    counters_.forget(pid);
    if (open_ != nullptr) open_->forget(pid);
    if (free_exited_) processes_.forget(pid);
  }

  MetricFamily attached = family(
      "probemon_processes_attached",
      "Traced processes alive: the -p target until it exits; with --path, those that fired a probe",
      MetricType::Gauge);
  attached.metric.push_back(gauge({}, static_cast<double>(processes_.alive())));
  families.push_back(std::move(attached));
  MetricFamily exits = family("probemon_process_exits_total",
                              "Traced processes that exited while serve ran", MetricType::Counter);
  exits.metric.push_back(counter({}, static_cast<double>(processes_.exits())));
  families.push_back(std::move(exits));
  return families;
}

}  // namespace probemon::tool
