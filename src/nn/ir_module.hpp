// An ir::Network as a LibTorch module, for training and measurement on the CPU. Convs carry
// a BatchNorm2d where the IR says a norm is folded into them, and so does an activation the IR
// says a batch norm precedes (its input's channels); the rest maps one to one.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "ir/network.hpp"
#include "ir/qonnx_export.hpp"
#include "ir/weights.hpp"

namespace hao::nn {

/// Batch norms for training where the model has none. PyTorch's default (eval-mode) ONNX
/// export folds every batch norm into the preceding convolution, and a deep network without
/// normalization does not learn from scratch. kAuto gives every convolution a batch norm when
/// no layer of the model carries one; kAlways every convolution that has none; kNever trains
/// the model as it is. Hardware never sees them: deployed, a batch norm folds into the weights.
enum class TrainingNorms { kAuto, kAlways, kNever };
/// "auto", "always" or "never"; InputError naming `where` otherwise.
TrainingNorms parse_training_norms(const std::string& text, const std::string& where);
/// `net` with the batch norms `policy` adds for training (Layer::folded_norm on convolutions).
ir::Network with_training_norms(ir::Network net, TrainingNorms policy);

struct WeightedParams;

class IrNetImpl : public torch::nn::Module {
 public:
  /// Builds the layers of `net` (shapes must be inferred). Throws core::InputError for a
  /// layer it cannot build (naming it).
  explicit IrNetImpl(ir::Network net);

  /// N x C x H x W in, N x classes out (the last layer's output, flattened).
  torch::Tensor forward(torch::Tensor x);
  /// Every layer's output, in layer order (for shape checks and per-layer profiling).
  std::vector<torch::Tensor> forward_all(torch::Tensor x);
  /// forward_all, adding each layer's wall time in seconds to `seconds[i]`.
  std::vector<torch::Tensor> forward_timed(torch::Tensor x, std::vector<double>& seconds);

  const ir::Network& network() const { return net_; }
  /// Sets layer `i`'s weight and input bits (as kQuantized reads them; 16 and more = float).
  void set_bits(std::size_t i, int weight_bits, int act_bits) {
    net_.layers.at(i).weight_bits = weight_bits;
    net_.layers.at(i).act_bits = act_bits;
  }
  /// The per-channel input normalization (x / 255 - mean) / stddev the model was trained with
  /// (set by nn::train, kept in checkpoints); empty when unknown.
  void set_input_normalization(std::vector<float> mean, std::vector<float> stddev) {
    input_mean_ = std::move(mean);
    input_stddev_ = std::move(stddev);
  }
  const std::vector<float>& input_mean() const { return input_mean_; }
  const std::vector<float>& input_stddev() const { return input_stddev_; }
  /// The bits record (bits_record) of the checkpoint last loaded: the bits it was trained at
  /// quantization-aware; empty when it had none (trained float only, or written before hao
  /// kept it).
  const std::string& trained_bits() const { return trained_bits_; }
  void set_trained_bits(std::string record) { trained_bits_ = std::move(record); }
  /// A string that identifies the architecture (layers, ops, shapes): checkpoints carry it.
  std::string signature() const;

  /// The weight tensor of layer `i` (conv or fc); undefined for other layers.
  torch::Tensor weight(std::size_t i) const {
    if (conv_[i]) return conv_[i]->weight;
    if (fc_[i]) return fc_[i]->weight;
    return {};
  }
  /// Layer `i`'s torch modules; empty holders where it has none.
  torch::nn::Conv2d conv(std::size_t i) const { return conv_[i]; }
  /// Layer `i`'s input quantization range [lo, hi] (a buffer); undefined for a layer without
  /// weights.
  torch::Tensor range(std::size_t i) const { return range_[i]; }
  /// A conv's batch norm, or the one before an activation (Layer::folded_norm).
  torch::nn::BatchNorm2d norm(std::size_t i) const { return norm_[i]; }
  torch::nn::Linear fc(std::size_t i) const { return fc_[i]; }

