// Loads a network from any supported file, by extension.
#pragma once

#include <string>

#include "ir/network.hpp"

namespace hao::ir {

/// .onnx -> ONNX import; .yaml, .yml, .json -> hao description. Throws core::InputError for
/// a missing file, an unknown extension or bad content.
Network load_network(const std::string& path);

}  // namespace hao::ir
