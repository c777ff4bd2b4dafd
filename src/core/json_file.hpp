// Reading a JSON file with the error every command gives for it.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace hao::core {

/// Parses the file at `path`. Throws InputError naming the file (unreadable, or not valid
/// JSON with the byte where parsing stopped, or a number no double holds).
nlohmann::json read_json(const std::string& path);

/// The same for text already read; `where` names it in messages.
nlohmann::json parse_json(const std::string& text, const std::string& where);

}  // namespace hao::core
