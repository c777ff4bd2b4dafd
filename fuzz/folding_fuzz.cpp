// libFuzzer target: the FINN folding file reader (hao map --folding FILE) must fold the built-in
// network's FINN nodes or throw an InputError, never crash, hang or throw another exception.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.hpp"
#include "core/text.hpp"
#include "hw/folding_io.hpp"
#include "ir/description_io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const hao::ir::Network kNet =
      hao::ir::parse_description(hao::core::read_file(HAO_FUZZ_NETWORK), HAO_FUZZ_NETWORK);
  static const hao::hw::Device kDevice = hao::hw::load_device("zu3eg");
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const hao::hw::FoldingFile f = hao::hw::parse_folding(text, "fuzz.json", kNet, kDevice);
    (void)hao::hw::evaluate_dataflow(kNet, f.configs, kDevice, {}, f.extras);
    // Written back under the file's names, extras where the file had them.
    (void)hao::hw::folding_json(kNet, f.configs, kDevice, {}, f.node_names, f.extras);
  } catch (const hao::core::InputError&) {
  }
  return 0;
}
