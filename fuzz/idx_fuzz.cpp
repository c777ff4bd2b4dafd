// libFuzzer target: the IDX and CIFAR-10 image readers must turn any input into an image set
// or an InputError, never a crash or another exception. The first byte splits the rest into
// an images part and a labels part.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.hpp"
#include "data/images.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::size_t cut = rest.size() * data[0] / 256;
  try {
    const hao::data::ImageSet s =
        hao::data::parse_idx(rest.substr(0, cut), rest.substr(cut), "images", "labels");
    if (s.pixels.size() != s.size() * static_cast<std::size_t>(s.image_bytes())) __builtin_trap();
  } catch (const hao::core::InputError&) {
  }
  try {
    (void)hao::data::parse_cifar10({rest}, {"batch"});
  } catch (const hao::core::InputError&) {
  }
  return 0;
}
