// SPDX-License-Identifier: BSD-3-Clause
// What the Python tracer records calls of: one CallSite per code object or C
// function seen during a recording, and the per-thread cache that finds a
// call's site on the hot path.
//
// A call is stored as a TraceKey, the index of its CallSite, so a name is
// stored once per site however often it is called. The table holds a strong
// reference to every code object in it, so no code object in it is freed and
// its address reused by another while the recording lasts. The file filters
// (include_files, exclude_files and the probemon package itself) are decided
// once per site, here.
//
// Threading: everything here runs with the GIL held.
#pragma once

#include <Python.h>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "TracerConfig.h"

namespace probemon::python {

struct CallSite {
  std::string name;      // a function's __qualname__; a C function's module.name or Type.name
  std::string location;  // "file:first line" of a Python function; empty for a C function
  bool is_c = false;
  bool included = false;  // passes the file filters; a C function: is not probemon's
};

class CallSites {
 public:
  explicit CallSites(const TracerConfig& config) : config_(config) {}
  CallSites(const CallSites&) = delete;
  CallSites& operator=(const CallSites&) = delete;

  // The index of the site of `code` (a PyCodeObject) or `function` (a
  // PyCFunctionObject, as PyTrace_C_CALL passes it), made on first sight.
  std::uint32_t ofCode(PyObject* code);
  std::uint32_t ofCFunction(PyObject* function);

  const CallSite& operator[](std::uint32_t index) const { return sites_[index]; }

  // Drops the references to code objects (GIL held); the names stay.
  void release();

 private:
  std::uint32_t add(const void* identity, CallSite site);
  bool included(const std::string& file) const;

  const TracerConfig& config_;
  std::unordered_map<const void*, std::uint32_t> index_;
  std::vector<CallSite> sites_;
  std::vector<PyObject*> code_refs_;  // strong
};

// One thread's map from a code object or PyMethodDef to its site: open
// addressing on the pointer, no allocation once warm. A miss asks CallSites.
class CallSiteCache {
 public:
  struct Entry {
    const void* identity;  // null: an empty slot
    std::uint32_t site;
    bool included;
  };

  CallSiteCache();

  // The entry of `identity`, or null if it is not cached yet.
  const Entry* find(const void* identity) const {
    for (std::size_t i = slot(identity);; i = (i + 1) & mask_) {
      const Entry& e = slots_[i];
      if (e.identity == identity) return &e;
      if (e.identity == nullptr) return nullptr;
    }
  }
  const Entry& insert(const void* identity, std::uint32_t site, bool included);

 private:
  std::size_t slot(const void* identity) const {
    // Fibonacci hashing of the address; the low bits are alignment.
    return static_cast<std::size_t>(
               (reinterpret_cast<std::uintptr_t>(identity) >> 4) * 0x9E3779B97F4A7C15ULL >> 40) &
           mask_;
  }
  void grow();

  std::vector<Entry> slots_;
  std::size_t mask_;
  std::size_t used_ = 0;
};

}  // namespace probemon::python
