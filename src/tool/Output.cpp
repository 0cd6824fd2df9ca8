// SPDX-License-Identifier: BSD-3-Clause
#include "Output.h"

#include <fcntl.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>

#include "escaping/Escaping.h"

namespace probemon::tool {

OutputFile& OutputFile::standardOutput() {
  static OutputFile out(stdout, "the output");
  return out;
}

OutputFile::OutputFile(const std::string& path) : OutputFile(nullptr, path) {
  // "e": O_CLOEXEC.
  file_ = std::fopen(path.c_str(), "we");
  if (file_ == nullptr) {
    throw ToolError("cannot open " + detail::terminalText(path) + " for writing: " +
                    std::strerror(errno) + ": check the path and the directory's permissions");
  }
}

OutputFile::~OutputFile() {
  if (file_ != nullptr && file_ != stdout) std::fclose(file_);
}

void OutputFile::failed() const {
  if (errno == EPIPE && file_ == stdout) throw OutputClosed();
  throw ToolError("cannot write " + detail::terminalText(name_) + ": " + std::strerror(errno));
}

void OutputFile::write(std::string_view text) {
  if (std::fwrite(text.data(), 1, text.size(), file_) != text.size()) failed();
}

void OutputFile::flush() {
  if (std::fflush(file_) != 0) failed();
}

void OutputFile::close() {
  flush();
  if (file_ == stdout) return;
  if (std::fclose(std::exchange(file_, nullptr)) != 0) failed();
}

void writeText(std::string_view text) { OutputFile::standardOutput().write(text); }

void flushOutput() { OutputFile::standardOutput().flush(); }

void emitJson(const nlohmann::json& json) {
  // Strings are valid UTF-8 by then; "replace" only guards against a slip.
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
