// A trained, quantized network as a QONNX model: the ONNX dialect FINN ingests (Quant nodes of
// the domain qonnx.custom_op.general on the weights and on each weighted layer's input).
#pragma once

#include <string>
#include <vector>

#include "ir/network.hpp"

namespace hao::ir {

/// A uniform quantizer as QONNX's Quant node computes it (zero point 0):
/// y = clamp(round_half_even(x / scale), lowest, highest) * scale, where lowest and highest
/// follow from bits, is_signed and narrow (signed narrow: -(2^(b-1) - 1), else -2^(b-1);
/// unsigned: 0 .. 2^b - 1). `scale` has one value (per tensor) or one per output channel.
struct Quantizer {
  int bits = 0;  ///< 0: none (the operand stays float)
  bool is_signed = false;
  bool narrow = false;
  std::vector<float> scale;
};

/// One conv or fc as deployed: the weights with the batch norm folded in, the bias, and the
/// quantizers of the weights and of the layer's input.
struct DeployedLayer {
  std::vector<float> weight;  ///< conv: out x in/groups x kh x kw; fc: out x in
  std::vector<float> bias;    ///< one per output channel; empty: none
  Quantizer weight_quant;     ///< per output channel
  Quantizer input_quant;      ///< per tensor
};

/// What the exported model needs besides the network.
struct DeployedModel {
  /// The model takes raw pixel values (0..255, FINN's UINT8 input) and computes
  /// (x / 255 - mean) / stddev per channel first, as hao feeds its networks.
  std::vector<float> mean, stddev;
  /// By layer index; empty for layers without weights, but for an activation with a batch
  /// norm before it (Layer::folded_norm): `weight` its scale, `bias` its shift per channel.
  std::vector<DeployedLayer> layers;
  std::string producer_version;
};

/// The QONNX domain and its opset version the export declares.
inline constexpr const char* kQonnxDomain = "qonnx.custom_op.general";
/// The standard ONNX opset the export uses.
inline constexpr int kQonnxExportOpset = 13;

/// The serialized ONNX ModelProto of `net` (shapes inferred) computing what `model` says: the
/// input normalization, each layer as the ONNX op (or short chain: HardSwish and SiLU as
/// HardSigmoid / Sigmoid times x; an activation's batch norm as Mul and Add before it) that
/// computes it, a Quant node on each quantized weight tensor and on each quantized conv and fc
/// input, an fc as Flatten + Gemm (transB), the output N x classes ("global_out"). The input
/// "global_in" is N x C x H x W, batch 1, with FINN's datatype annotation UINT8. Throws
/// core::InputError when `model` does not fit `net`.
std::string write_qonnx(const Network& net, const DeployedModel& model);

}  // namespace hao::ir
