// What the tool attaches to: the objects (executable or libprobemon.so) that
// carry probemon's USDT notes, in one process (-p PID) or in every process of
// a file (--path FILE).
#pragma once

#include <string>
#include <vector>

#include "Options.h"
#include "UsdtNotes.h"

namespace probemon::tool {

struct TargetObject {
  std::string path;        // as opened by the tool: /proc/PID/root/... for -p
  std::string shown_path;  // as the target sees it, for messages
  std::vector<UsdtProbe> probes;
};

struct Target {
  int pid = -1;  // -1: every process of the objects (--path)
  std::vector<TargetObject> objects;

  // "PID 1234" or "/path/to/file (every process)", for messages.
  std::string describe() const;
};

// Finds the target objects. Throws ToolError (a pid that does not exist, a
// file that is missing or not ELF, no probemon probes) with what to do.
Target resolveTarget(const Options& options);

}  // namespace probemon::tool
