// SPDX-License-Identifier: BSD-3-Clause
// The recording session (<probemon/Recording.h>): what start() registers,
// the order stop() takes things down in, and turning the stored records into
// Results and a trace.
//
// start():  calibrate the clock and take the converter's start pairs;
//           register the WaitRecorder factory (every key gets a recorder);
//           start the counter sampler; make the Python tracer.
// stop():   stop the Python tracer; take the counter sampler's last sample
//           and unregister it; take the stop time (both clocks) and the
//           converter's end pairs; unregister the WaitRecorder factory.
//           Records stamped after the stop time are outside the window and
//           left out; waits with no end by then are open at stop.
// The first events()/dropped()/export builds the Results once.
#include <probemon/Recording.h>

#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>

#include <probemon/ApproximateClock.h>
#include <probemon/PythonTracer.h>
#include <probemon/WaitCounter.h>

#include "ChromeTraceWriter.h"
#include "CounterSampler.h"
#include "Nesting.h"
#include "RecordingStore.h"
#include "ThreadNames.h"
#include "ThreadRecords.h"
#include "WaitRecorder.h"

namespace probemon {
namespace {

// One recording at a time: the Python tracer hooks the interpreter
// process-wide, and one WaitRecorder per key keeps the TSC path.
std::atomic<bool> g_recording_running{false};

// A stamp later than everything this thread did before: rdtsc may run before
// earlier stores are visible to other threads, and mfence does not order it,
// lfence after mfence does. So a wait that another thread starts after
// seeing those stores is after the window (RecordingStressTest relies on it).
approx_time_t orderedApproximateTime() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_mfence();
  _mm_lfence();
#endif
  return getApproximateTime();
}

}  // namespace

struct Recording::State {
  enum class Phase { Idle, Running, Stopped };

  explicit State(RecordingOptions o)
      : options(std::move(o)),
        store(std::make_shared<detail::RecordingStore>(options.max_events)) {}

  void startAll();
  void stopAll();
  void build();
  RecordingDrops countDrops() const;
  std::string nameOfThread(std::uint64_t tid) const;

  const RecordingOptions options;
  const std::shared_ptr<detail::RecordingStore> store;
  std::atomic<Phase> phase{Phase::Idle};

  std::optional<ApproximateClockConverter> clock;
  const detail::WaitCounterBackendFactoryIf* wait_factory = nullptr;  // owned by the registry
  std::unique_ptr<detail::CounterSampler> sampler;
  std::unique_ptr<python_tracer::PythonTracerBase> tracer;

  approx_time_t stop_ticks = 0;
  time_t stop_ns = 0;
  std::function<time_t(approx_time_t)> converter;

  // Counted at stop.
  RecordingDrops drops;
  // Built once, after stop.
  bool built = false;
  std::vector<std::shared_ptr<Result>> events;
  std::uint64_t clamped = 0;
  std::uint64_t open_at_stop = 0;
  std::map<std::uint64_t, std::string> thread_names;
};

void Recording::State::startAll() {
  calibrateApproximateClock();
  // The first chunk's page faults here rather than in a recorded wait.
  store->queue.storage().prepare();
  clock.emplace();
  if (options.record_waits) {
    auto factory = std::make_unique<detail::WaitRecorderFactory>(store);
    wait_factory = factory.get();
    detail::registerWaitCounterBackend(std::move(factory));
  }
  if (options.record_counters) {
    sampler = std::make_unique<detail::CounterSampler>(store, options.counter_interval);
    sampler->start();
  }
  if (options.python) {
    tracer = python_tracer::PythonTracerBase::make(&store->queue);
    if (options.python_gc) tracer->register_gc_callback();
  }
}

void Recording::State::stopAll() {
  if (tracer) tracer->stop();
  if (sampler) sampler->stop();
  stop_ticks = orderedApproximateTime();
  stop_ns = getTime();
  if (clock) converter = clock->makeConverter();
  if (wait_factory != nullptr) {
    detail::unregisterWaitCounterBackend(std::exchange(wait_factory, nullptr));
  }
  drops = countDrops();
}

