// SPDX-License-Identifier: BSD-3-Clause
#include "Keys.h"

namespace probemon::python {

bool keyFromStr(PyObject* key, const char* type_name, std::string_view* out) {
  Py_ssize_t size = 0;
  const char* utf8 = PyUnicode_AsUTF8AndSize(key, &size);
  if (utf8 == nullptr) {
    return false;
  }
  const std::string_view name(utf8, static_cast<std::size_t>(size));
  if (name.find('\0') != std::string_view::npos) {
    PyErr_Format(PyExc_ValueError,
                 "%s key %R contains a NUL character; probes pass keys as C strings", type_name,
                 key);
    return false;
  }
  *out = name;
  return true;
}

}  // namespace probemon::python
