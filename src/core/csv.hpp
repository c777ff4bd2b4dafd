// A strict RFC 4180 CSV reader and writer (quoted fields, doubled quotes, CRLF or LF).
#pragma once

#include <string>
#include <vector>

namespace hao::core {

struct CsvTable {
  std::string path;  ///< for messages
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;  ///< each as wide as the header

  /// Index of column `name`; throws InputError listing the columns when absent.
  std::size_t column(const std::string& name) const;
  /// Whether the table has column `name`.
  bool has_column(const std::string& name) const;
};

/// Parses CSV text whose first record is the header. A record whose width differs from the
/// header's, or an unterminated quote, throws InputError naming `path` and the line.
CsvTable parse_csv(const std::string& text, const std::string& path);
CsvTable read_csv(const std::string& path);

/// Quotes a field when it holds a comma, quote or line break.
std::string csv_field(const std::string& value);
/// One record, fields joined by commas, newline-terminated.
std::string csv_record(const std::vector<std::string>& fields);

}  // namespace hao::core
