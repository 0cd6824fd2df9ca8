// SPDX-License-Identifier: BSD-3-Clause
// The Python tracer's options, as probemon.profile(**options) gives them
// (python/probemon/_options.py validates them first).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace probemon::python {

struct TracerConfig {
  // Calls more than this many levels below the frames open when tracing
  // started on their thread are not recorded.
  std::size_t max_stack_depth = std::numeric_limits<std::size_t>::max();
  // Record the frames open when tracing starts, as calls starting then.
  bool record_open_frames = true;
  // fnmatch(3) globs (no flags: `*` matches `/` too) on a function's
  // co_filename: if include_files is not empty, only matching files are
  // recorded; matches of exclude_files never are.
  std::vector<std::string> include_files;
  std::vector<std::string> exclude_files;
  // Files under this directory (the probemon package) are never recorded,
  // so the profiler's own start and stop frames stay out of the trace.
  std::string own_package_dir;
  // Calls shorter than this are left out of the trace.
  std::int64_t min_duration_ns = 0;
  // Record calls of C functions (builtins, extension functions) made from
  // recorded Python code.
  bool log_c_calls = false;
};

}  // namespace probemon::python
