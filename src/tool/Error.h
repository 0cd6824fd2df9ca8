// SPDX-License-Identifier: BSD-3-Clause
// Errors the tool reports as one line and an exit status: 1 for what went
// wrong at run time (permissions, targets, the kernel), 2 for bad usage. The
// message says what to do; main() prints it and nothing else. An error with
// no message ends the tool quietly with its status (OutputClosed).
#pragma once

#include <stdexcept>
#include <string>

namespace probemon::tool {

class ToolError : public std::runtime_error {
 public:
  explicit ToolError(const std::string& message, int exit_code = 1)
      : std::runtime_error(message), exit_code_(exit_code) {}
  int exitCode() const { return exit_code_; }

 private:
  int exit_code_;
};

// A usage error (exit 2), for what CLI11 cannot check by itself.
inline ToolError usageError(const std::string& message) { return ToolError(message, 2); }

}  // namespace probemon::tool
