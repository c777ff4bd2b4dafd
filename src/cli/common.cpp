#include "cli/common.hpp"

#include <ostream>

#include "cli/builtin_example.hpp"
#include "core/text.hpp"
#include "ir/bits.hpp"
#include "ir/description_io.hpp"
#include "ir/model_io.hpp"

namespace hao::cli {

ir::Network load_model(const std::string& model, const std::string& bits) {
  ir::Network net = model.empty()
                        ? ir::parse_description(builtin_example_yaml(), "built-in example")
                        : ir::load_network(model);
  if (!bits.empty()) {
    ir::apply_bits(net, bits);
    ir::infer_shapes(net, bits);
  }
  return net;
}

void write_output(const std::string& path, const std::string& text, std::ostream& out) {
  if (path == "-")
    out << text;
  else
    core::write_file(path, text);
}

}  // namespace hao::cli
