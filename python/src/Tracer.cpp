// SPDX-License-Identifier: BSD-3-Clause
#include "Tracer.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "ProfileFunction.h"

namespace probemon::python {
namespace {

std::optional<TracerConfig> next_config;  // guarded by the GIL
std::string own_package_dir;              // set once, at import

// The pending Python exception as "Type: message", cleared: tracer errors
// cross the C++ recording as std::runtime_error.
std::string takePythonError() {
  PyObject* type = nullptr;
  PyObject* value = nullptr;
  PyObject* traceback = nullptr;
  PyErr_Fetch(&type, &value, &traceback);
  PyErr_NormalizeException(&type, &value, &traceback);
  std::string text = "unknown error";
  if (value != nullptr) {
    if (PyObject* str = PyObject_Str(value)) {
      if (const char* utf8 = PyUnicode_AsUTF8(str)) {
        text = std::string(reinterpret_cast<PyTypeObject*>(type)->tp_name) + ": " + utf8;
      }
      Py_DECREF(str);
    }
  }
  PyErr_Clear();
  Py_XDECREF(type);
  Py_XDECREF(value);
  Py_XDECREF(traceback);
  return text;
}

[[noreturn]] void throwPythonError(const char* what) {
  throw std::runtime_error(std::string("probemon: ") + what + ": " + takePythonError());
}

// threading.setprofile()'s hook, run by each thread the threading module
// starts while tracing, with (frame, event, arg) like any sys.setprofile()
// function: it replaces itself on that thread with the profile function.
PyObject* threadHook(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 3 || !PyFrame_Check(args[0]) || !PyUnicode_Check(args[1])) {
    PyErr_SetString(PyExc_TypeError, "probemon's thread hook takes (frame, event, arg)");
    return nullptr;
  }
  // Replacing this thread's profiler may drop the last reference to this
  // hook's function object, and with it to `self`.
  Py_INCREF(self);
  auto* tracer = static_cast<Tracer*>(traceTarget(self));
  PyObject* result = Py_None;
  if (tracer == nullptr) {  // the tracer stopped while this thread was starting
    PyEval_SetProfile(nullptr, nullptr);
  } else {
    auto* frame = reinterpret_cast<PyFrameObject*>(args[0]);
    // On a return event that frame is over: it is not open any more.
    PyFrameObject* innermost = PyUnicode_CompareWithASCIIString(args[1], "return") == 0
                                   ? PyFrame_GetBack(frame)
                                   : reinterpret_cast<PyFrameObject*>(Py_NewRef(frame));
    try {
      tracer->startThread(innermost);
    } catch (const std::exception& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
      result = nullptr;
    }
    Py_XDECREF(innermost);
  }
  Py_DECREF(self);
  return Py_XNewRef(result);
}

// A gc.callbacks entry: collector runs as spans on the traced thread that
// runs them.
PyObject* gcCallback(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 2 || traceTarget(self) == nullptr) Py_RETURN_NONE;
  PyThreadState* tstate = PyThreadState_Get();
  if (tstate->c_profilefunc != profileFunction) Py_RETURN_NONE;  // not a traced thread
  auto* thread = static_cast<ThreadTrace*>(traceTarget(tstate->c_profileobj));
  if (PyUnicode_Check(args[0]) && PyUnicode_CompareWithASCIIString(args[0], "start") == 0) {
    PyObject* generation =
        PyDict_Check(args[1]) ? PyDict_GetItemString(args[1], "generation") : nullptr;  // borrowed
    const long value = generation != nullptr ? PyLong_AsLong(generation) : -1;
    if (value < 0) {
      PyErr_Clear();
      Py_RETURN_NONE;
    }
    thread->gcStart(static_cast<int>(value));
  } else {
    thread->gcStop();
  }
  Py_RETURN_NONE;
}

PyMethodDef thread_hook_def = {
    "probemon_thread_hook", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(threadHook)),
    METH_FASTCALL, PyDoc_STR("Starts probemon's tracer on a new thread (threading.setprofile).")};
PyMethodDef gc_callback_def = {
    "probemon_gc_callback", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(gcCallback)),
    METH_FASTCALL,
    PyDoc_STR("Records garbage-collector runs for probemon's tracer (gc.callbacks).")};

// The threading and gc modules, imported when the module is: importing
// one while tracing would trace the import machinery.
PyObject* threading_module = nullptr;
PyObject* gc_module = nullptr;

// Calls threading.`name`(arg), or threading.`name`() if arg is null.
PyObject* callThreading(const char* name, PyObject* arg) {
  return arg == nullptr ? PyObject_CallMethod(threading_module, name, nullptr)
                        : PyObject_CallMethod(threading_module, name, "O", arg);
}

