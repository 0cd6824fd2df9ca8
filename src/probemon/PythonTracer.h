// SPDX-License-Identifier: BSD-3-Clause
// probemon/PythonTracer.h: the tracer registry, the seam between the C++
// core and the Python module (the third seed, PyTorch's
// torch/csrc/profiler/orchestration/python_tracer.h, with its names).
//
// libprobemon does not depend on Python and never includes Python.h, yet a
// recording started from Python should hold every Python call. So the core
// declares the tracer interfaces below and a registration function; the
// Python extension module implements them and calls registerTracer() /
// registerMemoryTracer() when it is imported. A recording
// (<probemon/Recording.h>) then drives whatever is registered:
//
//   Recording::start()  tracer = PythonTracerBase::make(&queue)
//                       (then register_gc_callback() if GC is recorded)
//   Recording::stop()   tracer->stop()
//   export              tracer->getEvents(converter, enters, stop_time_ns)
//                       -> Results merged into the timeline; then the
//                          tracer is destroyed
//
// The contract for a tracer:
// - make() installs the tracer: it records from when make() returns. It runs
//   on the thread calling Recording::start(), with no probemon lock held.
// - The tracer stamps events with getApproximateTime()
//   (<probemon/ApproximateClock.h>, inline: rdtsc). For each call entry it
//   may append a CompressedEvent through the queue it was made with:
//   `queue->getSubqueue()` once per thread (cache the pointer per thread and
//   per queue), then `subqueue->emplacePyCall(key, t)` on that thread (no
//   lock; 16 bytes; false when the recording's max_events is reached, which
//   the recording counts). Exits, names and anything else stay in the
//   tracer's own per-thread storage.
// - getEvents(time_converter, enters, end_time_ns) gets every CompressedEvent
//   recorded that way, grouped by thread and in order within a thread, with
//   system_tid_ filled in, plus the converter from approximate stamps to
//   time_t and the stop time. It returns one Result per call (kind
//   PythonCall or CCall, or GC for collector runs), with tid set to the
//   system thread id; calls still open at end_time_ns end there with
//   open_at_stop set. The recording sorts and nests the Results per thread
//   and clamps children that overrun their parent, so the tracer need not.
// - stop() before any event, a second stop(), and restart() after stop()
//   must be harmless; Result ownership passes to the recording.
// - Recording::start()/stop() and export run without the GIL being needed
//   by probemon; a Python binding calls them with the GIL released (stop
//   joins the DynamicCounter sampler, which may be waiting for the GIL to run
//   a Python callback), and the tracer takes the GIL in make(), stop() and
//   getEvents() itself.
//
// Better than the reference: registration is atomic (any thread may register
// while another makes a tracer; the last registration wins; nullptr
// unregisters), and make() with nothing registered returns a no-op tracer
// that is safe to use; the no-op memory tracer tolerates stop() before
// start() and a second stop().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <probemon/ApproximateClock.h>
#include <probemon/detail/Export.h>

namespace probemon {

class RecordQueue;
struct Result;

namespace python_tracer {

// Identifies what was called (the tracer's own table gives it a name): a
// strong type over uint64_t, regular, hashable and printable.
class TraceKey {
 public:
  constexpr TraceKey() = default;
  constexpr explicit TraceKey(std::uint64_t value) : value_(value) {}
  constexpr std::uint64_t value() const { return value_; }
  friend constexpr bool operator==(TraceKey, TraceKey) = default;
  friend constexpr auto operator<=>(TraceKey, TraceKey) = default;
  friend std::ostream& operator<<(std::ostream& out, TraceKey key) { return out << key.value_; }

 private:
  std::uint64_t value_ = 0;
};

// The entry into one call, as getEvents() receives it.
struct CompressedEvent {
  TraceKey key_;
  std::uint64_t system_tid_{};
  approx_time_t enter_t_{};
};

struct PROBEMON_API PythonTracerBase {
  // The registered tracer, recording from now on into `queue`; a no-op
  // tracer if none is registered (or the registered one returned nullptr).
  static std::unique_ptr<PythonTracerBase> make(RecordQueue* queue);
  virtual ~PythonTracerBase() = default;

  virtual void stop() = 0;
  virtual void restart() = 0;
  virtual void register_gc_callback() = 0;
  virtual std::vector<std::shared_ptr<Result>> getEvents(
      std::function<time_t(approx_time_t)> time_converter, std::vector<CompressedEvent>& enters,
      time_t end_time_ns) = 0;
};

using MakeFn = std::unique_ptr<PythonTracerBase> (*)(RecordQueue*);
// Registers the function make() calls; nullptr unregisters.
PROBEMON_API void registerTracer(MakeFn make_tracer);

// The memory tracer (in Python, tracemalloc or allocator hooks): started and
// stopped by the Python module itself, not by recordings.
struct PROBEMON_API PythonMemoryTracerBase {
  // The registered memory tracer; a no-op one if none is registered. The
  // no-op's start() and stop() do nothing in any order; its
  // export_memory_history() throws std::runtime_error saying no memory
  // tracer is registered, since there is no history to write.
  static std::unique_ptr<PythonMemoryTracerBase> make();
  virtual ~PythonMemoryTracerBase() = default;

  virtual void start() = 0;
  virtual void stop() = 0;
  virtual void export_memory_history(const std::string& path) = 0;
};

using MakeMemoryFn = std::unique_ptr<PythonMemoryTracerBase> (*)();
// Registers the function make() calls; nullptr unregisters.
PROBEMON_API void registerMemoryTracer(MakeMemoryFn make_memory_tracer);

}  // namespace python_tracer
}  // namespace probemon

template <>
struct std::hash<probemon::python_tracer::TraceKey> {
  std::size_t operator()(probemon::python_tracer::TraceKey key) const noexcept {
    return std::hash<std::uint64_t>{}(key.value());
  }
};
