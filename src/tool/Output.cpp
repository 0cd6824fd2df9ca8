#include "Output.h"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace probemon::tool {

void emitJson(const nlohmann::json& json) {
  // Invalid UTF-8 in a key name is replaced rather than aborting the dump.
  const std::string text = json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
  flushOutput();
}

void flushOutput() {
  if (std::fflush(stdout) != 0 && errno == EPIPE) throw OutputClosed();
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
