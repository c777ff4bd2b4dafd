#include "core/csv.hpp"

#include "core/error.hpp"
#include "core/text.hpp"

namespace hao::core {

std::size_t CsvTable::column(const std::string& name) const {
  for (std::size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return i;
  throw InputError(path + ": no column '" + name + "'; columns are " + join(header, ", "));
}

bool CsvTable::has_column(const std::string& name) const {
  for (const auto& h : header)
    if (h == name) return true;
  return false;
}

CsvTable parse_csv(const std::string& text, const std::string& path) {
  CsvTable table;
  table.path = path;
  std::vector<std::string> record(1);
  bool quoted = false, field_was_quoted = false;
  std::size_t line = 1, record_line = 1;
  auto finish_record = [&] {
    const bool blank = record.size() == 1 && record[0].empty() && !field_was_quoted;
    if (!blank) {
      if (table.header.empty()) {
        table.header = record;
      } else if (record.size() != table.header.size()) {
        throw InputError(path + ": line " + std::to_string(record_line) + " has " +
                         std::to_string(record.size()) + " fields, the header has " +
                         std::to_string(table.header.size()));
      } else {
        table.rows.push_back(record);
      }
    }
    record.assign(1, "");
    field_was_quoted = false;
    record_line = line;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          record.back() += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        record.back() += c;
      }
      continue;
    }
    if (c == '"' && record.back().empty()) {
      quoted = field_was_quoted = true;
    } else if (c == ',') {
      record.emplace_back();
      field_was_quoted = false;
    } else if (c == '\n') {
      ++line;
      finish_record();
    } else if (c != '\r') {
      record.back() += c;
    }
  }
  if (quoted)
    throw InputError(path + ": line " + std::to_string(record_line) +
                     ": unterminated quoted field");
  finish_record();
  if (table.header.empty()) throw InputError(path + ": empty file, expected a header line");
  return table;
}

CsvTable read_csv(const std::string& path) { return parse_csv(read_file(path), path); }

std::string csv_field(const std::string& value) {
  if (value.find_first_of(",\"\r\n") == std::string::npos) return value;
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string csv_record(const std::vector<std::string>& fields) {
  std::string out;
  for (std::size_t i = 0; i < fields.size(); ++i) out += (i ? "," : "") + csv_field(fields[i]);
  return out + "\n";
}

}  // namespace hao::core