  /// How the network computes.
  enum class Mode {
    kFloat,      ///< float weights and activations, batch norms as layers
    kCalibrate,  ///< float, recording the range of every conv and fc input
    kQuantized,  ///< quantization-aware: see below
  };
  /// In kQuantized every conv and fc reads its input fake-quantized per tensor at the layer's
  /// act_bits (unsigned when the range is non-negative, else signed as the weights) over a
  /// range tracked while training (moving average of min and max, started by kCalibrate), and
  /// uses weights fake-quantized per output channel (zero point 0; symmetric from 4 bits, below
  /// the whole two's-complement grid) at its weight_bits, with its batch norm
  /// folded in from the running statistics (which stay frozen). Gradients pass straight
  /// through the rounding and stop outside the range. Bits of 16 or more stay float.
  /// Throws core::InputError for bits outside 2..8 (or >= 16), naming the layer.
  void set_mode(Mode mode);
  /// Also forgets the weights kQuantized evaluation kept (a batch norm's statistics change in
  /// training mode).
  void train(bool on = true) override;
  /// The check kQuantized makes: every conv's and fc's bits can be trained (2..8, or >= 16).
  void check_trainable_bits() const;
  Mode mode() const { return mode_; }
  /// Layer `i`'s (a conv's or fc's) tensors as weighted_forward takes them.
  WeightedParams params(std::size_t i) const;

 private:
  torch::Tensor run_layer(std::size_t i, const std::vector<torch::Tensor>& outputs,
                          const torch::Tensor& input);

