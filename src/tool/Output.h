// SPDX-License-Identifier: BSD-3-Clause
// Writing results: to stdout, text or one JSON document or line at a time,
// flushed so a reader on a pipe sees each refresh as it happens; or to a
// file named with -o, opened when the view starts (so a bad path is said
// before anything is traced, not after). Every write and flush is checked:
// a full disk (ENOSPC, /dev/full) or any other write error is a ToolError
// naming the output and the cause, exit status 1. A reader that has gone
// from stdout (e.g. `probemon trace ... | head`) ends the tool one way:
// OutputClosed, which unwinds the view (its programs detach on the way out)
// and exits 0 without a message.
//
// Strings the traced process controls (key names, paths) reach this output
// only through the escaping module (escaping/Escaping.h): KeyName::shown()
// and KeyName::json() for keys, terminalText()/utf8Text() for the rest.
#pragma once

#include <fmt/format.h>

#include <cstdio>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "Error.h"

namespace probemon::tool {

class OutputClosed : public ToolError {
 public:
  OutputClosed() : ToolError("", 0) {}
};

// stdout, or a file opened for writing when constructed.
class OutputFile {
 public:
  // The process's stdout.
  static OutputFile& standardOutput();
  // Creates or truncates `path` now; throws ToolError if it cannot.
  explicit OutputFile(const std::string& path);
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  // Buffered; throws ToolError (OutputClosed for a stdout reader that left).
  void write(std::string_view text);
  void flush();
  // Flushes and closes a file (stdout: flushes), reporting what the kernel
  // reports only then (e.g. a full disk with delayed allocation).
  void close();

 private:
  OutputFile(std::FILE* file, std::string name) : file_(file), name_(std::move(name)) {}
  [[noreturn]] void failed() const;

  std::FILE* file_;
  const std::string name_;  // "the output" for stdout, else the path
};

// Writes `text` to stdout.
void writeText(std::string_view text);
template <typename... Args>
void print(fmt::format_string<Args...> format, Args&&... args) {
  writeText(fmt::format(format, std::forward<Args>(args)...));
}
// Flushes stdout after a text refresh.
void flushOutput();
// One JSON document on a line, flushed. Strings in it must be valid UTF-8
// (utf8Text()), which every key name is.
void emitJson(const nlohmann::json& json);

// Wall-clock "HH:MM:SS" for refresh headers.
std::string clockTime();
// Seconds since the epoch, for JSON records.
double epochSeconds();

}  // namespace probemon::tool
