// SPDX-License-Identifier: BSD-3-Clause
// One Python thread's part of a Python tracer: the hot path of the profile
// function, and turning what it stored into Results afterwards.
//
// Per call the profile function (ProfileFunction.cpp) costs, beyond what
// CPython spends dispatching the event: an rdtsc at entry and one at exit
// (getApproximateTime(), inline), a probe of this thread's CallSiteCache
// (no Python dict, no allocation once warm), a 16-byte entry appended to
// this thread's RecordQueue subqueue and a 16-byte exit appended to this
// thread's own list, and a byte pushed and popped on a flag stack.
//
// An exit records how many entries this thread had recorded before it, so
// the replay interleaves entries and exits exactly as they happened, even
// if two stamps are equal or the TSC steps back across a migration.
//
// Threading: written only by its own thread with the GIL held; read by
// getEvents() after the tracer stopped.
#pragma once

#include <Python.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include <probemon/ApproximateClock.h>
#include <probemon/PythonTracer.h>
#include <probemon/RecordQueue.h>
#include <probemon/Result.h>
#include <probemon/detail/EventList.h>

#include "CallSites.h"

namespace probemon::python {

class ThreadTrace {
 public:
  // `exits` holds the exits of every thread of the tracer.
  ThreadTrace(RecordQueue& queue, detail::EventStorage& exits, CallSites& sites,
              const TracerConfig& config, std::uint64_t tid);
  ThreadTrace(const ThreadTrace&) = delete;
  ThreadTrace& operator=(const ThreadTrace&) = delete;

  std::uint64_t tid() const { return tid_; }
  bool logCCalls() const { return log_c_calls_; }

  // The frames already open on this thread when tracing starts, from
  // `innermost` outwards: they open at `now` (if record_open_frames) and
  // close at their returns.
  void openFramesAtStart(PyFrameObject* innermost, approx_time_t now);

  // The profile function's events.
  void enterPython(PyFrameObject* frame) {
    const approx_time_t now = getApproximateTime();
    PyCodeObject* code = PyFrame_GetCode(frame);
    Py_DECREF(code);  // the frame holds it; a cached code object is also held by CallSites
    const CallSiteCache::Entry* site = cache_.find(code);
    if (site == nullptr) [[unlikely]] {
      site = &cacheCode(reinterpret_cast<PyObject*>(code));
    }
    push(site->included ? kIncluded : 0, site->included, site->site, now);
  }
  void enterC(PyObject* function) {
    const approx_time_t now = getApproximateTime();
    // A C call is recorded when the Python frame calling it passes the file
    // filters (the C_CALL event's caller is the frame on top).
    if (stack_.empty() || (stack_.back() & kIncluded) == 0 || !PyCFunction_Check(function)) {
      stack_.push_back(kCCall);
      return;
    }
    const void* identity = reinterpret_cast<PyCFunctionObject*>(function)->m_ml;
    const CallSiteCache::Entry* site = cache_.find(identity);
    if (site == nullptr) [[unlikely]] {
      site = &cacheCFunction(function);
    }
    push(kCCall, site->included, site->site, now);
  }
  // A return (PyTrace_RETURN, also when unwinding an exception) or, with
  // `c_return`, a C call's return or exception.
  void exit(bool c_return) {
    if (stack_.empty()) [[unlikely]] {
      return;  // a frame entered before tracing whose start was not seen
    }
    std::uint8_t top = stack_.back();
    if (c_return != ((top & kCCall) != 0)) [[unlikely]] {
      if (c_return) return;  // the C call that started the tracer returning
      closeUnreturnedCCalls();
      if (stack_.empty()) return;
      top = stack_.back();
    }
    stack_.pop_back();
    if ((top & kRecorded) != 0) {
      exits_.emplace(CallExit{getApproximateTime(), enters_});
    }
  }

  // Garbage-collector runs (gc.callbacks) on this thread.
  void gcStart(int generation);
  void gcStop();

  // Tracing ended on this thread at `now` (the tracer's stop()): frames
  // still open end there.
  void stopped(approx_time_t now) {
    stopped_ = true;
    stopped_at_ = now;
  }

  // Appends this thread's Results: `enters` are this thread's recorded
  // entries, in order (the RecordQueue has them).
  void results(std::span<const python_tracer::CompressedEvent> enters,
               const std::function<time_t(approx_time_t)>& toTime, time_t end_time_ns,
               std::vector<std::shared_ptr<Result>>& out) const;

  // Entries this thread recorded into the RecordQueue.
  std::uint64_t enters() const { return enters_; }

 private:
  // One byte per open frame, innermost last.
  enum Flags : std::uint8_t {
    kRecorded = 1,  // its entry was stored: its exit is
    kCCall = 2,     // a C function's call
    kIncluded = 4,  // a Python frame passing the file filters
  };
  struct CallExit {
    approx_time_t t;
    std::uint64_t enters_before;  // entries recorded on this thread before this exit
  };
  struct StartFrame {
    std::uint32_t site;
    bool recorded;
  };
  struct GcRun {
    approx_time_t start;
    approx_time_t end;
    int generation;
  };

  // Opens a frame; records its entry if it passes the filters (`eligible`)
  // and the depth limit, and the recording has room.
  [[gnu::always_inline]] void push(std::uint8_t flags, bool eligible, std::uint32_t site,
                                   approx_time_t now) {
    if (depth_base_pending_) [[unlikely]] {
      setDepthBase();
    }
    if (eligible && stack_.size() < depth_limit_ && record(site, now)) {
      flags |= kRecorded;
    }
    stack_.push_back(flags);
  }
  [[gnu::always_inline]] bool record(std::uint32_t site, approx_time_t now) {
    if (sub_ == nullptr) [[unlikely]] {
      if ((sub_ = queue_.getSubqueue()) == nullptr) return false;  // counted by the queue
    }
    if (!sub_->emplacePyCall(python_tracer::TraceKey(site), now)) return false;  // over the cap
    ++enters_;
    return true;
  }
  std::shared_ptr<Result> makeResult(Result::Kind kind, std::string name, std::string location,
                                     time_t start, time_t stop, bool open_at_stop) const;
  [[gnu::noinline]] const CallSiteCache::Entry& cacheCode(PyObject* code);
  [[gnu::noinline]] const CallSiteCache::Entry& cacheCFunction(PyObject* function);
  [[gnu::noinline]] void closeUnreturnedCCalls();
  // At the thread's first call after tracing started: max_stack_depth
  // counts from the frame making it (for `with probemon.profile()`, the
  // frame of the `with` block, once the profiler's own frames returned).
  [[gnu::noinline]] void setDepthBase();

  RecordQueue& queue_;
  CallSites& sites_;
  const std::uint64_t tid_;
  const std::size_t max_depth_;
  const bool record_open_frames_;
  const bool log_c_calls_;
  const time_t min_duration_ns_;

  ThreadSubqueue* sub_ = nullptr;  // taken on this thread's first recorded call
  CallSiteCache cache_;
  std::vector<std::uint8_t> stack_;
  bool depth_base_pending_ = true;
  std::size_t depth_limit_ = 0;  // calls are recorded while the stack is smaller
  std::uint64_t enters_ = 0;
  detail::EventList<CallExit> exits_;
  approx_time_t started_at_ = 0;
  std::vector<StartFrame> start_frames_;
  std::vector<GcRun> gc_runs_;
  approx_time_t gc_started_ = 0;
  int gc_generation_ = -1;  // -1: no run open
  bool stopped_ = false;
  approx_time_t stopped_at_ = 0;
};

}  // namespace probemon::python
