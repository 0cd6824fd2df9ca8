// SPDX-License-Identifier: BSD-3-Clause
// The Recording type of probemon._probemon.
#pragma once

#include <Python.h>

namespace probemon::python {

// Adds Recording to the module; false with a Python exception set.
bool addRecordingType(PyObject* module);

}  // namespace probemon::python
