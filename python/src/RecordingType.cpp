// SPDX-License-Identifier: BSD-3-Clause
// probemon._probemon.Recording: a probemon::Recording driven from Python,
// with the options of the Python tracer it makes. probemon.Profiler
// (python/probemon/__init__.py) is the public face; this type does only
// what needs C++.
//
// start(), stop(), export_chrome_trace() and the destructor run with the GIL
// released: the recording's counter sampler calls DynamicCounter callbacks,
// which take the GIL, and stop() joins it; the tracer takes the GIL itself
// in make() and stop().
#include "RecordingType.h"

#include <chrono>
#include <new>
#include <stdexcept>
#include <string>
#include <system_error>

#include <probemon/Recording.h>

#include "Errors.h"
#include "Gil.h"
#include "Tracer.h"

namespace probemon::python {
namespace {

struct RecordingObject {
  PyObject_HEAD Recording* recording;
  TracerConfig* config;
};

// Raises the Python exception for the C++ exception being handled.
void raiseCurrentException(const std::string& path = {}) {
  try {
    throw;
  } catch (const std::bad_alloc&) {
    PyErr_NoMemory();
  } catch (const std::system_error& e) {
    PyObject* filename =
        path.empty() ? Py_NewRef(Py_None) : PyUnicode_DecodeFSDefault(path.c_str());
    if (filename != nullptr) {
      setOSError(e, filename);
      Py_DECREF(filename);
    }
  } catch (const std::exception& e) {
    PyErr_SetString(path.empty() ? PyExc_RuntimeError : PyExc_OSError, e.what());
  }
}

// Runs `action` with the GIL released; false with the Python exception for
// what it threw set.
template <typename Action>
bool withoutGil(Action action, const std::string& path = {}) {
  try {
    releasingGil(action);
  } catch (...) {
    raiseCurrentException(path);
    return false;
  }
  return true;
}

// A sequence of str as a vector of UTF-8 strings; false with TypeError set.
bool stringList(PyObject* sequence, const char* what, std::vector<std::string>* out) {
  if (sequence == nullptr || sequence == Py_None) return true;
  PyObject* fast = PySequence_Fast(sequence, what);
  if (fast == nullptr) return false;
  for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(fast); ++i) {
    PyObject* item = PySequence_Fast_GET_ITEM(fast, i);
    Py_ssize_t size = 0;
    const char* text = PyUnicode_Check(item) ? PyUnicode_AsUTF8AndSize(item, &size) : nullptr;
    if (text == nullptr) {
      if (!PyErr_Occurred()) PyErr_Format(PyExc_TypeError, "%s: expected str, got %R", what, item);
      Py_DECREF(fast);
      return false;
    }
    out->emplace_back(text, static_cast<std::size_t>(size));
  }
  Py_DECREF(fast);
  return true;
}

Recording* recordingOf(PyObject* op) { return reinterpret_cast<RecordingObject*>(op)->recording; }

PyObject* recordingNew(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
  static const char* keywords[] = {"max_events",         "counter_interval_ns",
                                   "record_waits",       "record_counters",
                                   "record_python",      "record_gc",
                                   "process_name",       "max_stack_depth",
                                   "include_files",      "exclude_files",
                                   "min_duration_ns",    "log_c_calls",
                                   "record_open_frames", nullptr};
  long long max_events = 1'000'000;
  long long counter_interval_ns = 10'000'000;
  int record_waits = 1;
  int record_counters = 1;
  int record_python = 1;
  int record_gc = 1;
  const char* process_name = "";
  Py_ssize_t max_stack_depth = 0;
  PyObject* include_files = nullptr;
  PyObject* exclude_files = nullptr;
  long long min_duration_ns = 0;
  int log_c_calls = 0;
  int record_open_frames = 1;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|$LLppppsnOOLpp:Recording",
                                   const_cast<char**>(keywords), &max_events, &counter_interval_ns,
                                   &record_waits, &record_counters, &record_python, &record_gc,
                                   &process_name, &max_stack_depth, &include_files, &exclude_files,
                                   &min_duration_ns, &log_c_calls, &record_open_frames)) {
    return nullptr;
  }
  TracerConfig config;
  if (max_stack_depth > 0) config.max_stack_depth = static_cast<std::size_t>(max_stack_depth);
  config.min_duration_ns = min_duration_ns;
  config.log_c_calls = log_c_calls != 0;
  config.record_open_frames = record_open_frames != 0;
  if (!stringList(include_files, "include_files", &config.include_files) ||
      !stringList(exclude_files, "exclude_files", &config.exclude_files)) {
    return nullptr;
  }
  auto* self = reinterpret_cast<RecordingObject*>(type->tp_alloc(type, 0));
  if (self == nullptr) return nullptr;
  try {
    RecordingOptions options;
    options.max_events = max_events;
    options.counter_interval = std::chrono::nanoseconds(counter_interval_ns);
    options.record_waits = record_waits != 0;
    options.record_counters = record_counters != 0;
    options.python = record_python != 0;
    options.python_gc = record_gc != 0;
    options.process_name = process_name;
    self->config = new TracerConfig(std::move(config));
    self->recording = new Recording(std::move(options));
  } catch (const std::bad_alloc&) {
    Py_DECREF(self);
    return PyErr_NoMemory();
  }
  return reinterpret_cast<PyObject*>(self);
}

