// SPDX-License-Identifier: BSD-3-Clause
// probemon._probemon.WaitCounter and its guard: wait counters for Python.
//
//   counter = probemon.WaitCounter("myapp.wait.flush")
//   with counter.guard():      # the shape of torch.monitor._WaitCounter
//       flush()
//   with counter:              # the same, through a per-thread stack of guards
//       flush()
//
// Each object wraps a probemon::WaitCounterHandle, so a Python wait is a C++
// wait: it reaches the registered backends (the in-process recording among
// them) and fires the same wait__start / wait__done USDT probes, and
// `probemon hist -p <python pid>` shows it. Written on the plain C API, not
// pybind11, because the detached cost is the point: a detached
// `with counter.guard():` must cost no more than `with
// contextlib.nullcontext():` (docs/performance.md has both figures).
#include "WaitCounterType.h"

#include <new>
#include <string_view>
#include <vector>

#include <probemon/WaitCounter.h>

#include "Keys.h"

namespace probemon::python {
namespace {

using WaitGuard = WaitCounterHandle::WaitGuard;

struct WaitCounterObject {
  PyObject_HEAD WaitCounterHandle handle;
  PyObject* key;  // the str the counter was made with
};

// A guard opens its wait in __enter__ and stops it in __exit__; it may be
// entered again after that. The WaitGuard lives in `storage` while entered.
struct GuardObject {
  PyObject_HEAD WaitCounterObject* counter;  // strong
  bool entered;
  alignas(WaitGuard) unsigned char storage[sizeof(WaitGuard)];

  WaitGuard& guard() { return *std::launder(reinterpret_cast<WaitGuard*>(storage)); }
};

PyTypeObject* guard_type = nullptr;

// The waits of `with counter:` on this thread, innermost last. A `with`
// block exits on the thread it entered on, normally innermost first; an exit
// out of order (two generators interleaving `with` blocks) stops its own
// wait in place and leaves a tombstone that is popped once it is on top.
// Owners are compared, never dereferenced: the `with` statement holds the
// counter alive until its __exit__.
struct StackEntry {
  const WaitCounterObject* owner;  // null: a tombstone
  WaitGuard guard;
};
thread_local std::vector<StackEntry> with_stack;

PyObject* counterNew(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
  static const char* keywords[] = {"key", nullptr};
  PyObject* key = nullptr;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "U:WaitCounter", const_cast<char**>(keywords),
                                   &key)) {
    return nullptr;
  }
  std::string_view name;
  if (!keyFromStr(key, "WaitCounter", &name)) {
    return nullptr;
  }
  auto* self = reinterpret_cast<WaitCounterObject*>(type->tp_alloc(type, 0));
  if (self == nullptr) {
    return nullptr;
  }
  try {
    new (&self->handle) WaitCounterHandle(name);
  } catch (const std::bad_alloc&) {
    Py_DECREF(self);  // tp_dealloc sees key == nullptr: the handle was never made
    return PyErr_NoMemory();
  }
  Py_INCREF(key);
  self->key = key;
  return reinterpret_cast<PyObject*>(self);
}

void counterDealloc(PyObject* op) {
  auto* self = reinterpret_cast<WaitCounterObject*>(op);
  PyTypeObject* type = Py_TYPE(op);
  if (self->key != nullptr) {
    self->handle.~WaitCounterHandle();  // trivial today; kept in step with the placement new
    Py_DECREF(self->key);
  }
  type->tp_free(op);
  Py_DECREF(type);
}

PyObject* counterRepr(PyObject* op) {
  return PyUnicode_FromFormat("probemon.WaitCounter(%R)",
                              reinterpret_cast<WaitCounterObject*>(op)->key);
}

// counter.guard(): a new, not yet entered guard.
PyObject* counterGuard(PyObject* op, PyObject* /*unused*/) {
  auto* guard = PyObject_New(GuardObject, guard_type);
  if (guard == nullptr) {
    return nullptr;
  }
  Py_INCREF(op);
  guard->counter = reinterpret_cast<WaitCounterObject*>(op);
  guard->entered = false;
  return reinterpret_cast<PyObject*>(guard);
}

PyObject* counterEnter(PyObject* op, PyObject* /*unused*/) {
  auto* self = reinterpret_cast<WaitCounterObject*>(op);
  try {
    with_stack.push_back(StackEntry{self, self->handle.start()});
  } catch (const std::bad_alloc&) {
    return PyErr_NoMemory();
  }
  Py_RETURN_NONE;
}

