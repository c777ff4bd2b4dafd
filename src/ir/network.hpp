// A network: a DAG of layers in topological order, with shape inference and validation.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/layer.hpp"

namespace hao::ir {

class Network {
 public:
  std::string name;
  Shape input;         ///< the input feature map (batch 1)
  int input_bits = 8;  ///< bits of each input element, for the input-transfer bound
  std::vector<Layer> layers;
  /// What the reader changed or ignored that a user should know (e.g. an ONNX file's static
  /// batch size); commands print each as "hao: note: ...".
  std::vector<std::string> notes;

  /// Index of the layer called `name`, or -1.
  int find(const std::string& layer_name) const;
  /// Shape that producer `index` (or kNetworkInput) delivers.
  const Shape& producer_shape(int index) const;
  /// Indices of the layers that read layer `index`'s output.
  std::vector<int> consumers(int index) const;

  std::int64_t total_macs() const;
  std::int64_t total_params_deployed() const;
  std::int64_t total_params_trained() const;
  /// Bits of all weights at their current bit-widths.
  std::int64_t total_weight_bits() const;
};

/// Checks the structure (names, producers in topological order, parameters in range) and
/// computes every layer's input and output shapes. `where` names the source in messages.
/// Throws core::InputError listing every problem found.
void infer_shapes(Network& net, const std::string& where);

/// Adds a note for each layer FINN v0.10 would not build as hao prices it: an upsample of a
/// map that is not square or not scaled alike in both dimensions (FINN's
/// UpsampleNearestNeighbour takes square maps, or 1-D maps along H), and a transposed conv
/// (a pixel_pad and the conv reading it) whose kernel is not square or whose padding differs
/// by side (FINN's ConvTranspose lowering pads every side alike and ignores output_padding).
void note_finn_limits(Network& net);

/// Sets Layer::fused_into, fused_after_add, has_fused_act, reads_accumulator and fanout from the
/// graph's structure (infer_shapes calls it).
void mark_fused_activations(Network& net);

}  // namespace hao::ir
