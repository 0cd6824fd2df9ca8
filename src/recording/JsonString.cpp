// SPDX-License-Identifier: BSD-3-Clause
// JSON string escaping (JsonString.h).
#include "JsonString.h"

#include <array>
#include <cstdint>

namespace probemon::detail {
namespace {

constexpr std::array<char, 16> kHex = {'0', '1', '2', '3', '4', '5', '6', '7',
                                       '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};

// The length of the well-formed UTF-8 sequence starting at text[i] (Unicode
// Table 3-7), or 0 if there is none.
std::size_t utf8SequenceLength(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<std::uint8_t>(text[i + k]); };
  const auto in = [](std::uint8_t b, std::uint8_t lo, std::uint8_t hi) {
    return b >= lo && b <= hi;
  };
  const std::uint8_t lead = byte(0);
  const std::size_t left = text.size() - i;
  std::size_t length = 0;
  std::uint8_t lo = 0x80, hi = 0xBF;  // the range of the second byte
  if (in(lead, 0xC2, 0xDF)) {
    length = 2;
  } else if (in(lead, 0xE0, 0xEF)) {
    length = 3;
    if (lead == 0xE0) lo = 0xA0;  // no overlongs
    if (lead == 0xED) hi = 0x9F;  // no surrogates
  } else if (in(lead, 0xF0, 0xF4)) {
    length = 4;
    if (lead == 0xF0) lo = 0x90;  // no overlongs
    if (lead == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (left < length || !in(byte(1), lo, hi)) return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if (!in(byte(k), 0x80, 0xBF)) return 0;
  }
  return length;
}

}  // namespace

void appendJsonString(std::string& out, std::string_view text) {
  out.push_back('"');
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<std::uint8_t>(text[i]);
    if (c >= 0x80) {
      if (const std::size_t length = utf8SequenceLength(text, i)) {
        out.append(text.substr(i, length));
        i += length;
      } else {
        out.append({'\\', '\\', 'x', kHex[c >> 4], kHex[c & 0xF]});
        ++i;
      }
      continue;
    }
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        if (c < 0x20 || c == 0x7F) {  // DEL too, so it is visible
          out.append({'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]});
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out.push_back('"');
}

}  // namespace probemon::detail
