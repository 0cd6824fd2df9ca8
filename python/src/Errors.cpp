// SPDX-License-Identifier: BSD-3-Clause
#include "Errors.h"

namespace probemon::python {

void setOSError(const std::system_error& error, PyObject* filename) {
  // OSError's constructor picks the subclass from the errno.
  PyObject* exception =
      PyObject_CallFunction(PyExc_OSError, "isO", error.code().value(), error.what(), filename);
  if (exception != nullptr) {
    PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exception)), exception);
    Py_DECREF(exception);
  }
}

}  // namespace probemon::python
