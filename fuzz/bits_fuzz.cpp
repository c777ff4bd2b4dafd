// libFuzzer target: the per-layer bits file reader (hao map/train --bits FILE) must set the
// built-in network's bits or throw an InputError, never crash, hang or throw another exception.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.hpp"
#include "core/text.hpp"
#include "ir/bits.hpp"
#include "ir/description_io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const hao::ir::Network kNet =
      hao::ir::parse_description(hao::core::read_file(HAO_FUZZ_NETWORK), HAO_FUZZ_NETWORK);
  const std::string text(reinterpret_cast<const char*>(data), size);
  hao::ir::Network net = kNet;
  try {
    hao::ir::apply_bits_text(net, text, "fuzz.yaml");
  } catch (const hao::core::InputError&) {
  }
  return 0;
}
