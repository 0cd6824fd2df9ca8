// SPDX-License-Identifier: BSD-3-Clause
// probemon._probemon: the extension module behind the probemon package.
//
// Import it through `import probemon`; the pure-Python modules beside it
// (python/probemon/) hold the public API's Python parts.
#include <Python.h>

#include <string>

#include <probemon/PythonTracer.h>

#include "DynamicCounterType.h"
#include "MemoryFunctions.h"
#include "MemoryTracer.h"
#include "ProfileFunction.h"
#include "RecordingType.h"
#include "Tracer.h"
#include "WaitCounterType.h"

namespace probemon::python {
namespace {

PyObject* shutdown(PyObject* /*module*/, PyObject* /*unused*/) {
  closeAllDynamicCounters();
  Py_RETURN_NONE;
}

PyObject* setPackageDir(PyObject* /*module*/, PyObject* arg) {
  PyObject* encoded = nullptr;
  if (!PyUnicode_FSConverter(arg, &encoded)) return nullptr;
  setOwnPackageDir(PyBytes_AS_STRING(encoded));
  Py_DECREF(encoded);
  Py_RETURN_NONE;
}

PyMethodDef module_methods[] = {
    {"_shutdown", shutdown, METH_NOARGS,
     PyDoc_STR("Called at exit: closes every DynamicCounter still open.")},
    {"_set_package_dir", setPackageDir, METH_O,
     PyDoc_STR("The probemon package's directory, whose frames the tracer never records.")},
    {nullptr, nullptr, 0, nullptr}};

PyModuleDef module_def = {PyModuleDef_HEAD_INIT,
                          "probemon._probemon",
                          PyDoc_STR("The extension module of the probemon package."),
                          -1,
                          module_methods,
                          nullptr,
                          nullptr,
                          nullptr,
                          nullptr};

// Runs `shutdown` at exit, while the interpreter is still whole.
bool registerShutdown(PyObject* module) {
  PyObject* atexit = PyImport_ImportModule("atexit");
  if (atexit == nullptr) {
    return false;
  }
  PyObject* function = PyObject_GetAttrString(module, "_shutdown");
  PyObject* result =
      function == nullptr ? nullptr : PyObject_CallMethod(atexit, "register", "O", function);
  Py_XDECREF(function);
  Py_DECREF(atexit);
  Py_XDECREF(result);
  return result != nullptr;
}

}  // namespace
}  // namespace probemon::python

// NOLINTNEXTLINE(bugprone-reserved-identifier): the name CPython imports
PyMODINIT_FUNC PyInit__probemon() {
  using namespace probemon::python;
  PyObject* module = PyModule_Create(&module_def);
  if (module == nullptr) {
    return nullptr;
  }
  if (!addWaitCounterTypes(module) || !addDynamicCounterType(module) ||
      !addTraceTargetType(module) || !addRecordingType(module) || !addMemoryFunctions(module) ||
      !importTracerModules() || !registerShutdown(module)) {
    Py_DECREF(module);
    return nullptr;
  }
  // The seed's pattern: the C++ core, which never includes Python.h, makes
  // the Python tracer through this registration.
  probemon::python_tracer::registerTracer(&Tracer::make);
  probemon::python_tracer::registerMemoryTracer(&makeMemoryTracer);
  return module;
}
