// SPDX-License-Identifier: BSD-3-Clause
// probemon/Result.h: one event of a finished recording.
//
// A recording (<probemon/Recording.h>) turns what it stored into Results
// when it is exported: wait counter spans, DynamicCounter samples, instant
// events, and whatever the registered Python tracer returns from
// PythonTracerBase::getEvents() (<probemon/PythonTracer.h>). Times are
// CLOCK_MONOTONIC nanoseconds (probemon::time_t), the clock of the probe
// ABI, so a recording lines up with what the BPF tools saw.
//
// A tracer builds its Results with std::make_shared<probemon::Result>() and
// fills in kind, name, tid, start_ns and end_ns (and location, open_at_stop
// where they apply); the recording sorts them, nests them per thread and
// writes them.
#pragma once

#include <cstdint>
#include <string>

#include <probemon/ApproximateClock.h>

namespace probemon {

struct Result {
  enum class Kind : std::uint8_t {
    PythonCall,     // a Python function call (Chrome category "python")
    CCall,          // a C function called from Python ("c")
    Wait,           // a wait counter wait ("wait")
    GC,             // a garbage-collector run ("gc")
    Instant,        // a point event ("instant"); end_ns == start_ns
    CounterSample,  // one DynamicCounter value ("counter"); end_ns == start_ns
  };

  Kind kind = Kind::Instant;
  // The function, key or event name; any bytes (the writer escapes them).
  std::string name;
  // Where a call is, e.g. "train.py:42"; empty if unknown. Written as
  // args.location.
  std::string location;
  // The system thread id (gettid()) the event happened on; unused for
  // CounterSample, whose tracks belong to the process.
  std::uint64_t tid = 0;
  time_t start_ns = 0;
  time_t end_ns = 0;
  // CounterSample: the callback's value.
  std::int64_t value = 0;
  // Still running when the recording stopped: end_ns is the stop time.
  bool open_at_stop = false;
  // Ended after the event enclosing it on its thread did: end_ns was
  // clamped to the parent's end so the thread's events nest.
  bool clamped = false;

  time_t durationNs() const { return end_ns - start_ns; }
  // Spans (PythonCall, CCall, Wait, GC) nest per thread; points do not.
  bool isSpan() const {
    return kind == Kind::PythonCall || kind == Kind::CCall || kind == Kind::Wait ||
           kind == Kind::GC;
  }
};

}  // namespace probemon
