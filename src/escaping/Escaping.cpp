// SPDX-License-Identifier: BSD-3-Clause
// Escaping untrusted bytes for JSON and terminals (Escaping.h).
#include "Escaping.h"

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

// What text is made of, for the escapers: single ASCII bytes, well-formed
// UTF-8 sequences of 2 to 4 bytes, and bytes that are neither.
enum class Piece { kAscii, kUtf8, kInvalid };

template <typename Visit>
void forEachPiece(std::string_view text, Visit&& visit) {
  for (std::size_t i = 0; i < text.size();) {
    std::size_t length = 1;
    Piece piece = Piece::kAscii;
    if (static_cast<std::uint8_t>(text[i]) >= 0x80) {
      length = utf8SequenceLength(text, i);
      piece = length != 0 ? Piece::kUtf8 : Piece::kInvalid;
      if (length == 0) length = 1;
    }
    visit(piece, text.substr(i, length));
    i += length;
  }
}

// "\xNN" for the byte c.
void appendByteEscape(std::string& out, std::uint8_t c) {
  out.append({'\\', 'x', kHex[c >> 4], kHex[c & 0xF]});
}

// "\u" and four hex digits, for a code point below U+10000.
void appendCodePointEscape(std::string& out, char32_t c) {
  out.append({'\\', 'u', kHex[(c >> 12) & 0xF], kHex[(c >> 8) & 0xF], kHex[(c >> 4) & 0xF],
              kHex[c & 0xF]});
}

char32_t codePoint(std::string_view sequence) {
  const auto byte = [&](std::size_t k) { return static_cast<std::uint8_t>(sequence[k]); };
  // The lead byte keeps 5, 4 or 3 bits for sequences of 2, 3 or 4 bytes.
  char32_t c = byte(0) & (0x7F >> sequence.size());
  for (std::size_t k = 1; k < sequence.size(); ++k) c = (c << 6) | (byte(k) & 0x3F);
  return c;
}

// Characters a terminal acts on rather than shows: the C1 controls (some
// terminals take U+009B as CSI), the line and paragraph separators, and the
// bidirectional marks, embeddings, overrides and isolates that reorder what
// follows them.
bool movesText(char32_t c) {
  return (c >= 0x80 && c <= 0x9F) || c == 0x200E || c == 0x200F || (c >= 0x2028 && c <= 0x202E) ||
         (c >= 0x2066 && c <= 0x2069);
}

}  // namespace

void appendJsonString(std::string& out, std::string_view text) {
  out.push_back('"');
  forEachPiece(text, [&](Piece piece, std::string_view bytes) {
    const auto c = static_cast<std::uint8_t>(bytes[0]);
    if (piece == Piece::kUtf8) {
      out.append(bytes);
      return;
    }
    if (piece == Piece::kInvalid) {
      out.push_back('\\');  // the backslash of \xNN, escaped for JSON
      appendByteEscape(out, c);
      return;
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
          appendCodePointEscape(out, c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  });
  out.push_back('"');
}

std::string utf8Text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  forEachPiece(text, [&](Piece piece, std::string_view bytes) {
    if (piece == Piece::kInvalid) {
      appendByteEscape(out, static_cast<std::uint8_t>(bytes[0]));
    } else {
      out.append(bytes);
    }
  });
  return out;
}

std::string terminalText(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  forEachPiece(text, [&](Piece piece, std::string_view bytes) {
    const auto c = static_cast<std::uint8_t>(bytes[0]);
    switch (piece) {
      case Piece::kUtf8:
        if (const char32_t point = codePoint(bytes); movesText(point)) {
          appendCodePointEscape(out, point);
        } else {
          out.append(bytes);
        }
        return;
      case Piece::kInvalid:
        appendByteEscape(out, c);
        return;
      case Piece::kAscii:
        if (c == '\n') {
          out.append("\\n");
        } else if (c == '\r') {
          out.append("\\r");
        } else if (c == '\t') {
          out.append("\\t");
        } else if (c < 0x20 || c == 0x7F) {
          appendByteEscape(out, c);
        } else {
          out.push_back(static_cast<char>(c));
        }
        return;
    }
  });
  return out;
}

}  // namespace probemon::detail
