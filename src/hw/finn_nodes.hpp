// FINN's hardware nodes: what FINN's streamlining and conversion build each layer from, and
// each node's cycles and resources by FINN's own cost formulas (FINN v0.10.1,
// src/finn/custom_op/fpgadataflow; docs/architecture.md lists them).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hw/device.hpp"
#include "ir/layer.hpp"

namespace hao::hw {

/// FINN node types hao models (the op_type before _hls/_rtl).
enum class FinnOp {
  kThresholding,       ///< a standalone MultiThreshold (input quantizer, after an add, ...)
  kFmPadding,          ///< FMPadding: zero padding of a feature map
  kSwu,                ///< ConvolutionInputGenerator: the sliding-window unit
  kDownSampler,        ///< DownSampler: the input of a 1x1 conv with stride > 1
  kMvau,               ///< MVAU: conv (im2col) and fc
  kVvau,               ///< VVAU: depthwise conv
  kStreamingMaxPool,   ///< max pooling with kernel = stride, no padding
  kPool,               ///< Pool: other pooling, after a sliding-window unit
  kGlobalAccPool,      ///< GlobalAccPool: global average pooling (its sum)
  kAddStreams,         ///< AddStreams: a residual add
  kDuplicateStreams,   ///< DuplicateStreams: a fork to several consumers
  kEltwise,            ///< ElementwiseMul: an element-wise multiply (StreamingEltwise read too)
  kConcat,             ///< StreamingConcat
  kChannelwiseOp,      ///< ChannelwiseOp: a per-channel add or multiply
  kLabelSelect,        ///< LabelSelect: top-k of the classifier's outputs
  kUpsample,           ///< UpsampleNearestNeighbour: nearest-neighbour upsampling
  kFmPaddingPixel,     ///< FMPadding_Pixel: zeros between pixels (a transposed conv's input)
  kFifo,               ///< StreamingFIFO
  kDataWidthConverter  ///< StreamingDataWidthConverter
};

/// FINN's op_type base for `op` ("MVAU", "ConvolutionInputGenerator", ...).
const char* finn_op_base(FinnOp op);
/// The FinnOp of a FINN op_type base, accepting older names (MatrixVectorActivation,
/// StreamingFCLayer, VectorVectorActivation); false when the name is none hao models.
bool finn_op_of(const std::string& base, FinnOp& op);
/// Whether FINN folds the node with PE (else SIMD): MVAU and VVAU take both.
bool folds_with_pe(FinnOp op);

/// One node as hao costs it: its folding and FINN's figures for it.
struct NodeCost {
  FinnOp op = FinnOp::kMvau;
  std::int64_t pe = 1, simd = 1;
  std::int64_t cycles = 0;  ///< FINN's get_exp_cycles
  Resources res;
  bool parallel_window = false;  ///< a sliding-window unit in FINN's parallel_window mode
};

/// A node outside hao's layers (read from a FINN folding file), by its FINN name.
struct NamedNode {
  std::string name;
  NodeCost cost;
  std::string attributes;  ///< the file's attributes for it, as JSON text (written back as read)
  std::string after;       ///< the node it follows in the file ("" when first)
};

/// A sliding window: kernel, strides and dilations.
struct Window {
  std::int64_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, dilation_h = 1,
               dilation_w = 1;
};
/// A conv's or pooling's window.
Window window_of(const ir::Layer& l);

/// Cycles of FINN's ConvolutionInputGenerator_rtl ("default" implementation style; "parallel"
/// for 1x1 kernels) on an input of `in_h` x `in_w` x `channels` (already padded) read `simd`
/// channels wide, for window `w`.
std::int64_t swu_cycles(std::int64_t in_h, std::int64_t in_w, std::int64_t channels,
                        std::int64_t out_h, std::int64_t out_w, const Window& w, std::int64_t simd,
                        bool depthwise);
/// Words in its line buffer ("default" style), each `simd` inputs wide.
std::int64_t swu_buffer_depth(std::int64_t in_w, std::int64_t channels, const Window& w,
                              std::int64_t simd);

/// Resources of a sliding-window unit's line buffer, `width_bits` wide (SIMD x input bits) and
/// `depth` words (swu_buffer_depth), in FINN's ram_style "distributed" (LUTs: width *
/// ceil(depth/38)), "block" or "auto" (RAMB18 by depth-dependent width, cascaded at 16K words),
/// or "ultra" (URAM 4K x 72); ConvolutionInputGenerator_rtl's lut/bram/uram_estimation,
/// default implementation style.
Resources swu_line_buffer(std::int64_t width_bits, std::int64_t depth,
                          const std::string& ram_style);

/// Thresholds per channel for an output of `bits` bits: 2^bits - 1 (FINN's MultiThreshold).
std::int64_t threshold_steps(int bits);

/// FINN's RAMB18 count for a memory `width_bits` wide and `depth` deep (the MVAU's and
/// StreamingFIFO's bram_estimation: FINN-R's aspect-ratio table), in BRAM36 (two per).
double finn_bram36(std::int64_t width_bits, std::int64_t depth);

/// FINN's accumulator width for a dot product of `length` terms of `weight_bits` x
/// `act_bits` (MVAU lut_estimation's bound, arXiv 2301.13376).
std::int64_t finn_accumulator_bits(std::int64_t length, int weight_bits, int act_bits);

/// A standalone Thresholding node over `channels` x `pixels` with `steps` thresholds per
/// channel on inputs of `in_bits`, `pe` channels per cycle (its memories as FINN's
/// Thresholding_rtl estimates them).
NodeCost thresholding_node(std::int64_t channels, std::int64_t pixels, std::int64_t steps,
                           int in_bits, std::int64_t pe);
/// LabelSelect over `labels` classifier outputs, `pe` per cycle.
NodeCost label_select_node(std::int64_t labels, std::int64_t pe);
/// A StreamingFIFO `width_bits` wide and `depth` deep in FINN's `impl_style` ("rtl" or
/// "vivado") and `ram_style` (auto, block, distributed, ultra), as FINN estimates it.
NodeCost fifo_node(std::int64_t width_bits, std::int64_t depth, const std::string& ram_style,
                   const std::string& impl_style);

}  // namespace hao::hw