  ir::Network net_;
  std::vector<torch::nn::Conv2d> conv_;  // per layer; empty where none
  std::vector<torch::nn::BatchNorm2d> norm_;
  std::vector<torch::nn::Linear> fc_;
  std::vector<torch::Tensor> range_;  // per weighted layer: its input's quantization range
  Mode mode_ = Mode::kFloat;
  std::vector<float> input_mean_, input_stddev_;
  std::string trained_bits_;
  std::vector<std::size_t> last_use_;  // per layer: the last layer that reads its output
  // Per layer, its quantized_weights while evaluating without gradients, and what they were
  // computed from (the tensors' identities and in-place versions, the bits): an evaluation
  // quantizes each weight once, not once per batch; any change to a tensor recomputes them.
  struct Frozen {
    std::vector<std::int64_t> key;
    std::vector<torch::Tensor> sources;  // kept alive: their addresses are in the key
    torch::Tensor weight, bias;
  };
  std::vector<Frozen> frozen_;
};
TORCH_MODULE(IrNet);

/// A conv's or fc's tensors: the layer's own (IrNet) or a supernet's slice of them.
struct WeightedParams {
  torch::Tensor weight;
  torch::Tensor bias;                                 ///< undefined: none
  torch::Tensor bn_weight, bn_bias, bn_mean, bn_var;  ///< undefined: no batch norm
  double bn_eps = 1e-5, bn_momentum = 0.1;
  torch::Tensor range;  ///< [lo, hi] of the input's quantization (updated in place)
  /// Quantization-aware training with the batch norm on the batch's statistics after the
  /// fake-quantized conv (updating the running ones), not folded from frozen running ones: a
  /// supernet's shared statistics are a mix of its members' and fit none of them. Per output
  /// channel, quantizing w then scaling equals quantizing the folded w (scale-invariant step),
  /// so what is learned carries over to the folded evaluation.
  bool batch_statistics = false;
  /// When defined, kQuantized outside training computes with these (quantized_weights of the
  /// tensors above, kept between batches) instead of quantizing the weights again.
  torch::Tensor frozen_weight, frozen_bias;
};
/// The weight and bias a conv or fc computes with in kQuantized outside training: the batch
/// norm folded in, fake-quantized per output channel (a conv's channels-last).
std::pair<torch::Tensor, torch::Tensor> quantized_weights(const ir::Layer& l,
                                                          const WeightedParams& p);
/// A conv's weights and bias with its batch norm (if any) folded in from the running
/// statistics, as kQuantized computes it and as it is deployed (no bias: zeros).
std::pair<torch::Tensor, torch::Tensor> folded_conv(const ir::Layer& l, const WeightedParams& p);
/// Layer `l` (a conv or fc) on `input` with `p`, as IrNet computes it in `mode` (`training`:
/// batch norm on the batch's statistics, ranges tracked); an fc's output is N x C x 1 x 1.
torch::Tensor weighted_forward(const ir::Layer& l, const torch::Tensor& input,
                               const WeightedParams& p, IrNetImpl::Mode mode, bool training);
/// Convolutions run on channels-last (NHWC) tensors (the default: faster on the CPU) or, off,
/// as LibTorch lays tensors out (NCHW). For benchmarks that compare the two; results agree to
/// float rounding.
void set_conv_channels_last(bool on);
/// Layer `l` without weights (pooling, add, multiply, concat, activation) on its inputs.
torch::Tensor elementwise_forward(const ir::Layer& l, const std::vector<torch::Tensor>& inputs);
/// The range a kCalibrate pass starts from (empty: min above max).
void reset_range(torch::Tensor& range);

/// Per-output-channel fake quantization, zero point 0: to -(2^(bits-1) - 1) .. 2^(bits-1) - 1
/// steps from 4 bits, to the whole two's-complement grid (from -2^(bits-1)) below; with a
/// straight-through gradient; bits >= 16 return `w`. The scale is weight_scale's.
torch::Tensor fake_quant_weight(const torch::Tensor& w, int bits);
/// Per row of `rows` (one output channel each), the quantization step: max |w| / (2^(bits-1) -
/// 1) at 7 bits and more; below, the step with the least squared error among 20 fractions of
/// max |w| (below 4 bits, put at either end of the grid); at 2 bits the largest weight would
/// otherwise round most others to zero.
torch::Tensor weight_scale(const torch::Tensor& rows, int bits);
/// The end of an activation range: the largest |x| at 7 bits and more; below, the clip among 20
/// fractions of it with the least squared quantization error on (a strided sample of) `x`.
double activation_clip(const torch::Tensor& x, int bits, bool is_signed);
/// fake_quant_weight's quantizer of `w` (one scale per output channel), as QONNX's Quant
/// node states it; bits >= 16: none (bits 0).
ir::Quantizer weight_quantizer(const torch::Tensor& w, int bits);
/// fake_quant_act's quantizer of the range [lo, hi] (one scale), as QONNX's Quant node states
/// it; bits >= 16: none (bits 0).
ir::Quantizer act_quantizer(double lo, double hi, int bits);
/// Per-tensor fake quantization over [lo, hi]: 2^bits - 1 steps from 0 when lo >= 0, else a
/// step of max(-lo, hi) / (2^(bits-1) - 1) on fake_quant_weight's grid; the gradient passes
/// inside the range and stops outside it.
torch::Tensor fake_quant_act(const torch::Tensor& x, double lo, double hi, int bits);

/// Copies a model file's weights (ir::import_onnx's) into `model`, built from the same file,
/// so that in eval mode it computes the file's function. A batch norm the file has is loaded
/// as one, or folded into the weights of an fc; one `model` adds for training (where the
/// export folded them away) starts as the identity: scale 1, shift 0, mean 0, variance
/// 1 - eps. Throws core::InputError when a layer is missing from `weights` or its sizes differ.
void load_weights(IrNet& model, const ir::WeightSet& weights);

/// Text kept in a checkpoint as an int8 tensor under `key`.
void write_text(torch::serialize::OutputArchive& archive, const std::string& key,
                const std::string& text);
/// The text under `key`; false when the archive has none.
bool read_text(torch::serialize::InputArchive& archive, const std::string& key, std::string& text);

/// Per weighted layer "name:wXaY", ';'-separated: the bits a quantization-aware checkpoint
/// was trained at (save_checkpoint keeps it).
std::string bits_record(const ir::Network& net);

/// Saves parameters, buffers and the architecture's signature; the input normalization when
/// known; in Mode::kQuantized also the bits (bits_record).
void save_checkpoint(IrNet& model, const std::string& path);
/// Loads a checkpoint into `model` (its input normalization and bits record too, when it has
/// them: IrNetImpl::input_mean, IrNetImpl::trained_bits). Throws
/// core::InputError when the file is not a hao checkpoint or was written for another network.
void load_checkpoint(IrNet& model, const std::string& path);

}  // namespace hao::nn
