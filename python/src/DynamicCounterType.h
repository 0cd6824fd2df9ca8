// SPDX-License-Identifier: BSD-3-Clause
// The DynamicCounter type of probemon._probemon.
#pragma once

#include <Python.h>

namespace probemon::python {

// Adds DynamicCounter to the module; false with a Python exception set.
bool addDynamicCounterType(PyObject* module);

// At exit: closes every open DynamicCounter and refuses new ones, so that no
// sampler thread takes the GIL while the interpreter finalizes. Called with
// the GIL held.
void closeAllDynamicCounters();

}  // namespace probemon::python
