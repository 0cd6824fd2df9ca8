// SPDX-License-Identifier: BSD-3-Clause
// Fuzzes every output escaper with any bytes: the JSON string parses (as
// nlohmann::json reads it) to exactly utf8Text() of the input, utf8Text()
// is valid UTF-8 and leaves valid UTF-8 alone, and terminalText() holds no
// control character and is valid UTF-8.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "escaping/Escaping.h"

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace probemon::detail;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string json;
  appendJsonString(json, text);
  const std::string valid = utf8Text(text);
  // Throws (and so crashes the fuzzer) if the JSON is not valid.
  require(nlohmann::json::parse(json).get<std::string>() == valid);
  require(utf8Text(valid) == valid);
  const std::string shown = terminalText(text);
  require(utf8Text(shown) == shown);
  for (const char c : shown) {
    const auto byte = static_cast<unsigned char>(c);
    require(byte >= 0x20 && byte != 0x7F);
  }
  return 0;
}
