// SPDX-License-Identifier: BSD-3-Clause
// The escaping module (src/escaping/) that the recording and the tool share:
// JSON strings, valid UTF-8 for a JSON library, and text for a terminal.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "escaping/Escaping.h"

namespace probemon::test {
namespace {

using detail::terminalText;
using detail::utf8Text;

std::string json(std::string_view text) {
  std::string out;
  detail::appendJsonString(out, text);
  return out;
}

TEST(JsonString, EscapesWhatJsonRequires) {
  EXPECT_EQ(json("plain"), "\"plain\"");
  EXPECT_EQ(json("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(json("\b\f\n\r\t"), R"("\b\f\n\r\t")");
  EXPECT_EQ(json(std::string_view("\x00\x01\x1f\x7f", 4)), R"("\u0000\u0001\u001f\u007f")");
  EXPECT_EQ(json(""), "\"\"");
}

TEST(JsonString, KeepsValidUtf8AndShowsEachInvalidByte) {
  EXPECT_EQ(json("\xc3\xa9\xe6\x97\xa5\xf0\x9f\x8e\x89"),
            "\"\xc3\xa9\xe6\x97\xa5\xf0\x9f\x8e\x89\"");
  EXPECT_EQ(json("\xff"), R"("\\xff")");
  EXPECT_EQ(json("\x80x"), R"("\\x80x")");                           // stray continuation
  EXPECT_EQ(json("\xe2\x82"), R"("\\xe2\\x82")");                    // truncated
  EXPECT_EQ(json("\xe2\x82z"), R"("\\xe2\\x82z")");                  // cut short by ASCII
  EXPECT_EQ(json("\xc0\xaf"), R"("\\xc0\\xaf")");                    // overlong
  EXPECT_EQ(json("\xe0\x80\xaf"), R"("\\xe0\\x80\\xaf")");           // overlong, 3 bytes
  EXPECT_EQ(json("\xed\xa0\x80"), R"("\\xed\\xa0\\x80")");           // surrogate
  EXPECT_EQ(json("\xf4\x90\x80\x80"), R"("\\xf4\\x90\\x80\\x80")");  // > U+10FFFF
  EXPECT_EQ(json("\xf0\x90\x80\x80"), "\"\xf0\x90\x80\x80\"");       // U+10000 is fine
  // Whatever the bytes, the output parses and round-trips valid input.
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  const auto parsed = nlohmann::json::parse(json(all));
  EXPECT_EQ(parsed.get<std::string>().substr(0, 128), all.substr(0, 128));
}

// What the tool hands to nlohmann::json: two keys that differ only in an
// invalid byte stay two keys (a dump with error_handler replace would make
// both U+FFFD), and the JSON writer and this agree.
TEST(Utf8Text, KeepsKeysThatDifferInInvalidBytesApart) {
  EXPECT_EQ(utf8Text("k\xfe"), "k\\xfe");
  EXPECT_EQ(utf8Text("k\xff"), "k\\xff");
  EXPECT_EQ(utf8Text("caf\xc3\xa9\n"), "caf\xc3\xa9\n");  // valid text, controls too, as is
  for (const std::string text : {"k\xfe", "a\x1b[2J\"\\\xc3\xa9\xed\xa0\x80z"}) {
    EXPECT_EQ(nlohmann::json(utf8Text(text)).dump(), json(text)) << text;
  }
}

TEST(TerminalText, ShowsControlBytesAndInvalidUtf8Visibly) {
  EXPECT_EQ(terminalText("demo.key-1 [x]"), "demo.key-1 [x]");
  EXPECT_EQ(terminalText("esc\x1b[2J\x1b[31mRED"), "esc\\x1b[2J\\x1b[31mRED");
  EXPECT_EQ(terminalText("a\nb\rc\td"), "a\\nb\\rc\\td");
  EXPECT_EQ(terminalText(std::string_view("\x00\x07\x7f", 3)), "\\x00\\x07\\x7f");
  EXPECT_EQ(terminalText("\xff\xc3"), "\\xff\\xc3");
  EXPECT_EQ(terminalText("caf\xc3\xa9 \xe6\x97\xa5"), "caf\xc3\xa9 \xe6\x97\xa5");
  // C1 controls (U+009B is CSI to some terminals), separators, bidi
  // overrides and isolates.
  EXPECT_EQ(terminalText("\xc2\x9b"
                         "31m"),
            "\\u009b31m");
  EXPECT_EQ(terminalText("a\xe2\x80\xae"
                         "b\xe2\x81\xa6"
                         "c\xe2\x80\xa8"),
            "a\\u202eb\\u2066c\\u2028");
  EXPECT_EQ(terminalText("\xc2\xa0\xe2\x80\x94"), "\xc2\xa0\xe2\x80\x94");  // NBSP, em dash
}

TEST(TerminalText, EveryByteComesOutPrintable) {
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  const std::string shown = terminalText(all);
  for (const char c : shown) {
    const auto byte = static_cast<unsigned char>(c);
    EXPECT_TRUE(byte >= 0x20 && byte != 0x7F) << "byte " << int{byte} << " in " << shown;
  }
  EXPECT_EQ(utf8Text(shown), shown);  // valid UTF-8
}

}  // namespace
}  // namespace probemon::test
