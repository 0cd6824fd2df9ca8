// SPDX-License-Identifier: BSD-3-Clause
// The module functions behind probemon.memory (python/probemon/memory.py):
// one memory tracer, made through the registry like the C++ core would
// (PythonMemoryTracerBase::make()), started, stopped and exported.
#include "MemoryFunctions.h"

#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>

#include "Errors.h"
#include "MemoryTracer.h"

namespace probemon::python {
namespace {

std::unique_ptr<python_tracer::PythonMemoryTracerBase> tracer;  // GIL
bool running = false;

PyObject* memoryStart(PyObject* /*module*/, PyObject* args, PyObject* kwargs) {
  static const char* keywords[] = {"frames", "max_entries", nullptr};
  Py_ssize_t frames = 1;
  long long max_entries = 1'000'000;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|$nL:start", const_cast<char**>(keywords),
                                   &frames, &max_entries)) {
    return nullptr;
  }
  if (frames < 1 || frames > 64 || max_entries < 1) {
    PyErr_SetString(PyExc_ValueError,
                    "probemon.memory.start(): frames must be 1 to 64 and max_entries at least 1");
    return nullptr;
  }
  if (running) {
    PyErr_SetString(PyExc_RuntimeError, "probemon.memory: the memory tracer is already running");
    return nullptr;
  }
  try {
    setNextMemoryTracerConfig({static_cast<std::size_t>(frames), max_entries});
    tracer = python_tracer::PythonMemoryTracerBase::make();
    tracer->start();
  } catch (const std::bad_alloc&) {
    return PyErr_NoMemory();
  } catch (const std::exception& e) {
    PyErr_Format(PyExc_RuntimeError, "probemon.memory.start(): %s", e.what());
    return nullptr;
  }
  running = true;
  Py_RETURN_NONE;
}

PyObject* memoryStop(PyObject* /*module*/, PyObject* /*unused*/) {
  if (tracer) tracer->stop();
  running = false;
  Py_RETURN_NONE;
}

PyObject* memoryRunning(PyObject* /*module*/, PyObject* /*unused*/) {
  return PyBool_FromLong(running);
}

PyObject* memoryExport(PyObject* /*module*/, PyObject* arg) {
  PyObject* encoded = nullptr;
  if (!PyUnicode_FSConverter(arg, &encoded)) return nullptr;
  const std::string path(PyBytes_AS_STRING(encoded));
  Py_DECREF(encoded);
  if (!tracer) {
    PyErr_SetString(PyExc_RuntimeError, "probemon.memory: start() the memory tracer first");
    return nullptr;
  }
  try {
    tracer->export_memory_history(path);
  } catch (const std::system_error& e) {
    setOSError(e, arg);
    return nullptr;
  } catch (const std::logic_error& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
    return nullptr;
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_OSError, e.what());
    return nullptr;
  }
  Py_RETURN_NONE;
}

// In a child of fork(): the parent's tracer stops and its history is
// dropped; the child traces only if it starts the tracer itself.
PyObject* memoryAfterFork(PyObject* /*module*/, PyObject* /*unused*/) {
  tracer.reset();
  running = false;
  Py_RETURN_NONE;
}

PyMethodDef functions[] = {
    {"_memory_start", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(memoryStart)),
     METH_VARARGS | METH_KEYWORDS, PyDoc_STR("Starts the memory tracer.")},
    {"_memory_stop", memoryStop, METH_NOARGS, PyDoc_STR("Stops the memory tracer.")},
    {"_memory_running", memoryRunning, METH_NOARGS, PyDoc_STR("Whether it runs.")},
    {"_memory_export", memoryExport, METH_O, PyDoc_STR("Writes the memory history JSON.")},
    {"_memory_after_fork_in_child", memoryAfterFork, METH_NOARGS,
     PyDoc_STR("In a child of fork(): drops the parent's memory tracer.")},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

bool addMemoryFunctions(PyObject* module) { return PyModule_AddFunctions(module, functions) == 0; }

}  // namespace probemon::python
