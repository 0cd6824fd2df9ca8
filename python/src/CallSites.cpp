// SPDX-License-Identifier: BSD-3-Clause
#include "CallSites.h"

#include <fnmatch.h>

#include <algorithm>
#include <string_view>

namespace probemon::python {
namespace {

std::string utf8(PyObject* str) {
  if (str == nullptr || !PyUnicode_Check(str)) return {};
  Py_ssize_t size = 0;
  const char* text = PyUnicode_AsUTF8AndSize(str, &size);
  if (text == nullptr) {  // lone surrogates: keep what can be shown
    PyErr_Clear();
    PyObject* escaped = PyUnicode_AsEncodedString(str, "utf-8", "backslashreplace");
    if (escaped == nullptr) {
      PyErr_Clear();
      return "?";
    }
    std::string out(PyBytes_AS_STRING(escaped),
                    static_cast<std::size_t>(PyBytes_GET_SIZE(escaped)));
    Py_DECREF(escaped);
    return out;
  }
  return {text, static_cast<std::size_t>(size)};
}

// The name cProfile would give, without its decoration: "module.function"
// for a module's function, "Type.method" for a method, with the type that
// defines the method (so an inherited method is named once, correctly).
std::string nameOfCFunction(PyCFunctionObject* function) {
  const std::string name = function->m_ml->ml_name;
  PyObject* self = function->m_self;
  if (self == nullptr || PyModule_Check(self)) {
    const std::string module = utf8(function->m_module);
    return module.empty() ? name : module + "." + name;
  }
  PyTypeObject* type = PyType_Check(self) ? reinterpret_cast<PyTypeObject*>(self) : Py_TYPE(self);
  if (PyObject* key = PyUnicode_FromString(function->m_ml->ml_name)) {
    PyObject* descriptor = _PyType_Lookup(type, key);  // borrowed; no exception
    Py_DECREF(key);
    if (descriptor != nullptr && PyObject_TypeCheck(descriptor, &PyMethodDescr_Type)) {
      type = reinterpret_cast<PyDescrObject*>(descriptor)->d_type;
    }
  } else {
    PyErr_Clear();
  }
  return std::string(type->tp_name) + "." + name;
}

}  // namespace

void CallSites::release() {
  for (PyObject* code : code_refs_) Py_DECREF(code);
  code_refs_.clear();
}

bool CallSites::included(const std::string& file) const {
  if (!config_.own_package_dir.empty() && file.starts_with(config_.own_package_dir)) return false;
  const auto matches = [&](const std::string& glob) {
    return fnmatch(glob.c_str(), file.c_str(), 0) == 0;
  };
  if (!config_.include_files.empty() &&
      std::none_of(config_.include_files.begin(), config_.include_files.end(), matches)) {
    return false;
  }
  return std::none_of(config_.exclude_files.begin(), config_.exclude_files.end(), matches);
}

std::uint32_t CallSites::add(const void* identity, CallSite site) {
  const auto index = static_cast<std::uint32_t>(sites_.size());
  sites_.push_back(std::move(site));
  index_.emplace(identity, index);
  return index;
}

std::uint32_t CallSites::ofCode(PyObject* code) {
  if (auto it = index_.find(code); it != index_.end()) return it->second;
  auto* c = reinterpret_cast<PyCodeObject*>(code);
  CallSite site;
  site.name = utf8(c->co_qualname);
  const std::string file = utf8(c->co_filename);
  site.location = file + ":" + std::to_string(c->co_firstlineno);
  site.included = included(file);
  Py_INCREF(code);
  code_refs_.push_back(code);
  return add(code, std::move(site));
}

std::uint32_t CallSites::ofCFunction(PyObject* function) {
  auto* f = reinterpret_cast<PyCFunctionObject*>(function);
  if (auto it = index_.find(f->m_ml); it != index_.end()) return it->second;
  CallSite site;
  site.name = nameOfCFunction(f);
  site.is_c = true;
  // Recorded when its caller is, except probemon's own (a guard's
  // __exit__ ends the wait it times).
  site.included = !site.name.starts_with("probemon._probemon.");
  return add(f->m_ml, std::move(site));
}

CallSiteCache::CallSiteCache() : slots_(256, Entry{nullptr, 0, false}), mask_(255) {}

const CallSiteCache::Entry& CallSiteCache::insert(const void* identity, std::uint32_t site,
                                                  bool included) {
  if (2 * (used_ + 1) > slots_.size()) grow();
  std::size_t i = slot(identity);
  while (slots_[i].identity != nullptr) i = (i + 1) & mask_;
  slots_[i] = Entry{identity, site, included};
  ++used_;
  return slots_[i];
}

void CallSiteCache::grow() {
  std::vector<Entry> old(slots_.size() * 2, Entry{nullptr, 0, false});
  old.swap(slots_);
  mask_ = slots_.size() - 1;
  used_ = 0;
  for (const Entry& e : old) {
    if (e.identity != nullptr) insert(e.identity, e.site, e.included);
  }
}

}  // namespace probemon::python
