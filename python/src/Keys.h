// SPDX-License-Identifier: BSD-3-Clause
// Counter keys from Python: a str, as UTF-8, without NUL characters (the
// probe ABI passes keys as C strings). Shared by WaitCounter and
// DynamicCounter.
#pragma once

#include <Python.h>

#include <string_view>

namespace probemon::python {

// The UTF-8 of `key` (a str), valid while `key` lives; false with ValueError
// or UnicodeEncodeError set if it cannot be a key. `type_name` names the
// caller in the message.
bool keyFromStr(PyObject* key, const char* type_name, std::string_view* out);

}  // namespace probemon::python
