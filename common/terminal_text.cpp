#include "terminal_text.h"

#include <glib.h>

#include <utility>

namespace airlock {

namespace {

bool needs_escape(gunichar c) {
  if (c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f)) return true;
  switch (g_unichar_type(c)) {
    case G_UNICODE_CONTROL:
    case G_UNICODE_FORMAT:  // bidi overrides and isolates, zero-width joiners, BOM
    case G_UNICODE_UNASSIGNED:
    case G_UNICODE_PRIVATE_USE:
    case G_UNICODE_SURROGATE:
    case G_UNICODE_LINE_SEPARATOR:
    case G_UNICODE_PARAGRAPH_SEPARATOR:
      return true;
    case G_UNICODE_LOWERCASE_LETTER:
    case G_UNICODE_MODIFIER_LETTER:
    case G_UNICODE_OTHER_LETTER:
    case G_UNICODE_TITLECASE_LETTER:
    case G_UNICODE_UPPERCASE_LETTER:
    case G_UNICODE_SPACING_MARK:
    case G_UNICODE_ENCLOSING_MARK:
    case G_UNICODE_NON_SPACING_MARK:
    case G_UNICODE_DECIMAL_NUMBER:
    case G_UNICODE_LETTER_NUMBER:
    case G_UNICODE_OTHER_NUMBER:
    case G_UNICODE_CONNECT_PUNCTUATION:
    case G_UNICODE_DASH_PUNCTUATION:
    case G_UNICODE_CLOSE_PUNCTUATION:
    case G_UNICODE_FINAL_PUNCTUATION:
    case G_UNICODE_INITIAL_PUNCTUATION:
    case G_UNICODE_OTHER_PUNCTUATION:
    case G_UNICODE_OPEN_PUNCTUATION:
    case G_UNICODE_CURRENCY_SYMBOL:
    case G_UNICODE_MODIFIER_SYMBOL:
    case G_UNICODE_MATH_SYMBOL:
    case G_UNICODE_OTHER_SYMBOL:
    case G_UNICODE_SPACE_SEPARATOR:
      return false;
    default:
      return true;
  }
}

TerminalCell ascii_cell(std::string text) {
  int width = static_cast<int>(text.size());
  return {std::move(text), width};
}

}  // namespace

std::vector<TerminalCell> terminal_cells(std::string_view text, bool quoted, bool* escaped) {
  std::vector<TerminalCell> cells;
  bool any = false;
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    gunichar c = g_utf8_get_char_validated(p, end - p);
    if (c == static_cast<gunichar>(-1) || c == static_cast<gunichar>(-2)) {
      g_autofree char* escape = g_strdup_printf("\\x%02x", static_cast<unsigned>(static_cast<unsigned char>(*p)));
      cells.push_back(ascii_cell(escape));
      any = true;
      ++p;
      continue;
    }
    const char* next = g_utf8_next_char(p);
    if (c == '\\' || (quoted && c == '"')) {
      cells.push_back(ascii_cell(std::string("\\") + static_cast<char>(c)));
    } else if (needs_escape(c)) {
      g_autofree char* escape = c == '\n'   ? g_strdup("\\n")
                                : c == '\t' ? g_strdup("\\t")
                                : c == '\r' ? g_strdup("\\r")
                                : c < 0x80  ? g_strdup_printf("\\x%02x", c)
                                            : g_strdup_printf("\\u%04x", c);
      cells.push_back(ascii_cell(escape));
      any = any || (c != '\n' && c != '\t');
    } else {
      int width = g_unichar_iszerowidth(c) ? 0 : g_unichar_iswide(c) ? 2 : 1;
      cells.push_back({std::string(p, next), width});
    }
    p = next;
  }
  if (escaped) *escaped = *escaped || any;
  return cells;
}

std::string cells_text(const std::vector<TerminalCell>& cells) {
  std::string text;
  for (const auto& cell : cells) text += cell.text;
  return text;
}

int cells_width(const std::vector<TerminalCell>& cells) {
  int width = 0;
  for (const auto& cell : cells) width += cell.width;
  return width;
}

std::string terminal_safe(std::string_view text) { return cells_text(terminal_cells(text)); }

}  // namespace airlock