namespace {

RecordingOptions checked(RecordingOptions options) {
  if (options.max_events < 0) {
    throw std::invalid_argument("probemon::RecordingOptions: max_events is " +
                                std::to_string(options.max_events) + "; it must be >= 0");
  }
  if (options.counter_interval.count() < 0) {
    throw std::invalid_argument(
        "probemon::RecordingOptions: counter_interval is negative; use 0 to sample DynamicCounters "
        "only at start and stop");
  }
  return options;
}

}  // namespace

Recording::Recording(RecordingOptions options)
    : state_(std::make_unique<State>(checked(std::move(options)))) {}

Recording::~Recording() { stop(); }

void Recording::start() {
  if (state_->phase.load() != State::Phase::Idle) {
    throw std::logic_error(
        "probemon::Recording: this recording was already started; make a new "
        "Recording to record again");
  }
  if (g_recording_running.exchange(true)) {
    throw std::logic_error(
        "probemon::Recording: another recording is running in this process; "
        "stop it first");
  }
  try {
    state_->startAll();
  } catch (...) {
    state_->stopAll();
    g_recording_running.store(false);
    throw;
  }
  state_->phase.store(State::Phase::Running);
}

void Recording::stop() {
  if (state_->phase.load() != State::Phase::Running) return;
  state_->phase.store(State::Phase::Stopped);
  state_->stopAll();
  g_recording_running.store(false);
}

bool Recording::running() const { return state_->phase.load() == State::Phase::Running; }

void Recording::instant(std::string_view name) {
  if (!running()) return;
  RecordQueue& queue = state_->store->queue;
  detail::ThreadRecords* records = detail::ThreadRecords::cached(queue.id());
  if (records == nullptr && (records = queue.threadRecords()) == nullptr) return;
  const approx_time_t now = getApproximateTime();
  if (const char* copy = records->instant_names.copy(name)) {
    records->instants.emplace(copy, static_cast<std::uint32_t>(name.size()), now);
  }
}

void Recording::State::build() {
  if (built) return;
  built = true;
  const std::vector<std::string> names = store->names.snapshot();
  const auto toTime = [&](approx_time_t stamp, bool ns) {
    return std::min(ns ? stamp : converter(stamp), stop_ns);
  };
  std::vector<python_tracer::CompressedEvent> enters;
  for (const detail::ThreadRecords* records : store->queue.allThreadRecords()) {
    const std::uint64_t tid = records->tid();
    thread_names.emplace(tid, records->thread_name);
    records->waits.forEach([&](const detail::WaitRecord& wait) {
      const bool ns = (wait.flags & detail::WaitRecord::kTimesAreNs) != 0;
      const approx_time_t stop = ns ? stop_ns : stop_ticks;
      if (wait.start > stop) return;  // started after the window
      const approx_time_t end = wait.end.load(std::memory_order_relaxed);
      auto result = std::make_shared<Result>();
      result->kind = Result::Kind::Wait;
      result->name = names.at(wait.name);
      result->tid = tid;
      result->start_ns = toTime(wait.start, ns);
      result->open_at_stop = end == detail::WaitRecord::kOpen || end > stop;
      result->end_ns = result->open_at_stop ? stop_ns : std::max(toTime(end, ns), result->start_ns);
      open_at_stop += result->open_at_stop ? 1 : 0;
      events.push_back(std::move(result));
    });
    records->instants.forEach([&](const detail::InstantRecord& instant) {
      if (instant.t > stop_ticks) return;
      auto result = std::make_shared<Result>();
      result->kind = Result::Kind::Instant;
      result->name.assign(instant.name, instant.length);
      result->tid = tid;
      result->start_ns = result->end_ns = toTime(instant.t, false);
      events.push_back(std::move(result));
    });
    records->samples.forEach([&](const detail::CounterSampleRecord& sample) {
      auto result = std::make_shared<Result>();
      result->kind = Result::Kind::CounterSample;
      result->name = names.at(sample.name);
      result->start_ns = result->end_ns = sample.t;
      result->value = sample.value;
      events.push_back(std::move(result));
    });
    records->pyCalls().forEach([&](const ThreadSubqueue::PyCall& call) {
      enters.push_back({call.key, tid, call.enter_t});
    });
  }
  if (tracer) {
    for (auto& result : tracer->getEvents(converter, enters, stop_ns)) {
      if (!result) continue;
      if (result->open_at_stop) ++open_at_stop;
      events.push_back(std::move(result));
    }
    tracer.reset();  // its storage is no longer needed
  }
  clamped = detail::nestPerThread(events);
}

