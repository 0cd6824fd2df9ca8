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

// In a child of fork(): `tracer` (if it is ours) stops recording without
// freeing or joining anything the parent's threads may hold. GIL held.
void abandonMemoryTracerAfterFork(python_tracer::PythonMemoryTracerBase* tracer);

}  // namespace probemon::python
