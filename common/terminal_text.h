// Untrusted text (from an agent, or a name it chose: a path, a host, a
// reason) made safe to put on a terminal: the one implementation behind the
// prompter, the tables of `airlock ps/grants/log` and airlock-request's
// output.
//
// Characters that move the cursor, change the terminal's state, reorder
// text (bidirectional controls) or are invisible, and bytes that are not
// UTF-8, become visible escapes, so the text can paint nothing but itself:
//   \n \t \r           newline, tab, carriage return
//   \xNN               other ASCII controls (C0, DEL) and invalid bytes
//   \uXXXX             the rest: C1 controls (\u009b), format characters
//                      (\u202e, \u200b, \ufeff), line and paragraph
//                      separators, unassigned, private-use and surrogate
//                      code points (more than 4 hex digits above U+FFFF)
//   \\                 a backslash, doubled, so the result reads as itself
//   \"                 a double quote, only when asked (text shown between
//                      quotes)
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace airlock {

// One character of the text as it is put on the terminal (the character
// itself, or its escape), and the columns it takes: 0 for a combining mark,
// 2 for a wide (East Asian) character, 1 otherwise; an escape takes as many
// columns as it has bytes.
struct TerminalCell {
  std::string text;
  int width = 0;
};

// TEXT as cells, one per character or escape. QUOTED also escapes the
// double quote. *ESCAPED (when given) is set, never cleared, when a
// character had to be shown as an escape (newline, tab, backslash and quote
// do not count), which is worth a word to the person reading.
std::vector<TerminalCell> terminal_cells(std::string_view text, bool quoted = false, bool* escaped = nullptr);

// The cells put together, and the columns they take.
std::string cells_text(const std::vector<TerminalCell>& cells);
int cells_width(const std::vector<TerminalCell>& cells);

// TEXT made safe for a terminal (unquoted): cells_text(terminal_cells(TEXT)).
std::string terminal_safe(std::string_view text);

}  // namespace airlock
