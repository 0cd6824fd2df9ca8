// SPDX-License-Identifier: BSD-3-Clause
// Writing any bytes as a JSON string: the one escaping helper of the trace
// writer, for keys, thread and process names and call sites alike.
//
// Quotes, backslashes and control characters are escaped as JSON requires;
// well-formed UTF-8 is copied as is; each byte that is not part of a
// well-formed UTF-8 sequence (a stray continuation byte, a truncated or
// overlong sequence, a surrogate, anything above U+10FFFF) is written as the
// four characters \xNN, so different bad bytes stay distinguishable where
// U+FFFD would merge them. (A key that contains the text "\xff" itself reads
// the same as one with the byte 0xff.)
#pragma once

#include <string>
#include <string_view>

namespace probemon::detail {

// Appends `text` to `out` as a quoted JSON string.
void appendJsonString(std::string& out, std::string_view text);

}  // namespace probemon::detail