RecordingDrops Recording::State::countDrops() const {
  RecordingDrops counted;
  for (const detail::ThreadRecords* records : store->queue.allThreadRecords()) {
    counted.waits_over_cap += records->waits.droppedOverCap();
    counted.instants_over_cap += records->instants.droppedOverCap();
    counted.counter_samples_over_cap += records->samples.droppedOverCap();
    counted.python_calls_over_cap += records->pyCalls().droppedOverCap();
    counted.no_memory += records->waits.droppedNoMemory() + records->instants.droppedNoMemory() +
                         records->samples.droppedNoMemory() + records->pyCalls().droppedNoMemory() +
                         records->instant_names.failures();
  }
  counted.no_memory += store->queue.droppedNoMemory() + store->keys_no_memory.load();
  if (sampler) counted.counter_callback_failed = sampler->failures();
  return counted;
}

std::string Recording::State::nameOfThread(std::uint64_t tid) const {
  auto it = thread_names.find(tid);
  if (it != thread_names.end() && !it->second.empty()) return it->second;
  return detail::threadName(tid);
}

namespace {

void requireStopped(bool stopped) {
  if (!stopped) {
    throw std::logic_error(
        "probemon::Recording: start() and stop() the recording before reading "
        "or exporting it");
  }
}

}  // namespace

const std::vector<std::shared_ptr<Result>>& Recording::events() {
  requireStopped(state_->phase.load() == State::Phase::Stopped);
  state_->build();
  return state_->events;
}

RecordingDrops Recording::dropped() const {
  requireStopped(state_->phase.load() == State::Phase::Stopped);
  return state_->drops;
}

std::uint64_t Recording::clamped() {
  requireStopped(state_->phase.load() == State::Phase::Stopped);
  state_->build();
  return state_->clamped;
}

void Recording::exportChromeTrace(const std::string& path) {
  State& s = *state_;
  requireStopped(s.phase.load() == State::Phase::Stopped);
  s.build();
  detail::TraceSummary summary;
  summary.max_events = static_cast<std::uint64_t>(s.options.max_events);
  summary.events = s.events.size();
  summary.clamped = s.clamped;
  summary.open_at_stop = s.open_at_stop;
  summary.dropped = {{"waits_over_cap", s.drops.waits_over_cap},
                     {"python_calls_over_cap", s.drops.python_calls_over_cap},
                     {"instants_over_cap", s.drops.instants_over_cap},
                     {"counter_samples_over_cap", s.drops.counter_samples_over_cap},
                     {"counter_callback_failed", s.drops.counter_callback_failed},
                     {"no_memory", s.drops.no_memory}};

  const auto pid = static_cast<std::uint64_t>(getpid());
  detail::ChromeTraceWriter out(path);
  out.processName(pid,
                  s.options.process_name.empty() ? detail::processName() : s.options.process_name);
  std::uint64_t named = 0;  // events are sorted by thread: name each once
  bool any_named = false;
  for (const auto& event : s.events) {
    if (event->kind == Result::Kind::CounterSample) continue;
    if (!any_named || event->tid != named) {
      out.threadName(pid, event->tid, s.nameOfThread(event->tid));
      named = event->tid;
      any_named = true;
    }
  }
  for (const auto& event : s.events) out.event(pid, *event);
  if (s.drops.total() != 0) out.droppedMarker(pid, s.stop_ns, summary);
  out.finish(summary);
}

}  // namespace probemon
