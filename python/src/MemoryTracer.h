// SPDX-License-Identifier: BSD-3-Clause
// The memory tracer registered with registerMemoryTracer() (MemoryTracer.cpp).
#pragma once

#include <Python.h>

#include <cstdint>
#include <memory>

#include <probemon/PythonTracer.h>

namespace probemon::python {

struct MemoryTracerConfig {
  // Python frames kept per allocation site, innermost first.
  std::size_t frames = 1;
  // Events (allocations and frees) stored at most; the rest are counted.
  std::int64_t max_entries = 1'000'000;
};

// The MakeMemoryFn.
std::unique_ptr<python_tracer::PythonMemoryTracerBase> makeMemoryTracer();

// The options of the memory tracers started from now on. GIL held.
void setNextMemoryTracerConfig(MemoryTracerConfig config);

}  // namespace probemon::python
