#include "text_table.h"

#include <algorithm>
#include <utility>

namespace airlock {

namespace {

// TEXT as one cell of the table: made safe, with the columns it takes.
TerminalCell table_cell(std::string_view text) {
  auto cells = terminal_cells(text);
  return {cells_text(cells), cells_width(cells)};
}

}  // namespace

TextTable::TextTable(std::vector<TableColumn> columns) : columns_(std::move(columns)) {
  for (const auto& column : columns_) widths_.push_back(table_cell(column.header).width);
}

void TextTable::add_row(const std::vector<std::string>& cells) {
  std::vector<TerminalCell> row;
  for (size_t i = 0; i < columns_.size(); ++i) {
    TerminalCell cell = table_cell(i < cells.size() && !cells[i].empty() ? cells[i] : "-");
    widths_[i] = std::max(widths_[i], cell.width);
    row.push_back(std::move(cell));
  }
  rows_.push_back(std::move(row));
}

void TextTable::print(FILE* out) {
  auto print_row = [&](const std::vector<TerminalCell>& cells) {
    std::string line;
    for (size_t i = 0; i < cells.size(); ++i) {
      bool last = i + 1 == cells.size();
      std::string padding(static_cast<size_t>(widths_[i] - cells[i].width), ' ');
      if (columns_[i].align_right) line += padding + cells[i].text;
      else line += last ? cells[i].text : cells[i].text + padding;
      if (!last) line += "  ";
    }
    fprintf(out, "%s\n", line.c_str());
  };
  if (!header_printed_) {
    std::vector<TerminalCell> headers;
    for (const auto& column : columns_) headers.push_back(table_cell(column.header));
    print_row(headers);
    header_printed_ = true;
  }
  for (const auto& row : rows_) print_row(row);
  rows_.clear();
  fflush(out);
}

}  // namespace airlock
