// TextTable: rows of text for a person at a terminal, in columns aligned by
// their width on screen. Every cell is shown through terminal_cells()
// (terminal_text.h), so that a name an agent chose (a path, a host) cannot
// move the cursor, retitle the terminal or reverse the text around it.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "terminal_text.h"

namespace airlock {

struct TableColumn {
  std::string header;
  bool align_right = false;  // numbers
};

class TextTable {
 public:
  explicit TextTable(std::vector<TableColumn> columns);

  // CELLS has one entry per column; an empty cell shows as "-".
  void add_row(const std::vector<std::string>& cells);

  bool empty() const { return rows_.empty(); }

  // Prints the header, the first time, and the rows added since the last
  // call, then forgets them. Widths only grow from call to call, so the
  // batches of a followed log stay aligned as long as they can.
  void print(FILE* out);

 private:
  std::vector<TableColumn> columns_;
  std::vector<int> widths_;
  std::vector<std::vector<TerminalCell>> rows_;
  bool header_printed_ = false;
};

}  // namespace airlock
