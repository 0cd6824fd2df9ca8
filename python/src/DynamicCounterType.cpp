// SPDX-License-Identifier: BSD-3-Clause
// probemon._probemon.DynamicCounter: a probemon::DynamicCounter whose value
// comes from a Python callable.
//
//   depth = probemon.DynamicCounter("myapp.queue.depth", lambda: len(queue))
//   ...
//   depth.close()            # or: with probemon.DynamicCounter(...) as depth:
//
// Backends (the probe sampler behind `dynamic__value`, an in-process
// recording) call the callback from their own threads, so each call takes
// the GIL. A callback that raises or returns something that is not an int in
// the int64 range is counted (`errors`), reported once through
// sys.unraisablehook, and that sample is skipped: the C++ side sees an
// exception, which its samplers catch and drop.
//
// Locks: constructing and destroying a probemon::DynamicCounter take the
// library's registry and sampler locks, which a sampler holds while it waits
// for the GIL inside a callback. Both therefore run with the GIL released.
//
// Shutdown: at exit (an atexit handler, which runs while the interpreter is
// whole) every counter still open is closed and no new one can be made, so
// no sampler thread ever asks for the GIL of a finalizing interpreter.
#include "DynamicCounterType.h"

#include <atomic>
#include <exception>
#include <memory>
#include <new>
#include <stdexcept>
#include <string_view>
#include <unordered_set>

#include <structmember.h>

#include <probemon/DynamicCounter.h>

#include "Gil.h"
#include "Keys.h"

namespace probemon::python {
namespace {

// Thrown to the sampler for a sample the callback could not give.
struct SampleSkipped : std::exception {
  const char* what() const noexcept override { return "the Python callback failed"; }
};

// What the C++ counter's callback reaches. Owned by the Python object and
// freed only after the C++ counter is destroyed, which waits for every call
// in flight.
struct CallbackState {
  PyObject* callable;  // strong; cleared with the GIL held
  std::atomic<std::uint64_t> errors{0};
};

struct DynamicCounterObject {
  PyObject_HEAD PyObject* key;  // str
  CallbackState* state;
  DynamicCounter* counter;  // null once closed
};

// Set at exit: sampler threads no longer take the GIL, no counter is made.
std::atomic<bool> shutting_down{false};
// Open counters, for closing them at exit. Guarded by the GIL.
std::unordered_set<DynamicCounterObject*>* open_counters =
    new std::unordered_set<DynamicCounterObject*>;

std::int64_t sample(CallbackState& state) {
  if (shutting_down.load(std::memory_order_acquire)) {
    throw SampleSkipped();
  }
  const PyGILState_STATE gil = PyGILState_Ensure();
  long long value = -1;
  bool ok = false;
  if (PyObject* result = PyObject_CallNoArgs(state.callable)) {
    value = PyLong_AsLongLong(result);
    ok = !(value == -1 && PyErr_Occurred());
    Py_DECREF(result);
  }
  if (!ok) {
    if (state.errors.fetch_add(1, std::memory_order_relaxed) == 0) {
      PyErr_WriteUnraisable(state.callable);  // the first failure only; all are counted
    } else {
      PyErr_Clear();
    }
  }
  PyGILState_Release(gil);
  if (!ok) {
    throw SampleSkipped();
  }
  return value;
}

// Destroys the C++ counter, if any, with the GIL released (see the top).
void close(DynamicCounterObject* self) {
  DynamicCounter* counter = self->counter;
  if (counter == nullptr) {
    return;
  }
  self->counter = nullptr;  // under the GIL: a concurrent close() finds nothing to do
  open_counters->erase(self);
  releasingGil([counter] { delete counter; });  // the destructor does not throw
}

PyObject* counterNew(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
  static const char* keywords[] = {"key", "callback", nullptr};
  PyObject* key = nullptr;
  PyObject* callable = nullptr;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "UO:DynamicCounter", const_cast<char**>(keywords),
                                   &key, &callable)) {
    return nullptr;
  }
  std::string_view name;
  if (!keyFromStr(key, "DynamicCounter", &name)) {
    return nullptr;
  }
  if (!PyCallable_Check(callable)) {
    PyErr_Format(PyExc_TypeError, "DynamicCounter(%R, callback): callback must be callable, not %s",
                 key, Py_TYPE(callable)->tp_name);
    return nullptr;
  }
  if (shutting_down.load(std::memory_order_acquire)) {
    PyErr_SetString(PyExc_RuntimeError, "DynamicCounter: the interpreter is shutting down");
    return nullptr;
  }
  auto* self = reinterpret_cast<DynamicCounterObject*>(type->tp_alloc(type, 0));
  if (self == nullptr) {
    return nullptr;
  }
  Py_INCREF(key);
  self->key = key;
  // Inserted first so that a failure below leaves nothing to undo but this.
  try {
    self->state = new CallbackState{Py_NewRef(callable)};
    open_counters->insert(self);
  } catch (const std::bad_alloc&) {
    Py_DECREF(self);
    return PyErr_NoMemory();
  }
  CallbackState* state = self->state;
  DynamicCounter* counter = nullptr;
  try {
    releasingGil([&] { counter = new DynamicCounter(name, [state] { return sample(*state); }); });
  } catch (const std::invalid_argument& e) {  // the key is taken
    PyErr_SetString(PyExc_ValueError, e.what());
  } catch (const std::bad_alloc&) {
    PyErr_NoMemory();
  } catch (const std::exception& e) {  // a backend refused the counter
    PyErr_SetString(PyExc_RuntimeError, e.what());
  }
  if (counter == nullptr) {
    Py_DECREF(self);
    return nullptr;
  }
  self->counter = counter;
  return reinterpret_cast<PyObject*>(self);
}

