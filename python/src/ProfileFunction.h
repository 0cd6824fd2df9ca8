// SPDX-License-Identifier: BSD-3-Clause
// The Python tracer's profile function (PyEval_SetProfile), and the small
// object each traced thread passes it: a TraceTarget naming the thread's
// ThreadTrace, so the hot path finds its state with one load, not a
// thread-local or dict lookup.
#pragma once

#include <Python.h>
#include <frameobject.h>

namespace probemon::python {

// The profile function itself: `target` is a TraceTarget naming a
// ThreadTrace.
int profileFunction(PyObject* target, PyFrameObject* frame, int what, PyObject* arg);

// TraceTarget: a Python object holding a pointer that its owner may clear.
// Also what the threading hook and the gc callback are bound to (naming the
// Tracer, cleared when it stops).
PyObject* newTraceTarget(void* target);  // new reference
void* traceTarget(PyObject* object);
void setTraceTarget(PyObject* object, void* target);
bool addTraceTargetType(PyObject* module);

}  // namespace probemon::python
