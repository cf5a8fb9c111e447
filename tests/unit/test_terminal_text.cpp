#include "terminal_text.h"

#include <glib.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace airlock {
namespace {

using namespace std::string_literals;

std::string quoted(std::string_view text) { return cells_text(terminal_cells(text, true)); }

bool escapes(std::string_view text) {
  bool escaped = false;
  terminal_cells(text, false, &escaped);
  return escaped;
}

TEST(TerminalText, LeavesPlainTextAlone) {
  EXPECT_EQ(terminal_safe(""), "");
  EXPECT_EQ(terminal_safe("/home/alice/src/project (read)"), "/home/alice/src/project (read)");
  EXPECT_EQ(terminal_safe("café naïve Ωmega"), "café naïve Ωmega");
  EXPECT_EQ(terminal_safe("say \"hi\""), "say \"hi\"");
  EXPECT_FALSE(escapes("/home/alice/src/project"));
}

TEST(TerminalText, EscapesEscapeSequences) {
  // CSI: clear the screen, move the cursor; SGR colours.
  EXPECT_EQ(terminal_safe("\x1b[2J\x1b[H"), "\\x1b[2J\\x1b[H");
  EXPECT_EQ(terminal_safe("\x1b[31mred\x1b[0m"), "\\x1b[31mred\\x1b[0m");
  // OSC: retitle the terminal, ended by BEL or by ST (ESC \).
  EXPECT_EQ(terminal_safe("\x1b]0;pwned\x07"), "\\x1b]0;pwned\\x07");
  EXPECT_EQ(terminal_safe("\x1b]8;;http://evil\x1b\\link"), "\\x1b]8;;http://evil\\x1b\\\\link");
  EXPECT_TRUE(escapes("\x1b[2J"));
}

TEST(TerminalText, EscapesBelAndOtherAsciiControls) {
  EXPECT_EQ(terminal_safe("ding\x07"), "ding\\x07");
  EXPECT_EQ(terminal_safe("a\bb"), "a\\x08b");
  EXPECT_EQ(terminal_safe("\x7f"), "\\x7f");
  EXPECT_EQ(terminal_safe("nul\0byte"s), "nul\\x00byte");
}

TEST(TerminalText, EscapesC1Controls) {
  // U+009B is CSI on its own to a terminal that reads C1 controls; U+0085 NEL.
  EXPECT_EQ(terminal_safe("\u009b2J"), "\\u009b2J");
  EXPECT_EQ(terminal_safe("a\u0085b"), "a\\u0085b");
  EXPECT_TRUE(escapes("\u009b"));
}

TEST(TerminalText, EscapesBidiAndInvisibleCharacters) {
  // RIGHT-TO-LEFT OVERRIDE: "evil\u202etxt.exe" would show as "evilexe.txt".
  EXPECT_EQ(terminal_safe("evil\u202etxt.exe"), "evil\\u202etxt.exe");
  EXPECT_EQ(terminal_safe("a\u2066b\u2069"), "a\\u2066b\\u2069");  // isolates
  EXPECT_EQ(terminal_safe("zero\u200bwidth"), "zero\\u200bwidth");
  EXPECT_EQ(terminal_safe("\ufeffbom"), "\\ufeffbom");
  EXPECT_EQ(terminal_safe("line\u2028para\u2029"), "line\\u2028para\\u2029");
  EXPECT_EQ(terminal_safe("private\ue000"), "private\\ue000");
  EXPECT_TRUE(escapes("\u202e"));
  EXPECT_TRUE(escapes("\u200b"));
}

TEST(TerminalText, EscapesInvalidUtf8ByteByByte) {
  EXPECT_EQ(terminal_safe("bad\xff\xfe"), "bad\\xff\\xfe");
  EXPECT_EQ(terminal_safe("\xc3(x"), "\\xc3(x");             // a lead byte without its continuation
  EXPECT_EQ(terminal_safe("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // an encoded surrogate
  EXPECT_EQ(terminal_safe("cut \xe2\x82"), "cut \\xe2\\x82");  // truncated at the end
  EXPECT_EQ(terminal_safe("\xc2\x9b"), "\\u009b");             // valid UTF-8 C1, as a character
  EXPECT_TRUE(escapes("\xff"));
}

TEST(TerminalText, DoublesTheBackslash) {
  EXPECT_EQ(terminal_safe("C:\\Users"), "C:\\\\Users");
  // A literal "\x1b" in the text cannot pass for an escaped ESC.
  EXPECT_EQ(terminal_safe("\\x1b"), "\\\\x1b");
  EXPECT_NE(terminal_safe("\\x1b"), terminal_safe("\x1b"));
  EXPECT_FALSE(escapes("\\"));
}

TEST(TerminalText, EscapesNewlineTabAndCarriageReturn) {
  EXPECT_EQ(terminal_safe("one\ntwo\tthree\rfour"), "one\\ntwo\\tthree\\rfour");
  // Newline and tab are ordinary in a reason; a carriage return is not.
  EXPECT_FALSE(escapes("one\ntwo\tthree"));
  EXPECT_TRUE(escapes("one\rtwo"));
}

TEST(TerminalText, QuotesTheDoubleQuoteOnlyWhenAsked) {
  EXPECT_EQ(terminal_safe("say \"allow\""), "say \"allow\"");
  EXPECT_EQ(quoted("say \"allow\""), "say \\\"allow\\\"");
  EXPECT_EQ(quoted("back\\slash"), "back\\\\slash");
  EXPECT_EQ(quoted("it's"), "it's");
  bool escaped = false;
  terminal_cells("\"", true, &escaped);
  EXPECT_FALSE(escaped);
}

TEST(TerminalText, EscapedIsSetNeverCleared) {
  bool escaped = true;
  terminal_cells("plain", false, &escaped);
  EXPECT_TRUE(escaped);
}

TEST(TerminalText, CellsCarryTheirColumns) {
  auto cells = terminal_cells("a\x1b" "b");
  ASSERT_EQ(cells.size(), 3u);
  EXPECT_EQ(cells[0].text, "a");
  EXPECT_EQ(cells[0].width, 1);
  EXPECT_EQ(cells[1].text, "\\x1b");  // an escape is one cell, as wide as it is long
  EXPECT_EQ(cells[1].width, 4);
  EXPECT_EQ(cells[2].width, 1);
  EXPECT_EQ(cells_width(cells), 6);

  auto escaped = terminal_cells("\u202e");
  ASSERT_EQ(escaped.size(), 1u);
  EXPECT_EQ(escaped[0].width, 6);
}

TEST(TerminalText, WideCharactersTakeTwoColumns) {
  auto cells = terminal_cells("日本語");
  ASSERT_EQ(cells.size(), 3u);
  for (const auto& cell : cells) EXPECT_EQ(cell.width, 2);
  EXPECT_EQ(cells_text(cells), "日本語");
  EXPECT_EQ(cells_width(cells), 6);
  EXPECT_EQ(cells_width(terminal_cells("ab한글")), 6);
  EXPECT_EQ(cells_width(terminal_cells("ｆｕｌｌ")), 8);  // fullwidth forms
}

TEST(TerminalText, CombiningMarksTakeNoColumn) {
  auto cells = terminal_cells("e\u0301");  // e + COMBINING ACUTE ACCENT
  ASSERT_EQ(cells.size(), 2u);
  EXPECT_EQ(cells[1].width, 0);
  EXPECT_EQ(cells_width(cells), 1);
  EXPECT_EQ(terminal_safe("e\u0301"), "e\u0301");
}

TEST(TerminalText, EveryResultIsValidUtf8WithoutControls) {
  const std::string nasty = "\x1b[31m\xff\u202e\u009b\x07\n\t\r\\\"\xc3\u200b日本";
  for (bool quote : {false, true}) {
    std::string text = cells_text(terminal_cells(nasty, quote));
    EXPECT_TRUE(g_utf8_validate(text.data(), static_cast<gssize>(text.size()), nullptr)) << text;
    for (unsigned char c : text) EXPECT_TRUE(c >= 0x20 && c != 0x7f) << text;
    EXPECT_EQ(text.find("\u202e"), std::string::npos);
    EXPECT_EQ(text.find("\u009b"), std::string::npos);
  }
}

}  // namespace
}  // namespace airlock
