// libFuzzer target: the YAML/JSON network description reader must turn any input into a
// network or an InputError, never a crash, a hang or another exception.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.hpp"
#include "ir/description_io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    hao::ir::Network net = hao::ir::parse_description(text, "fuzz.yaml");
    (void)hao::ir::to_yaml(net);
  } catch (const hao::core::InputError&) {
  }
  return 0;
}