void counterFinalize(PyObject* op) { close(reinterpret_cast<DynamicCounterObject*>(op)); }

int counterTraverse(PyObject* op, visitproc visit, void* arg) {
  auto* self = reinterpret_cast<DynamicCounterObject*>(op);
  Py_VISIT(Py_TYPE(op));
  if (self->state != nullptr) {
    Py_VISIT(self->state->callable);
  }
  return 0;
}

int counterClear(PyObject* op) {
  auto* self = reinterpret_cast<DynamicCounterObject*>(op);
  close(self);  // tp_finalize did this already, except for a finalizer that resurrected it
  if (self->state != nullptr) {
    Py_CLEAR(self->state->callable);
  }
  return 0;
}

void counterDealloc(PyObject* op) {
  if (PyObject_CallFinalizerFromDealloc(op) < 0) {
    return;  // resurrected
  }
  auto* self = reinterpret_cast<DynamicCounterObject*>(op);
  PyTypeObject* type = Py_TYPE(op);
  PyObject_GC_UnTrack(op);
  counterClear(op);
  open_counters->erase(self);  // a constructor that failed left it there
  delete self->state;
  Py_XDECREF(self->key);
  type->tp_free(op);
  Py_DECREF(type);
}

PyObject* counterRepr(PyObject* op) {
  auto* self = reinterpret_cast<DynamicCounterObject*>(op);
  return PyUnicode_FromFormat("probemon.DynamicCounter(%R%s)", self->key,
                              self->counter == nullptr ? ", closed" : "");
}

PyObject* counterClose(PyObject* op, PyObject* /*unused*/) {
  close(reinterpret_cast<DynamicCounterObject*>(op));
  Py_RETURN_NONE;
}

PyObject* counterEnter(PyObject* op, PyObject* /*unused*/) { return Py_NewRef(op); }

PyObject* counterExit(PyObject* op, PyObject* const* /*args*/, Py_ssize_t /*nargs*/) {
  close(reinterpret_cast<DynamicCounterObject*>(op));
  Py_RETURN_NONE;
}

PyObject* counterErrors(PyObject* op, void* /*closure*/) {
  const CallbackState* state = reinterpret_cast<DynamicCounterObject*>(op)->state;
  return PyLong_FromUnsignedLongLong(state->errors.load(std::memory_order_relaxed));
}

PyObject* counterClosed(PyObject* op, void* /*closure*/) {
  return PyBool_FromLong(reinterpret_cast<DynamicCounterObject*>(op)->counter == nullptr);
}

PyMethodDef counter_methods[] = {
    {"close", counterClose, METH_NOARGS,
     PyDoc_STR("Unregisters the counter; returns once no callback call is in flight. "
               "Idempotent.")},
    {"__enter__", counterEnter, METH_NOARGS, PyDoc_STR("Returns the counter.")},
    {"__exit__", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(counterExit)),
     METH_FASTCALL, PyDoc_STR("Closes the counter.")},
    {nullptr, nullptr, 0, nullptr}};

PyMemberDef counter_members[] = {
    {"key", T_OBJECT_EX, offsetof(DynamicCounterObject, key), READONLY, PyDoc_STR("the key")},
    {nullptr, 0, 0, 0, nullptr}};

PyGetSetDef counter_getset[] = {
    {"errors", counterErrors, nullptr,
     PyDoc_STR("how many samples were skipped because the callback raised or returned a "
               "non-int"),
     nullptr},
    {"closed", counterClosed, nullptr, PyDoc_STR("whether close() was called"), nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr}};

PyType_Slot counter_slots[] = {
    {Py_tp_new, reinterpret_cast<void*>(counterNew)},
    {Py_tp_finalize, reinterpret_cast<void*>(counterFinalize)},
    {Py_tp_dealloc, reinterpret_cast<void*>(counterDealloc)},
    {Py_tp_traverse, reinterpret_cast<void*>(counterTraverse)},
    {Py_tp_clear, reinterpret_cast<void*>(counterClear)},
    {Py_tp_repr, reinterpret_cast<void*>(counterRepr)},
    {Py_tp_methods, counter_methods},
    {Py_tp_members, counter_members},
    {Py_tp_getset, counter_getset},
    {Py_tp_doc, const_cast<char*>("DynamicCounter(key, callback): a gauge read by calling "
                                  "callback() -> int whenever a backend samples it.")},
    {0, nullptr}};

PyType_Spec counter_spec = {"probemon._probemon.DynamicCounter", sizeof(DynamicCounterObject), 0,
                            Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC, counter_slots};

}  // namespace

bool addDynamicCounterType(PyObject* module) {
  PyObject* type = PyType_FromSpec(&counter_spec);
  if (type == nullptr) {
    return false;
  }
  const int added = PyModule_AddObjectRef(module, "DynamicCounter", type);
  Py_DECREF(type);
  return added == 0;
}

void closeAllDynamicCounters() {
  shutting_down.store(true, std::memory_order_release);
  while (!open_counters->empty()) {
    close(*open_counters->begin());
  }
}

}  // namespace probemon::python
