// One layer of a network: its operation, shapes, bit-widths and derived counts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hao::ir {

/// Operations hao models. Batch norm is folded into the preceding weighted layer at import,
/// a flatten is implicit in `kFc`, and squeeze-excite is a pattern of these primitives.
/// `kUpsample`: nearest-neighbour upsampling by integer factors (ONNX Resize/Upsample with mode
/// nearest; FINN's UpsampleNearestNeighbour). `kPixelPad`: zeros inserted between pixels,
/// stride_h - 1 between rows and stride_w - 1 between columns (FINN's FMPadding_Pixel); a
/// transposed convolution is a pixel padding and a stride-1 conv, as FINN lowers it.
enum class OpKind {
  kConv,
  kFc,
  kMaxPool,
  kAvgPool,
  kGlobalAvgPool,
  kAdd,
  kMul,
  kConcat,
  kAct,
  kUpsample,
  kPixelPad
};

/// Element-wise activation functions (for `OpKind::kAct`).
enum class ActKind {
  kRelu,
  kRelu6,
  kClip,
  kSigmoid,
  kHardSigmoid,
  kHardSwish,
  kSilu,
  kGelu,
  kLeakyRelu,  ///< x below zero times Layer::negative_slope
  kTanh
};

/// The name used in descriptions and tables ("conv", "global_avgpool", ...).
std::string op_name(OpKind op);
std::string act_name(ActKind act);
/// Hard-swish, SiLU and GELU: x times a gate of x (hard-sigmoid, sigmoid, the normal
/// distribution's cdf 0.5 (1 + erf(x / sqrt 2))). Not monotonic, so FINN
/// cannot turn them into thresholds: a streaming design forks x, thresholds the gate, multiplies
/// and requantizes the product.
bool is_gated(ActKind act);
/// All op / activation names accepted in descriptions, for error messages.
std::vector<std::string> op_names();
std::vector<std::string> act_names();

/// A feature map: channels x height x width (batch 1).
struct Shape {
  std::int64_t c = 0, h = 0, w = 0;
  std::int64_t elements() const { return c * h * w; }
  bool operator==(const Shape& o) const { return c == o.c && h == o.h && w == o.w; }
};
std::string to_string(const Shape& s);

/// Producer index that stands for the network input.
inline constexpr int kNetworkInput = -1;

struct Layer {
  std::string name;
  OpKind op = OpKind::kConv;
  ActKind act = ActKind::kRelu;   ///< only for kAct
  double negative_slope = 0.01;   ///< only for a leaky ReLU: its slope below zero, >= 0
  std::vector<int> inputs;        ///< producer layer indices (kNetworkInput = the input)
  std::int64_t out_channels = 0;  ///< conv and fc: given; other ops: derived
  std::int64_t kernel_h = 1, kernel_w = 1;
  std::int64_t stride_h = 1, stride_w = 1;      ///< a pixel padding: rows and columns apart
  std::int64_t scale_h = 1, scale_w = 1;        ///< only for an upsample: out = in times these
  std::int64_t dilation_h = 1, dilation_w = 1;  ///< only for a conv: its taps this far apart
  std::int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  std::int64_t groups = 1;
  bool depthwise = false;  ///< asks shape inference to set groups = in channels
  bool ceil_mode = false;  ///< pooling output rounding
  bool has_bias = false;
  /// On a conv or fc: a batch norm was folded into this layer. On an activation: a batch norm
  /// (a per-channel affine once trained) precedes it, as in NAS-Bench-201's `lastact`; FINN's
  /// streamlining absorbs it into the activation's thresholds, so no accelerator prices it.
  bool folded_norm = false;
  int weight_bits = 8;  ///< bits of each weight (weighted layers)
  int act_bits = 8;     ///< bits of the activations this layer reads
  // Set by shape inference from the graph's structure (what FINN's streamlining does with it):
  /// An activation whose thresholds the layer before it applies (FINN absorbs a monotonic
  /// activation after a conv, fc or add, whose output nothing else reads, into that layer as
  /// per-channel thresholds): that layer's index; -1 otherwise. A second activation right
  /// after it is not absorbed: FINN's streamlining does not merge consecutive
  /// MultiThresholds, so it becomes a Thresholding node of its own.
  int fused_into = -1;
  bool fused_after_add = false;  ///< on a fused activation: the layer it fuses into is an add
  bool has_fused_act = false;    ///< on a conv, fc or add: an activation is fused into it
  /// On an activation that is not fused: it reads a conv's or fc's accumulator (that layer's
  /// output also goes elsewhere, or the activation is not monotonic), which no thresholds
  /// quantized; not an add's sum (the add requantizes it) nor another activation's output.
  bool reads_accumulator = false;
  /// Layers that read this layer's output: an activation fuses only at 1; at 2 or more FINN
  /// forks the stream with a DuplicateStreams node.
  int fanout = 0;
  /// On a mul: it scales a map by a per-channel gate computed from the whole map (squeeze-
  /// excite's C x 1 x 1 second input), so a streaming design holds the map until the gate comes.
  bool scaled_by_gate = false;

  Shape in;   ///< shape of the first input (filled by shape inference)
  Shape out;  ///< output shape (filled by shape inference)

  bool has_weights() const { return op == OpKind::kConv || op == OpKind::kFc; }
  /// Depthwise: a conv with one input channel per group and groups == in channels.
  bool is_depthwise() const {
    return op == OpKind::kConv && groups > 1 && groups == in.c && out.c == in.c;
  }
  /// Rows and columns a (dilated) conv's or pooling's window spans: (kernel - 1) dilation + 1.
  std::int64_t span_h() const { return (kernel_h - 1) * dilation_h + 1; }
  std::int64_t span_w() const { return (kernel_w - 1) * dilation_w + 1; }
  /// Length of each output's dot product: kh*kw*Cin/groups for conv, C*H*W for fc.
  std::int64_t reduction_size() const;
  /// Multiply-accumulates per frame (conv and fc only; 0 for the rest).
  std::int64_t macs() const;
  /// Weights (no bias).
  std::int64_t weights() const;
  /// Parameters as deployed: weights plus one bias per output channel when there is a bias
  /// or a folded batch norm (an activation's batch norm: none, it becomes its thresholds).
  std::int64_t params_deployed() const;
  /// Parameters as a framework counts them before folding: weights, bias, and batch norm's
  /// scale and shift (2 per channel, also for an activation's batch norm).
  std::int64_t params_trained() const;
};

}  // namespace hao::ir
