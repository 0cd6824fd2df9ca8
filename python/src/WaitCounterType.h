// SPDX-License-Identifier: BSD-3-Clause
// The WaitCounter and WaitCounterGuard types of probemon._probemon.
#pragma once

#include <Python.h>

namespace probemon::python {

// Adds WaitCounter and WaitCounterGuard to the module; false with a Python
// exception set on failure.
bool addWaitCounterTypes(PyObject* module);

}  // namespace probemon::python
