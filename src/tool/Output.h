// SPDX-License-Identifier: BSD-3-Clause
// Writing results to stdout: text or one JSON document or line at a time,
// flushed so a reader on a pipe sees each refresh as it happens. Every result
// goes through writeText(), so a reader that has gone (e.g. `probemon trace ... |
// head`) ends the tool one way: OutputClosed, which unwinds the view (its
// programs detach on the way out) and exits 0 without a message.
#pragma once

#include <fmt/format.h>

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

// Writes `text` to stdout. Throws OutputClosed, or ToolError if stdout
// cannot be written at all.
void writeText(std::string_view text);
template <typename... Args>
void print(fmt::format_string<Args...> format, Args&&... args) {
  writeText(fmt::format(format, std::forward<Args>(args)...));
}
// Flushes stdout after a text refresh.
void flushOutput();
// One JSON document on a line, flushed.
void emitJson(const nlohmann::json& json);

// Wall-clock "HH:MM:SS" for refresh headers.
std::string clockTime();
// Seconds since the epoch, for JSON records.
double epochSeconds();

}  // namespace probemon::tool
