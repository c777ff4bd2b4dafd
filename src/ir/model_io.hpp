// Loads a network from any supported file, by extension.
#pragma once

#include <string>

#include "ir/network.hpp"
#include "ir/weights.hpp"

namespace hao::ir {

/// .onnx -> ONNX import; .yaml, .yml, .json -> hao description. Throws core::InputError for
/// a missing file, an unknown extension or bad content. With `weights`, an ONNX file's
/// weights are taken too (see import_onnx); a description carries none.
Network load_network(const std::string& path, WeightSet* weights = nullptr);

}  // namespace hao::ir
