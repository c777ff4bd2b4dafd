// FINN folding files (folding_config.json): read FINN's designs on hao's FINN node graph, and
// write hao's in FINN's node names.
#pragma once

#include <string>
#include <vector>

#include "hw/dataflow.hpp"

namespace hao::hw {

/// FINN's name for each node of each layer folded as `configs` (LayerCost::nodes), in the graph
/// order FINN's conversion creates them: op type, "_hls" or "_rtl" as FINN v0.10 specializes it
/// by default (ConvolutionInputGenerator, FMPadding, Thresholding and StreamingFIFO in RTL, the
/// rest in HLS), and an ordinal per op type (MVAU_hls_0, ConvolutionInputGenerator_rtl_3, ...).
/// `extras` (nodes outside the layers, read from a file) take their ordinals first where they
/// come first (an input quantizer is Thresholding_rtl_0, the layers' thresholds count on).
std::vector<std::vector<std::string>> finn_node_names(const ir::Network& net,
                                                      const std::vector<LayerConfig>& configs,
                                                      const Device& device,
                                                      const DataflowOptions& options = {},
                                                      const std::vector<NamedNode>& extras = {});

struct FoldingFile {
  std::vector<LayerConfig> configs;  ///< one per layer; FINN's defaults where the file is silent
  /// Nodes of FINN's graph that belong to no layer of hao's network: the input quantizer (a
  /// Thresholding before the first layer), LabelSelect, ChannelwiseOp, FIFOs.
  std::vector<NamedNode> extras;
  std::vector<std::string> notes;  ///< nodes left at FINN's defaults, attributes not costed
  /// Each layer's nodes (LayerCost::nodes) by the file's names for them (MVAU_rtl_3 where the
  /// file specializes to RTL), finn_node_names' where the file leaves a node out.
  std::vector<std::vector<std::string>> node_names;
};

/// Reads FINN's folding_config.json onto the FINN node graph of `net` (see LayerCost::nodes):
/// node names with or without _hls/_rtl, older op names (MatrixVectorActivation, ...), keys PE,
/// SIMD, resType (lut, dsp, auto), ram_style (block, distributed, ultra, auto), mem_mode and a
/// FIFO's depth. Each op type's entries go to that op's nodes in graph order (by ordinal; in
/// file order where an op type comes in both _hls and _rtl). A Thresholding first in the file
/// is the input quantizer; one right after an MVAU/VVAU with a fused activation holds its
/// thresholds (FINN's rtl MVAU). A node the graph lacks, an attribute that is not a legal
/// folding (a PE or SIMD that does not divide its bound, an unknown resType or ram_style)
/// throws core::InputError naming the file, node, attribute and value.
FoldingFile read_folding(const std::string& path, const ir::Network& net, const Device& device,
                         const DataflowOptions& options = {});
/// The same for text already read; `where` names it in messages.
FoldingFile parse_folding(const std::string& text, const std::string& where, const ir::Network& net,
                          const Device& device, const DataflowOptions& options = {});

/// FINN-style folding_config.json text for `configs`, every node of the graph named as
/// finn_node_names does, or as `names` (per layer, per node) when given; `extras` (read from a
/// file) are written back with the attributes they were read with.
std::string folding_json(const ir::Network& net, const std::vector<LayerConfig>& configs,
                         const Device& device, const DataflowOptions& options = {},
                         const std::vector<std::vector<std::string>>& names = {},
                         const std::vector<NamedNode>& extras = {});

}  // namespace hao::hw
