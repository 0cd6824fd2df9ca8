// SPDX-License-Identifier: BSD-3-Clause
#include "LabelValue.h"

#include <cstddef>

namespace probemon::tool {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

bool continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// The length of the valid UTF-8 sequence at the start of `s`, 0 if none
// (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
std::size_t validSequence(std::string_view s) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char c = byte(0);
  if (c < 0x80) return 1;
  std::size_t length = 0;
  unsigned char low = 0x80, high = 0xBF;  // the range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    length = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    length = 3;
    if (c == 0xE0) low = 0xA0;   // overlong
    if (c == 0xED) high = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    length = 4;
    if (c == 0xF0) low = 0x90;   // overlong
    if (c == 0xF4) high = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (s.size() < length || byte(1) < low || byte(1) > high) return 0;
  for (std::size_t i = 2; i < length; ++i) {
    if (!continuation(byte(i))) return 0;
  }
  return length;
}

}  // namespace

std::string labelValue(std::string_view key) {
  std::string value;
  value.reserve(key.size());
  while (!key.empty()) {
    const std::size_t length = validSequence(key);
    if (length == 0) {
      value += kReplacement;
      key.remove_prefix(1);
    } else {
      value += key.substr(0, length);
      key.remove_prefix(length);
    }
  }
  return value;
}

}  // namespace probemon::tool