// The interpreter's thread states, for walking while holding the GIL.
template <typename Visit>
void forEachThread(Visit visit) {
  for (PyThreadState* t = PyInterpreterState_ThreadHead(PyThreadState_Get()->interp); t != nullptr;
       t = PyThreadState_Next(t)) {
    visit(t);
  }
}

}  // namespace

void setNextTracerConfig(std::optional<TracerConfig> config) { next_config = std::move(config); }

void setOwnPackageDir(std::string dir) { own_package_dir = std::move(dir); }

bool importTracerModules() {
  threading_module = PyImport_ImportModule("threading");
  gc_module = PyImport_ImportModule("gc");
  return threading_module != nullptr && gc_module != nullptr;
}

std::unique_ptr<python_tracer::PythonTracerBase> Tracer::make(RecordQueue* queue) {
  if (queue == nullptr || !Py_IsInitialized() || _Py_IsFinalizing()) return nullptr;
  const PyGILState_STATE gil = PyGILState_Ensure();
  TracerConfig config = next_config.value_or(TracerConfig{});
  next_config.reset();
  config.own_package_dir = own_package_dir;
  std::unique_ptr<Tracer> tracer;
  try {
    tracer = std::make_unique<Tracer>(*queue, std::move(config));
    tracer->start();
  } catch (...) {
    tracer.reset();
    PyGILState_Release(gil);
    throw;
  }
  PyGILState_Release(gil);
  return tracer;
}

Tracer::Tracer(RecordQueue& queue, TracerConfig config)
    : queue_(queue), config_(std::move(config)), sites_(config_) {
  exits_.prepare();  // the first chunk now, not at a traced call
  self_ = newTraceTarget(nullptr);
  if (self_ == nullptr) throwPythonError("cannot make the tracer");
  thread_hook_ = PyCFunction_New(&thread_hook_def, self_);
  gc_callback_ = PyCFunction_New(&gc_callback_def, self_);
  if (thread_hook_ == nullptr || gc_callback_ == nullptr) {
    throwPythonError("cannot make the tracer");
  }
}

Tracer::~Tracer() {
  // After the interpreter is gone, or from a thread that cannot take the GIL
  // while it finalizes, the Python references are left to the process.
  if (!Py_IsInitialized() || (_Py_IsFinalizing() && PyGILState_Check() == 0)) return;
  const PyGILState_STATE gil = PyGILState_Ensure();
  stopTracing();
  sites_.release();
  Py_XDECREF(gc_callback_);
  Py_XDECREF(thread_hook_);
  Py_XDECREF(self_);
  PyGILState_Release(gil);
}

ThreadTrace& Tracer::newThread(std::uint64_t tid) {
  threads_.push_back(std::make_unique<ThreadTrace>(queue_, exits_, sites_, config_, tid));
  tracing_.push_back(threads_.back().get());
  return *threads_.back();
}

void Tracer::start() {
  forEachThread([](PyThreadState* t) {
    if (t->c_profilefunc != nullptr && t->c_profilefunc != profileFunction) {
      throw std::runtime_error(
          "probemon: another profiler (sys.setprofile(), cProfile, ...) is active on thread " +
          std::to_string(t->native_thread_id) + "; stop it before starting a probemon profile");
    }
  });
  // threading's hook first: setprofile() is Python code, which must not run
  // while this thread is already traced.
  setTraceTarget(self_, this);
  Py_CLEAR(previous_thread_hook_);
  previous_thread_hook_ = callThreading("getprofile", nullptr);
  PyObject* set =
      previous_thread_hook_ == nullptr ? nullptr : callThreading("setprofile", thread_hook_);
  if (set == nullptr) {
    setTraceTarget(self_, nullptr);
    throwPythonError("cannot trace the threads the threading module starts");
  }
  Py_DECREF(set);
  running_ = true;  // from here on, stopTracing() undoes what is done

  tracing_.clear();
  const approx_time_t now = getApproximateTime();
  try {
    forEachThread([&](PyThreadState* t) {
      // A thread state whose thread has not run yet: the threading hook
      // (or nothing, for a raw _thread) starts tracing it.
      if (t->native_thread_id == 0) return;
      ThreadTrace& thread = newThread(t->native_thread_id);
      PyFrameObject* innermost = PyThreadState_GetFrame(t);
      thread.openFramesAtStart(innermost, now);
      Py_XDECREF(innermost);
      PyObject* target = newTraceTarget(&thread);
      const int set_profile =
          target == nullptr ? -1 : _PyEval_SetProfile(t, profileFunction, target);
      Py_XDECREF(target);
      if (set_profile < 0) throwPythonError("cannot install the profile function");
    });
  } catch (...) {
    stopTracing();
    throw;
  }
  if (gc_wanted_) setGcCallback(true);
}

