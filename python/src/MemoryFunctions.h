// SPDX-License-Identifier: BSD-3-Clause
// The module functions behind probemon.memory.
#pragma once

#include <Python.h>

namespace probemon::python {

// Adds _memory_start, _memory_stop, ... to the module; false with a Python
// exception set.
bool addMemoryFunctions(PyObject* module);

}  // namespace probemon::python
