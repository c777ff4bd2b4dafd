#include "core/json_file.hpp"

#include "core/error.hpp"
#include "core/text.hpp"

namespace hao::core {

nlohmann::json parse_json(const std::string& text, const std::string& where) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError(where + ": not valid JSON (byte " + std::to_string(e.byte) + ")");
  } catch (const nlohmann::json::exception& e) {
    // e.g. out_of_range 406, a number too large for a double ("1e400"); drop the
    // "[json.exception...] " prefix.
    std::string what = e.what();
    if (const auto end = what.find("] "); what.rfind('[', 0) == 0 && end != std::string::npos)
      what.erase(0, end + 2);
    throw InputError(where + ": not valid JSON (" + what + ")");
  }
}

nlohmann::json read_json(const std::string& path) { return parse_json(read_file(path), path); }

}  // namespace hao::core
