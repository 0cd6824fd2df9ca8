// SPDX-License-Identifier: BSD-3-Clause
#include "ThreadTrace.h"

#include <algorithm>
#include <string>

namespace probemon::python {

ThreadTrace::ThreadTrace(RecordQueue& queue, detail::EventStorage& exits, CallSites& sites,
                         const TracerConfig& config, std::uint64_t tid)
    : queue_(queue),
      sites_(sites),
      tid_(tid),
      max_depth_(config.max_stack_depth),
      record_open_frames_(config.record_open_frames),
      log_c_calls_(config.log_c_calls),
      min_duration_ns_(config.min_duration_ns),
      exits_(exits) {
  stack_.reserve(256);
}

const CallSiteCache::Entry& ThreadTrace::cacheCode(PyObject* code) {
  const std::uint32_t site = sites_.ofCode(code);
  return cache_.insert(code, site, sites_[site].included);
}

const CallSiteCache::Entry& ThreadTrace::cacheCFunction(PyObject* function) {
  const std::uint32_t site = sites_.ofCFunction(function);
  return cache_.insert(reinterpret_cast<PyCFunctionObject*>(function)->m_ml, site,
                       sites_[site].included);
}

void ThreadTrace::openFramesAtStart(PyFrameObject* innermost, approx_time_t now) {
  started_at_ = now;
  std::vector<PyObject*> codes;  // strong, innermost first
  Py_XINCREF(innermost);
  for (PyFrameObject* frame = innermost; frame != nullptr;) {
    codes.push_back(reinterpret_cast<PyObject*>(PyFrame_GetCode(frame)));
    PyFrameObject* back = PyFrame_GetBack(frame);
    Py_DECREF(frame);
    frame = back;
  }
  for (auto it = codes.rbegin(); it != codes.rend(); ++it) {
    const CallSiteCache::Entry* site = cache_.find(*it);
    if (site == nullptr) site = &cacheCode(*it);
    const bool recorded = site->included && record_open_frames_;
    start_frames_.push_back(StartFrame{site->site, recorded});
    stack_.push_back(
        static_cast<std::uint8_t>((site->included ? kIncluded : 0) | (recorded ? kRecorded : 0)));
    Py_DECREF(*it);
  }
}

void ThreadTrace::setDepthBase() {
  depth_limit_ = stack_.size() + std::min(max_depth_, SIZE_MAX - stack_.size());
  depth_base_pending_ = false;
}

void ThreadTrace::closeUnreturnedCCalls() {
  const approx_time_t now = getApproximateTime();
  while (!stack_.empty() && (stack_.back() & kCCall) != 0) {
    if ((stack_.back() & kRecorded) != 0) exits_.emplace(CallExit{now, enters_});
    stack_.pop_back();
  }
}

void ThreadTrace::gcStart(int generation) {
  gc_started_ = getApproximateTime();
  gc_generation_ = generation;
}

void ThreadTrace::gcStop() {
  if (gc_generation_ < 0) return;  // the run started before tracing did
  gc_runs_.push_back(GcRun{gc_started_, getApproximateTime(), gc_generation_});
  gc_generation_ = -1;
}

std::shared_ptr<Result> ThreadTrace::makeResult(Result::Kind kind, std::string name,
                                                std::string location, time_t start, time_t stop,
                                                bool open_at_stop) const {
  auto result = std::make_shared<Result>();
  result->kind = kind;
  result->name = std::move(name);
  result->location = std::move(location);
  result->tid = tid_;
  result->start_ns = start;
  result->end_ns = std::max(stop, start);
  result->open_at_stop = open_at_stop;
  return result;
}

void ThreadTrace::results(std::span<const python_tracer::CompressedEvent> enters,
                          const std::function<time_t(approx_time_t)>& toTime, time_t end_time_ns,
                          std::vector<std::shared_ptr<Result>>& out) const {
  const time_t end = stopped_ ? std::min(toTime(stopped_at_), end_time_ns) : end_time_ns;
  // Calls in the order they were entered, so a call precedes the calls it
  // made: the recording keeps this order among calls with equal start and
  // end times, and there the trace's order is what nests them. Null: left
  // out (shorter than min_duration).
  std::vector<std::shared_ptr<Result>> calls;
  struct Open {
    std::size_t slot;  // in `calls`
    std::uint32_t site;
    time_t start;
  };
  std::vector<Open> open;
  const auto enter = [&](std::uint32_t site, time_t start) {
    open.push_back(Open{calls.size(), site, start});
    calls.emplace_back();
  };
  const auto close = [&](time_t stop, bool open_at_stop) {
    const Open call = open.back();
    open.pop_back();
    if (!open_at_stop && stop - call.start < min_duration_ns_) return;
    const CallSite& site = sites_[call.site];
    calls[call.slot] = makeResult(site.is_c ? Result::Kind::CCall : Result::Kind::PythonCall,
                                  site.name, site.location, call.start, stop, open_at_stop);
  };

  const time_t started = toTime(started_at_);
  for (const StartFrame& frame : start_frames_) {
    if (frame.recorded) enter(frame.site, started);
  }
  std::size_t next = 0;
  const auto enterUpTo = [&](std::uint64_t count) {
    for (; next < count && next < enters.size(); ++next) {
      enter(static_cast<std::uint32_t>(enters[next].key_.value()), toTime(enters[next].enter_t_));
    }
  };
  exits_.forEach([&](const CallExit& exit) {
    enterUpTo(exit.enters_before);
    if (!open.empty()) close(toTime(exit.t), false);  // never empty; kept safe anyway
  });
  enterUpTo(enters.size());
  while (!open.empty()) close(end, true);
  for (auto& call : calls) {
    if (call) out.push_back(std::move(call));
  }

  for (const GcRun& run : gc_runs_) {
    out.push_back(makeResult(Result::Kind::GC,
                             "gc (generation " + std::to_string(run.generation) + ")", {},
                             toTime(run.start), toTime(run.end), false));
  }
  if (gc_generation_ >= 0) {
    out.push_back(makeResult(Result::Kind::GC,
                             "gc (generation " + std::to_string(gc_generation_) + ")", {},
                             toTime(gc_started_), end, true));
  }
}

}  // namespace probemon::python
