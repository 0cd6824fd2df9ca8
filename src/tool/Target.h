// SPDX-License-Identifier: BSD-3-Clause
// What the tool attaches to: the objects (executable or libprobemon.so) that
// carry probemon's USDT notes, in one process (-p PID) or in every process of
// a file (--path FILE); for a process, also a pidfd, the one way the tool
// tells that it is gone (the session's loop, and exited() after a failed
// attach).
#pragma once

#include <string>
#include <vector>

#include "Fd.h"
#include "UsdtNotes.h"

namespace probemon::tool {

// -p PID or --path FILE: exactly one is set.
struct TargetSpec {
  int pid = 0;
  std::string path;
};

struct TargetObject {
  std::string path;        // as opened by the tool: /proc/PID/root/... for -p, or
                           // /proc/PID/map_files/... for a file replaced on disk
  std::string shown_path;  // as the target sees it, for messages: "... (deleted)" if replaced
  std::vector<UsdtProbe> probes;
};

struct Target {
  int pid = -1;  // -1: every process of the objects (--path)
  std::vector<TargetObject> objects;
  Fd pid_fd;  // -p: readable once the process has exited

  // "PID 1234" or "/path/to/file (every process)", for messages.
  std::string describe() const;
  // Whether the -p process has exited; false for --path.
  bool exited() const;
};

// Finds the target objects. Throws ToolError (a pid that does not exist or
// is a thread's, a file that is missing or not ELF, no probemon probes) with
// what to do.
Target resolveTarget(const TargetSpec& spec);

}  // namespace probemon::tool
