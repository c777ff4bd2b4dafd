// Plain-text tables with aligned columns.
#pragma once

#include <string>
#include <vector>

namespace hao::report {

class Table {
 public:
  enum class Align { kLeft, kRight };
  /// Columns with their alignment.
  void add_column(std::string header, Align align = Align::kRight);
  void add_row(std::vector<std::string> cells);
  /// A horizontal rule before the next row.
  void add_rule();
  std::string render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<Align> aligns_;
  std::vector<std::vector<std::string>> rows_;  // an empty row is a rule
};

}  // namespace hao::report