PyObject* counterExit(PyObject* op, PyObject* const* /*args*/, Py_ssize_t /*nargs*/) {
  const auto* self = reinterpret_cast<const WaitCounterObject*>(op);
  auto& stack = with_stack;
  for (auto it = stack.rbegin(); it != stack.rend(); ++it) {
    if (it->owner == self) {
      it->guard.stop();
      it->owner = nullptr;
      while (!stack.empty() && stack.back().owner == nullptr) {
        stack.pop_back();
      }
      Py_RETURN_NONE;
    }
  }
  PyErr_Format(PyExc_RuntimeError,
               "WaitCounter(%R).__exit__ without a matching __enter__ on this thread", self->key);
  return nullptr;
}

PyMethodDef counter_methods[] = {
    {"guard", counterGuard, METH_NOARGS,
     PyDoc_STR("guard() -> a context manager timing one wait: with counter.guard(): ...")},
    {"__enter__", counterEnter, METH_NOARGS, PyDoc_STR("Opens a wait on this thread.")},
    {"__exit__", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(counterExit)),
     METH_FASTCALL, PyDoc_STR("Stops this thread's innermost open wait of this counter.")},
    {nullptr, nullptr, 0, nullptr}};

// A getter, not a member: WaitCounterObject is not standard-layout (the
// handle holds a reference), so offsetof() is not for it.
PyObject* counterKey(PyObject* op, void* /*closure*/) {
  return Py_NewRef(reinterpret_cast<WaitCounterObject*>(op)->key);
}

PyGetSetDef counter_getset[] = {{"key", counterKey, nullptr, PyDoc_STR("the key"), nullptr},
                                {nullptr, nullptr, nullptr, nullptr, nullptr}};

PyType_Slot counter_slots[] = {
    {Py_tp_new, reinterpret_cast<void*>(counterNew)},
    {Py_tp_dealloc, reinterpret_cast<void*>(counterDealloc)},
    {Py_tp_repr, reinterpret_cast<void*>(counterRepr)},
    {Py_tp_methods, counter_methods},
    {Py_tp_getset, counter_getset},
    {Py_tp_doc,
     const_cast<char*>(
         "WaitCounter(key): times waits under `key`, like probemon::WaitCounterHandle.")},
    {0, nullptr}};

PyType_Spec counter_spec = {"probemon._probemon.WaitCounter", sizeof(WaitCounterObject), 0,
                            Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE, counter_slots};

void guardDealloc(PyObject* op) {
  auto* self = reinterpret_cast<GuardObject*>(op);
  PyTypeObject* type = Py_TYPE(op);
  if (self->entered) {  // dropped while entered (an abandoned generator): the wait ends now
    self->guard().~WaitGuard();
  }
  Py_DECREF(self->counter);
  PyObject_Free(op);
  Py_DECREF(type);
}

PyObject* guardEnter(PyObject* op, PyObject* /*unused*/) {
  auto* self = reinterpret_cast<GuardObject*>(op);
  if (self->entered) {
    PyErr_Format(PyExc_RuntimeError, "this guard of WaitCounter(%R) is already entered",
                 self->counter->key);
    return nullptr;
  }
  // Guaranteed copy elision: start() builds the guard in place.
  new (self->storage) WaitGuard(self->counter->handle.start());
  self->entered = true;
  Py_RETURN_NONE;
}

PyObject* guardExit(PyObject* op, PyObject* const* /*args*/, Py_ssize_t /*nargs*/) {
  auto* self = reinterpret_cast<GuardObject*>(op);
  if (!self->entered) {
    PyErr_Format(PyExc_RuntimeError, "this guard of WaitCounter(%R) was not entered",
                 self->counter->key);
    return nullptr;
  }
  self->guard().~WaitGuard();
  self->entered = false;
  Py_RETURN_NONE;
}

PyMethodDef guard_methods[] = {
    {"__enter__", guardEnter, METH_NOARGS, PyDoc_STR("Opens the wait.")},
    {"__exit__", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(guardExit)),
     METH_FASTCALL, PyDoc_STR("Stops the wait.")},
    {nullptr, nullptr, 0, nullptr}};

PyType_Slot guard_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(guardDealloc)},
    {Py_tp_methods, guard_methods},
    {Py_tp_doc, const_cast<char*>("One wait of a WaitCounter, timed from __enter__ to __exit__.")},
    {0, nullptr}};

PyType_Spec guard_spec = {"probemon._probemon.WaitCounterGuard", sizeof(GuardObject), 0,
                          Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION, guard_slots};

}  // namespace

bool addWaitCounterTypes(PyObject* module) {
  guard_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&guard_spec));
  if (guard_type == nullptr || PyModule_AddObjectRef(module, "WaitCounterGuard",
                                                     reinterpret_cast<PyObject*>(guard_type)) < 0) {
    return false;
  }
  PyObject* counter_type = PyType_FromSpec(&counter_spec);
  if (counter_type == nullptr) {
    return false;
  }
  const int added = PyModule_AddObjectRef(module, "WaitCounter", counter_type);
  Py_DECREF(counter_type);
  return added == 0;
}

}  // namespace probemon::python
