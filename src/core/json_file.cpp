#include "core/json_file.hpp"

#include "core/error.hpp"
#include "core/text.hpp"

namespace hao::core {

nlohmann::json read_json(const std::string& path) {
  try {
    return nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError(path + ": not valid JSON (byte " + std::to_string(e.byte) + ")");
  }
}

}  // namespace hao::core
