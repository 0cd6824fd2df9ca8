// SPDX-License-Identifier: BSD-3-Clause
#include "Output.h"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace probemon::tool {
namespace {

[[noreturn]] void writeFailed() {
  if (errno == EPIPE) throw OutputClosed();
  throw ToolError(std::string("cannot write the output: ") + std::strerror(errno));
}

}  // namespace

void writeText(std::string_view text) {
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size()) writeFailed();
}

void flushOutput() {
  if (std::fflush(stdout) != 0) writeFailed();
}

void emitJson(const nlohmann::json& json) {
  // Invalid UTF-8 in a key name is replaced rather than aborting the dump.
  writeText(json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  writeText("\n");
  flushOutput();
}

std::string clockTime() {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  ::localtime_r(&now, &local);
  char text[16];
  std::strftime(text, sizeof(text), "%H:%M:%S", &local);
  return text;
}

double epochSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace probemon::tool
