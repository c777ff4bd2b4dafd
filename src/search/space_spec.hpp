// Search spaces as YAML files users can copy and edit (examples/spaces/): a generative
// MobileNetV2-like space (kind mbv2), FLASH's DenseNet-type space (kind densenet) or a tabular
// benchmark (kind tabular).
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "search/tabular.hpp"

namespace hao::search {

/// The block operators an mbv2 space's pools may name (MobileNetV3's variants of the inverted
/// residual block), from the plainest: "mbconv" (ReLU6), "mbconv-hswish" (hard-swish after the
/// expand and depthwise convs), "mbconv-se" (squeeze-excite on the depthwise output: global
/// pooling, 1x1 conv to max(8, hidden / 4) channels, ReLU, 1x1 conv back, hard-sigmoid, scale),
/// "mbconv-se-hswish" (both).
const std::vector<std::string>& mbv2_operators();

struct Mbv2Spec {
  std::string data = "fashion-mnist";
  int input_channels = 1, input_height = 28, input_width = 28, input_bits = 8;
  int classes = 10;
  int stem_channels = 16, stem_kernel = 3, stem_stride = 1, stem_bits = 8;
  struct Stage {
    int channels = 16, stride = 1;
    /// The stage's block operator pool; empty: the space's `operators`.
    std::vector<std::string> operators;
  };
  std::vector<Stage> stages;
  int head_channels = 128;
  int classifier_bits = 8;
  std::vector<int> depth, kernel, expansion, bits;
  std::vector<double> width;
  /// The block operator pool of every stage without its own, ordered from the plainest to the
  /// richest (the sandwich rule's largest network takes the last, netadapt shrinks toward the
  /// first); each operator has its own weights in the supernet.
  std::vector<std::string> operators{"mbconv"};
  /// Stage s's pool.
  const std::vector<std::string>& pool(std::size_t s) const {
    return stages[s].operators.empty() ? operators : stages[s].operators;
  }
  /// Whether some stage's pool has more than one operator (a genotype then chooses one per
  /// block).
  bool chooses_operators() const {
    for (std::size_t s = 0; s < stages.size(); ++s)
      if (pool(s).size() > 1) return true;
    return false;
  }
  /// The supernet's default training length in steps, from a single-operator space's: times
  /// the largest pool. Members draw a block's operator uniformly, so each operator's weights
  /// train in 1 / K of the drawn members' blocks; K times the steps give each operator about
  /// the updates one operator gets alone (fmnist-mbv3, 12 random members at 600 + 150 steps:
  /// 29.9% mean validation accuracy, at twice the steps 50.4%; fmnist-mbv2's 69.0%).
  long supernet_steps(long single_operator_steps) const {
    std::size_t k = 1;
    for (std::size_t s = 0; s < stages.size(); ++s) k = std::max(k, pool(s).size());
    return single_operator_steps * static_cast<long>(k);
  }
};

/// FLASH's DenseNet-type space (NN-Mass's CNNs): `cells` cells, the first at the input's size
/// and each next after a stride-2 transition. A cell is a transition conv (k x k) to its width w,
/// then `depth` k x k convs of w channels; layer j reads its predecessor and, concatenated with
/// it, the outputs of the `skips` layers before that (as many as there are, the transition's
/// included): long-range links of w channels each. Global pooling and a classifier follow.
/// Choice lists are kept in ascending order (the genotype's indices are ordinal: SHGO walks them).
struct DenseSpec {
  std::string data = "fashion-mnist";
  int input_channels = 1, input_height = 28, input_width = 28, input_bits = 8;
  int classes = 10;
  int cells = 3;
  int kernel = 3;
  int classifier_bits = 8;
  std::vector<int> width, depth, skips, bits;
};

/// AutoShrink's node-DAG cell space (Zhang et al., AAAI 2020): a cell of `nodes.size()` nodes,
/// node i (from 1) the operator nodes[i-1] over the concatenation of its predecessors' outputs
/// (0 = the cell input), in ir::expand_autoshrink's macro network; a genotype is which of the
/// nodes' possible input edges (i -> j, i < j) are present. The fully connected cell is the
/// largest; AutoShrink's strategy shrinks it edge by edge.
struct AutoShrinkSpec {
  std::string data = "fashion-mnist";
  int input_channels = 1, input_height = 28, input_width = 28;
  int classes = 10;
  std::vector<std::string> nodes;  ///< sep3, sep5, conv1 or conv3 each
  int cells_per_stage = 1;
  int bits = 8;  ///< every layer's weights and activations
};

struct SpaceSpec {
  std::string name;
  std::string kind;           ///< "mbv2", "densenet", "autoshrink" or "tabular"
  std::string source;         ///< the file, or "built-in NAME"
  Mbv2Spec mbv2;              ///< kind mbv2
  DenseSpec dense;            ///< kind densenet
  AutoShrinkSpec autoshrink;  ///< kind autoshrink
  TabularSource table;        ///< kind tabular (files resolved against the data folder)
};

/// Names of the built-in spaces: fmnist-mbv2, fmnist-mbv3, fmnist-densenet, fmnist-autoshrink,
/// nb201, anb.
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
