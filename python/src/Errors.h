// SPDX-License-Identifier: BSD-3-Clause
// C++ exceptions as Python exceptions, the same way everywhere in the
// module: a std::system_error about a file becomes the OSError subclass of
// its errno (FileNotFoundError, PermissionError, ...) with `filename` set.
#pragma once

#include <Python.h>

#include <system_error>

namespace probemon::python {

// Sets OSError(errno, message, filename) for `error`; `filename` is
// borrowed.
void setOSError(const std::system_error& error, PyObject* filename);

}  // namespace probemon::python
