// SPDX-License-Identifier: BSD-3-Clause
// Releasing the GIL around C++ that may block on a lock a sampler holds
// while it waits for the GIL (DynamicCounter registration, a recording's
// start and stop): the one way this module does it.
#pragma once

#include <Python.h>

#include <exception>
#include <utility>

namespace probemon::python {

// Runs `action` with the GIL released; what it throws is rethrown once the
// GIL is held again.
template <typename Action>
void releasingGil(Action&& action) {
  std::exception_ptr error;
  Py_BEGIN_ALLOW_THREADS;
  try {
    std::forward<Action>(action)();
  } catch (...) {
    error = std::current_exception();
  }
  Py_END_ALLOW_THREADS;
  if (error) std::rethrow_exception(error);
}

}  // namespace probemon::python
