// FINN folding files (folding_config.json): read a given design, write hao's.
#pragma once

#include <string>
#include <vector>

#include "hw/dataflow.hpp"

namespace hao::hw {

/// Node name FINN gives layer `index` of `net`: MVAU_hls_i for the i-th conv or fc,
/// VVAU_hls_i for the i-th depthwise conv, and FINN's streaming nodes for the rest
/// (StreamingMaxPool_hls_i, Pool_hls_i, GlobalAccPool_hls_i, AddStreams_hls_i,
/// ChannelwiseOp_hls_i, StreamingConcat_hls_i, Thresholding_hls_i), counted per kind.
std::vector<std::string> finn_node_names(const ir::Network& net);

struct FoldingFile {
  std::vector<LayerConfig> configs;  ///< one per layer; PE = SIMD = 1 where the file is silent
  std::vector<std::string> notes;    ///< nodes hao does not model, layers the file left out
};

/// Reads FINN's folding_config.json. Accepts MatrixVectorActivation_i, MVAU_hls_i, MVAU_rtl_i
/// (the i-th conv or fc layer in topological order), VectorVectorActivation_i, VVAU_hls_i,
/// VVAU_rtl_i (the i-th depthwise layer) and the streaming names above (with or without
/// _hls/_rtl or _Batch), with keys PE, SIMD, resType (lut|dsp|auto) and ram_style. Other
/// FINN nodes (FIFOs, width converters, input generators) are noted and skipped. ram_style
/// block, distributed or ultra is costed as BRAM, LUTRAM or UltraRAM; auto, or none, as
/// auto_weight_memory (Vivado's placement by depth). A value that is not a legal folding
/// throws core::InputError naming the file, node, key and value.
FoldingFile read_folding(const std::string& path, const ir::Network& net, const Device& device);

/// FINN-style folding_config.json text for `configs`.
std::string folding_json(const ir::Network& net, const std::vector<LayerConfig>& configs);

}  // namespace hao::hw
