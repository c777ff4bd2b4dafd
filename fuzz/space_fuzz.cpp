// libFuzzer target: the search-space YAML reader must turn any input into a space or an
// InputError, never a crash, a hang or another exception.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.hpp"
#include "search/space_spec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    (void)hao::search::parse_space(text, "fuzz.yaml", "data");
  } catch (const hao::core::InputError&) {
  }
  return 0;
}
