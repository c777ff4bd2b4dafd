// Reading a JSON file with the error every command gives for it.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace hao::core {

/// Parses the file at `path`. Throws InputError naming the file (unreadable, or not valid
/// JSON with the byte where parsing stopped).
nlohmann::json read_json(const std::string& path);

}  // namespace hao::core
