// libFuzzer target: the ONNX importer must turn any bytes into a network (and its weights)
// or an InputError.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.hpp"
#include "ir/onnx_import.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    hao::ir::WeightSet weights;
    (void)hao::ir::import_onnx(bytes, "fuzz.onnx", &weights);
  } catch (const hao::core::InputError&) {
  }
  return 0;
}