void Tracer::startThread(PyFrameObject* innermost) {
  PyThreadState* tstate = PyThreadState_Get();
  ThreadTrace& thread = newThread(tstate->native_thread_id);
  thread.openFramesAtStart(innermost, getApproximateTime());
  PyObject* target = newTraceTarget(&thread);
  if (target == nullptr) throwPythonError("cannot trace a new thread");
  PyEval_SetProfile(profileFunction, target);
  Py_DECREF(target);
}

void Tracer::stopTracing() {
  if (!running_) return;
  running_ = false;
  const approx_time_t now = getApproximateTime();
  forEachThread([](PyThreadState* t) {
    if (t->c_profilefunc == profileFunction && _PyEval_SetProfile(t, nullptr, nullptr) < 0) {
      PyErr_WriteUnraisable(nullptr);  // an audit hook refused; that thread stays traced
    }
  });
  for (ThreadTrace* thread : tracing_) thread->stopped(now);
  tracing_.clear();
  setTraceTarget(self_, nullptr);  // the hook and the gc callback are inert from now on
  setGcCallback(false);
  if (previous_thread_hook_ != nullptr) {
    PyObject* set = callThreading("setprofile", previous_thread_hook_);
    if (set == nullptr) PyErr_WriteUnraisable(nullptr);
    Py_XDECREF(set);
    Py_CLEAR(previous_thread_hook_);
  }
}

void Tracer::setGcCallback(bool registered) {
  PyObject* list = PyObject_GetAttrString(gc_module, "callbacks");
  if (list == nullptr || !PyList_Check(list)) {
    Py_XDECREF(list);
    PyErr_Clear();
    return;  // no collector spans; calls are still traced
  }
  const Py_ssize_t at = PySequence_Index(list, gc_callback_);
  if (at < 0) PyErr_Clear();
  if (registered && at < 0) {
    if (PyList_Append(list, gc_callback_) < 0) PyErr_WriteUnraisable(nullptr);
  } else if (!registered && at >= 0) {
    if (PySequence_DelItem(list, at) < 0) PyErr_WriteUnraisable(nullptr);
  }
  Py_DECREF(list);
}

void Tracer::stop() {
  if (!Py_IsInitialized()) return;
  const PyGILState_STATE gil = PyGILState_Ensure();
  stopTracing();
  PyGILState_Release(gil);
}

void Tracer::restart() {
  if (!Py_IsInitialized()) return;
  const PyGILState_STATE gil = PyGILState_Ensure();
  try {
    if (!running_) start();
  } catch (const std::exception&) {
    PyGILState_Release(gil);
    throw;
  }
  PyGILState_Release(gil);
}

void Tracer::register_gc_callback() {
  if (!Py_IsInitialized()) return;
  const PyGILState_STATE gil = PyGILState_Ensure();
  gc_wanted_ = true;
  if (running_) setGcCallback(true);
  PyGILState_Release(gil);
}

std::vector<std::shared_ptr<Result>> Tracer::getEvents(
    std::function<time_t(approx_time_t)> time_converter,
    std::vector<python_tracer::CompressedEvent>& enters, time_t end_time_ns) {
  // Each thread's entries, in order: a stable sort keeps the order within a
  // thread. A thread id may have several ThreadTraces (tracing restarted, or
  // a reused id); they take their entries in the order they started.
  std::stable_sort(enters.begin(), enters.end(),
                   [](const auto& a, const auto& b) { return a.system_tid_ < b.system_tid_; });
  struct Range {
    std::size_t next;  // the first entry not yet taken
    std::size_t end;
  };
  std::unordered_map<std::uint64_t, Range> by_tid;
  for (std::size_t i = 0; i < enters.size(); ++i) {
    auto [it, added] = by_tid.try_emplace(enters[i].system_tid_, Range{i, i + 1});
    if (!added) it->second.end = i + 1;
  }
  std::vector<std::shared_ptr<Result>> results;
  for (const auto& thread : threads_) {
    std::span<const python_tracer::CompressedEvent> mine;
    if (auto it = by_tid.find(thread->tid()); it != by_tid.end()) {
      Range& range = it->second;
      const std::size_t count = std::min<std::size_t>(thread->enters(), range.end - range.next);
      mine = std::span(enters).subspan(range.next, count);
      range.next += count;
    }
    thread->results(mine, time_converter, end_time_ns, results);
  }
  return results;
}

}  // namespace probemon::python
