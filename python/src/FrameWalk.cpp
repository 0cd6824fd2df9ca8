// SPDX-License-Identifier: BSD-3-Clause
// CPython 3.11's internal frame layout (internal/pycore_frame.h, shipped in
// python3-dev), as tracemalloc reads it. Confined to this file; the module is
// built for one interpreter version (python/CMakeLists.txt), so the layout
// cannot differ at run time.
#define Py_BUILD_CORE 1
#include "FrameWalk.h"

#include <internal/pycore_frame.h>

#if PY_VERSION_HEX < 0x030B0000 || PY_VERSION_HEX >= 0x030C0000
#error "FrameWalk.cpp reads CPython 3.11's frame layout"
#endif

namespace probemon::python {

std::size_t currentFrames(FramePosition* out, std::size_t n) {
  PyThreadState* tstate = _PyThreadState_UncheckedGet();
  if (tstate == nullptr || tstate->cframe == nullptr) return 0;
  std::size_t count = 0;
  for (_PyInterpreterFrame* frame = tstate->cframe->current_frame; frame != nullptr && count < n;
       frame = frame->previous) {
    if (_PyFrame_IsIncomplete(frame)) continue;  // being set up: not running code yet
    out[count++] = FramePosition{frame->f_code, _PyInterpreterFrame_LASTI(frame)};
  }
  return count;
}

}  // namespace probemon::python
