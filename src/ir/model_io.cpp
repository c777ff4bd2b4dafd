#include "ir/model_io.hpp"

#include <filesystem>

#include "core/error.hpp"
#include "core/text.hpp"
#include "ir/description_io.hpp"
#include "ir/onnx_import.hpp"

namespace hao::ir {

Network load_network(const std::string& path, WeightSet* weights) {
  const std::string ext = core::to_lower(std::filesystem::path(path).extension().string());
  if (ext == ".onnx") return read_onnx(path, weights);
  if (ext == ".yaml" || ext == ".yml" || ext == ".json") return read_description(path);
  throw core::InputError(path + ": unknown model format '" + ext +
                         "', expected .onnx, .yaml, .yml or .json");
}

}  // namespace hao::ir
