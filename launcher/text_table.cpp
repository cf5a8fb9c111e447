#include "text_table.h"

#include <glib.h>

#include <algorithm>
#include <utility>

namespace airlock {

namespace {

bool needs_escape(gunichar c) {
  if (c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f)) return true;
  GUnicodeType type = g_unichar_type(c);
  return type == G_UNICODE_FORMAT || type == G_UNICODE_LINE_SEPARATOR || type == G_UNICODE_PARAGRAPH_SEPARATOR;
}

// Columns TEXT takes on a terminal; TEXT is already printable_text().
size_t display_width(const std::string& text) {
  size_t width = 0;
  for (const char* p = text.c_str(); *p; p = g_utf8_next_char(p)) {
    gunichar c = g_utf8_get_char(p);
    if (g_unichar_iszerowidth(c)) continue;
    width += g_unichar_iswide(c) ? 2 : 1;
  }
  return width;
}

}  // namespace

std::string printable_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    gunichar c = g_utf8_get_char_validated(p, end - p);
    if (c == static_cast<gunichar>(-1) || c == static_cast<gunichar>(-2)) {
      g_autofree char* byte = g_strdup_printf("\\x%02x", static_cast<unsigned char>(*p));
      out += byte;
      ++p;
      continue;
    }
    const char* next = g_utf8_next_char(p);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (needs_escape(c)) {
      g_autofree char* escaped = c < 0x100 ? g_strdup_printf("\\x%02x", c) : g_strdup_printf("\\u{%04x}", c);
      out += escaped;
    } else {
      out.append(p, next);
    }
    p = next;
  }
  return out;
}

TextTable::TextTable(std::vector<TableColumn> columns) : columns_(std::move(columns)) {
  for (const auto& column : columns_) widths_.push_back(display_width(column.header));
}

void TextTable::add_row(const std::vector<std::string>& cells) {
  std::vector<std::string> row;
  for (size_t i = 0; i < columns_.size(); ++i) {
    std::string cell = i < cells.size() && !cells[i].empty() ? printable_text(cells[i]) : "-";
    widths_[i] = std::max(widths_[i], display_width(cell));
    row.push_back(std::move(cell));
  }
  rows_.push_back(std::move(row));
}

void TextTable::print(FILE* out) {
  auto print_row = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (size_t i = 0; i < cells.size(); ++i) {
      bool last = i + 1 == cells.size();
      std::string padding(widths_[i] - display_width(cells[i]), ' ');
      if (columns_[i].align_right) line += padding + cells[i];
      else line += last ? cells[i] : cells[i] + padding;
      if (!last) line += "  ";
    }
    fprintf(out, "%s\n", line.c_str());
  };
  if (!header_printed_) {
    std::vector<std::string> headers;
    for (const auto& column : columns_) headers.push_back(column.header);
    print_row(headers);
    header_printed_ = true;
  }
  for (const auto& row : rows_) print_row(row);
  rows_.clear();
  fflush(out);
}

}  // namespace airlock