void recordingDealloc(PyObject* op) {
  auto* self = reinterpret_cast<RecordingObject*>(op);
  PyTypeObject* type = Py_TYPE(op);
  if (Recording* recording = self->recording) {
    if (!withoutGil([recording] { delete recording; })) {  // stops it if running
      PyErr_WriteUnraisable(op);
    }
  }
  delete self->config;
  type->tp_free(op);
  Py_DECREF(type);
}

PyObject* recordingStart(PyObject* op, PyObject* /*unused*/) {
  auto* self = reinterpret_cast<RecordingObject*>(op);
  Recording* recording = recordingOf(op);
  setNextTracerConfig(*self->config);
  const bool ok = withoutGil([recording] { recording->start(); });
  setNextTracerConfig(std::nullopt);  // if start() failed before making the tracer
  if (!ok) return nullptr;
  Py_RETURN_NONE;
}

PyObject* recordingStop(PyObject* op, PyObject* /*unused*/) {
  Recording* recording = recordingOf(op);
  if (!withoutGil([recording] { recording->stop(); })) return nullptr;
  Py_RETURN_NONE;
}

PyObject* recordingExport(PyObject* op, PyObject* arg) {
  PyObject* encoded = nullptr;
  if (!PyUnicode_FSConverter(arg, &encoded)) return nullptr;
  const std::string path(PyBytes_AS_STRING(encoded),
                         static_cast<std::size_t>(PyBytes_GET_SIZE(encoded)));
  Py_DECREF(encoded);
  Recording* recording = recordingOf(op);
  if (!withoutGil([&] { recording->exportChromeTrace(path); }, path)) return nullptr;
  Py_RETURN_NONE;
}

PyObject* recordingDropped(PyObject* op, void* /*closure*/) {
  Recording* recording = recordingOf(op);
  RecordingDrops drops;
  if (!withoutGil([&] { drops = recording->dropped(); })) return nullptr;
  return Py_BuildValue("{sKsKsKsKsKsK}", "waits_over_cap", drops.waits_over_cap,
                       "python_calls_over_cap", drops.python_calls_over_cap, "instants_over_cap",
                       drops.instants_over_cap, "counter_samples_over_cap",
                       drops.counter_samples_over_cap, "counter_callback_failed",
                       drops.counter_callback_failed, "no_memory", drops.no_memory);
}

PyObject* recordingRunning(PyObject* op, void* /*closure*/) {
  return PyBool_FromLong(recordingOf(op)->running());
}

PyMethodDef recording_methods[] = {
    {"start", recordingStart, METH_NOARGS, PyDoc_STR("Starts recording (once).")},
    {"stop", recordingStop, METH_NOARGS, PyDoc_STR("Stops recording; idempotent.")},
    {"export_chrome_trace", recordingExport, METH_O,
     PyDoc_STR("Writes the Chrome/Perfetto trace JSON to a path; OSError if it cannot.")},
    {nullptr, nullptr, 0, nullptr}};

PyGetSetDef recording_getset[] = {
    {"dropped", recordingDropped, nullptr, PyDoc_STR("events not stored, by cause (after stop)"),
     nullptr},
    {"running", recordingRunning, nullptr, PyDoc_STR("whether it is recording"), nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr}};

PyType_Slot recording_slots[] = {
    {Py_tp_new, reinterpret_cast<void*>(recordingNew)},
    {Py_tp_dealloc, reinterpret_cast<void*>(recordingDealloc)},
    {Py_tp_methods, recording_methods},
    {Py_tp_getset, recording_getset},
    {Py_tp_doc, const_cast<char*>("A probemon::Recording (internal: use probemon.Profiler).")},
    {0, nullptr}};

PyType_Spec recording_spec = {"probemon._probemon.Recording", sizeof(RecordingObject), 0,
                              Py_TPFLAGS_DEFAULT, recording_slots};

}  // namespace

bool addRecordingType(PyObject* module) {
  PyObject* type = PyType_FromSpec(&recording_spec);
  if (type == nullptr) return false;
  const int added = PyModule_AddObjectRef(module, "Recording", type);
  Py_DECREF(type);
  return added == 0;
}

}  // namespace probemon::python
