// Small text helpers shared by readers and reports.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hao::core {

/// "a, b or c": lists valid names in error messages.
std::string join_choices(const std::vector<std::string>& names);
/// Joins with a separator.
std::string join(const std::vector<std::string>& parts, const std::string& sep);
/// Splits at every `separator`; with keep_empty, "a;;b;" gives "a", "", "b", "".
std::vector<std::string> split(const std::string& text, char separator, bool keep_empty = true);
/// `text` without any of the characters in `chars`.
std::string without(const std::string& text, const std::string& chars);
/// Lower-cases ASCII.
std::string to_lower(std::string s);
/// Formats a count with thousands separators: 3504872 -> "3,504,872".
std::string with_commas(std::int64_t value);
/// Fixed-point formatting with `digits` decimals.
std::string fixed(double value, int digits);
/// A number as a stream writes it by default (six significant digits, no trailing zeros):
/// 0.0125 -> "0.0125", 0.5 -> "0.5", 1e-07 -> "1e-07"; for values a user gave.
std::string number(double value);
/// Reads a whole file; throws InputError naming the path when it cannot.
std::string read_file(const std::string& path);
/// Writes (replaces) a file; throws InputError naming the path when it cannot.
void write_file(const std::string& path, const std::string& text);
/// Parses a whole string as an integer / double; returns false on any trailing text.
bool parse_int(const std::string& text, std::int64_t& out);
bool parse_double(const std::string& text, double& out);

}  // namespace hao::core
