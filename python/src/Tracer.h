// SPDX-License-Identifier: BSD-3-Clause
// The Python tracer: probemon's python_tracer::PythonTracerBase, which the
// module registers with registerTracer() when it is imported, the way the
// third seed's Python layer registers PyTorch's.
//
// A recording (probemon::Recording, also one started from C++ in a process
// that imported probemon) makes it in start() and it then traces:
// - every thread of the interpreter: the profile function is installed on
//   each thread state (_PyEval_SetProfile), and threads started later by the
//   threading module install it from threading.setprofile()'s hook before
//   their run();
// - the frames open on each thread when tracing starts, as calls starting
//   then (frames of the probemon package itself are never recorded, so
//   profile()'s own frames stay out);
// - garbage-collector runs, from a C function in gc.callbacks, as spans on
//   the thread that collects.
// It refuses to start while another profiler (sys.setprofile, cProfile) is
// set on a thread, rather than silently replacing it.
//
// make(), stop(), restart() and the destructor take the GIL themselves;
// getEvents() needs no GIL (it reads only what the tracer stored).
#pragma once

#include <Python.h>

#include <limits>
#include <memory>
#include <optional>
#include <vector>

#include <probemon/PythonTracer.h>
#include <probemon/RecordQueue.h>
#include <probemon/detail/EventList.h>

#include "CallSites.h"
#include "ThreadTrace.h"
#include "TracerConfig.h"

namespace probemon::python {

class Tracer final : public python_tracer::PythonTracerBase {
 public:
  // The MakeFn registered with registerTracer(): a tracer tracing every
  // thread, with the options of setNextTracerConfig() if any. Null if the
  // interpreter is not running; throws std::runtime_error if tracing cannot
  // start (another profiler is set).
  static std::unique_ptr<PythonTracerBase> make(RecordQueue* queue);

  Tracer(RecordQueue& queue, TracerConfig config);
  ~Tracer() override;
  Tracer(const Tracer&) = delete;
  Tracer& operator=(const Tracer&) = delete;

  void stop() override;
  void restart() override;
  void register_gc_callback() override;
  std::vector<std::shared_ptr<Result>> getEvents(
      std::function<time_t(approx_time_t)> time_converter,
      std::vector<python_tracer::CompressedEvent>& enters, time_t end_time_ns) override;

  // The threading hook: the calling thread, just started, starts tracing;
  // `innermost` is its innermost open frame. GIL held.
  void startThread(PyFrameObject* innermost);

 private:
  void start();                         // GIL held; throws std::runtime_error with Python's reason
  void stopTracing();                   // GIL held
  void setGcCallback(bool registered);  // GIL held
  ThreadTrace& newThread(std::uint64_t tid);

  RecordQueue& queue_;
  const TracerConfig config_;
  CallSites sites_;
  // The threads' exits: not capped, as every one belongs to an entry that
  // the recording's max_events let in. Huge-page chunks, like the entries.
  detail::EventStorage exits_{std::numeric_limits<std::int64_t>::max()};
  std::vector<std::unique_ptr<ThreadTrace>> threads_;  // in the order tracing started on them
  std::vector<ThreadTrace*> tracing_;                  // those of the current start()
  PyObject* self_ = nullptr;         // a TraceTarget naming this tracer while it runs
  PyObject* thread_hook_ = nullptr;  // bound to self_, given to threading.setprofile()
  PyObject* previous_thread_hook_ = nullptr;
  PyObject* gc_callback_ = nullptr;  // bound to self_, in gc.callbacks while registered
  bool gc_wanted_ = false;
  bool running_ = false;
};

// The options of the next tracer make() builds; nullopt: the defaults.
// make() resets them. GIL held.
void setNextTracerConfig(std::optional<TracerConfig> config);

// The directory of the probemon package, whose files are never traced. Set
// once at import.
void setOwnPackageDir(std::string dir);

// Imports what the tracer uses (threading, gc), at the module's import;
// false with a Python exception set.
bool importTracerModules();

}  // namespace probemon::python
