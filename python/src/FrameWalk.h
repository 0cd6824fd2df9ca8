// SPDX-License-Identifier: BSD-3-Clause
// The calling thread's innermost Python frames as (code object, instruction
// offset) pairs, read from the interpreter's frame stack without making
// frame objects: the memory tracer calls it from inside allocator hooks,
// where making a frame object would allocate. GIL held.
#pragma once

#include <Python.h>

#include <cstddef>

namespace probemon::python {

struct FramePosition {
  PyCodeObject* code;  // borrowed
  int lasti;           // in code units; PyCode_Addr2Line() takes bytes
};

// Fills `out` with up to `n` positions, innermost first, and returns how
// many; 0 outside any Python frame.
std::size_t currentFrames(FramePosition* out, std::size_t n);

}  // namespace probemon::python
