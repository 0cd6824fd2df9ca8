// SPDX-License-Identifier: BSD-3-Clause
// Writing bytes that a traced process controls (key names, thread names,
// paths, call sites) where a person or a parser reads them: the one escaping
// module of probemon, compiled into the library (the recording's trace
// writer) and into the tool (every view, every message), so all of them show
// the same bytes the same way.
//
//   appendJsonString(out, key);   // "esc\u001b[2J\\xff" inside a JSON document
//   std::string j = utf8Text(key);       // for a JSON library: valid UTF-8
//   std::string t = terminalText(key);   // for a terminal: esc\x1b[2J\xff
//
// Well-formed UTF-8 is kept; each byte that is not part of a well-formed
// UTF-8 sequence (a stray continuation byte, a truncated or overlong
// sequence, a surrogate, anything above U+10FFFF) becomes the four
// characters \xNN, so different bad bytes stay distinguishable where U+FFFD
// would merge them. (A name that contains the text "\xff" itself reads the
// same as one with the byte 0xff: a backslash is not escaped in text, so
// ordinary names read as they are.)
//
// For a terminal, nothing that moves the cursor, rewrites the screen or
// reorders the line gets through: control characters (C0, DEL, C1) are
// shown as \n, \r, \t, \xNN or \u0085, and the Unicode line separators and
// bidirectional controls as \u202e; so a key cannot split a table row, erase
// the screen or pass as another key.
#pragma once

#include <string>
#include <string_view>

namespace probemon::detail {

// Appends `text` to `out` as a quoted JSON string: quotes, backslashes and
// control characters escaped as JSON requires, invalid bytes as \xNN.
void appendJsonString(std::string& out, std::string_view text);

// `text` as valid UTF-8, invalid bytes as \xNN and everything else as is:
// what a JSON library (nlohmann::json) may then escape and dump.
std::string utf8Text(std::string_view text);

// `text` safe to print on a terminal: printable, valid UTF-8, one line.
std::string terminalText(std::string_view text);

}  // namespace probemon::detail
