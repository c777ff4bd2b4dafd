// libFuzzer target: the sensitivity file reader (hao quantize --sensitivity) must give Omega
// for the built-in network or throw an InputError, never crash, hang or throw another
// exception; what it gives is finite and never negative.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.hpp"
#include "core/json_file.hpp"
#include "core/text.hpp"
#include "ir/description_io.hpp"
#include "ir/sensitivity_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const hao::ir::Network kNet =
      hao::ir::parse_description(hao::core::read_file(HAO_FUZZ_NETWORK), HAO_FUZZ_NETWORK);
  static const std::vector<hao::ir::BitWidths> kChoices = {{2, 2}, {4, 4}, {8, 8}, {2, 4}};
  std::vector<bool> choosable(kNet.layers.size());
  for (std::size_t l = 0; l < choosable.size(); ++l) choosable[l] = kNet.layers[l].has_weights();
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    std::string note;
    const auto omega = hao::ir::read_omega(hao::core::parse_json(text, "fuzz.json"), "fuzz.json",
                                           kNet, kChoices, choosable, note);
    for (const auto& layer : omega)
      for (double v : layer)
        if (!(std::isfinite(v) && v >= 0)) __builtin_trap();
  } catch (const hao::core::InputError&) {
  }
  return 0;
}
