// Search spaces as YAML files users can copy and edit (examples/spaces/): a generative
// MobileNetV2-like space (kind mbv2) or a tabular benchmark (kind tabular).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "search/tabular.hpp"

namespace hao::search {

struct Mbv2Spec {
  std::string data = "fashion-mnist";
  int input_channels = 1, input_height = 28, input_width = 28, input_bits = 8;
  int classes = 10;
  int stem_channels = 16, stem_kernel = 3, stem_stride = 1, stem_bits = 8;
  struct Stage {
    int channels = 16, stride = 1;
  };
  std::vector<Stage> stages;
  int head_channels = 128;
  int classifier_bits = 8;
  std::vector<int> depth, kernel, expansion, bits;
  std::vector<double> width;
};

struct SpaceSpec {
  std::string name;
  std::string kind;     ///< "mbv2" or "tabular"
  std::string source;   ///< the file, or "built-in NAME"
  Mbv2Spec mbv2;        ///< kind mbv2
  TabularSource table;  ///< kind tabular (files resolved against the data folder)
};

/// Names of the built-in spaces: fmnist-mbv2, nb201, anb.
std::vector<std::string> builtin_space_names();

/// A built-in space by name, or a YAML file. Tabular files are resolved against `data_dir`
/// unless absolute. Unknown keys, missing or empty choice lists, values out of range: one
/// InputError naming the file, the key and the value.
SpaceSpec load_space(const std::string& name_or_path, const std::string& data_dir);
/// The YAML text load_space parses (a built-in space's or the file's); the same InputError.
std::string space_yaml(const std::string& name_or_path);
/// A built-in space's YAML; nullopt for any other name.
std::optional<std::string> builtin_space(const std::string& name);
SpaceSpec parse_space(const std::string& yaml, const std::string& where,
                      const std::string& data_dir);

}  // namespace hao::search
