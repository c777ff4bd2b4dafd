// What several commands share: the MODEL argument and output files that may be stdout.
#pragma once

#include <iosfwd>
#include <string>

#include "ir/network.hpp"

namespace hao::cli {

/// Loads MODEL (ONNX or description; empty = the built-in example) and applies --bits when
/// given (wXaY or a per-layer file). Throws core::InputError for bad input.
ir::Network load_model(const std::string& model, const std::string& bits = {});

/// Writes `text` to `path`, or to `out` when `path` is "-".
void write_output(const std::string& path, const std::string& text, std::ostream& out);

}  // namespace hao::cli
